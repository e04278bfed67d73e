import type { Libp2p } from '@libp2p/interface'
import { createNode } from '../../helpers/libp2p.js'
import { Registry } from 'prom-client'
import type { InferenceJob } from '../../../src/kernel/job.js'
import {
  createAiClient,
  createAiMetrics,
  createAiProtocol,
  type AiClient,
  type AiClientInit,
  type AiExecutor,
  type AiMetrics,
  type AiProtocol,
  type AiProtocolInit
} from '../../../src/protocols/ai/index.js'

export interface Pair {
  server: Libp2p
  client: Libp2p
  ai: AiProtocol
  aiClient: AiClient
  serverMetrics: AiMetrics
  clientMetrics: AiMetrics
  serverRegistry: Registry
  clientRegistry: Registry
  stop: () => Promise<void>
}

/** Two real nodes, connected: the server runs the handler with `executor`, the client a pool. */
export async function createPair (init: Omit<AiProtocolInit, 'executor'> & { executor: AiExecutor, client?: AiClientInit }): Promise<Pair> {
  const [server, client] = await Promise.all([createNode(), createNode()])
  const serverRegistry = new Registry()
  const clientRegistry = new Registry()
  const serverMetrics = createAiMetrics(serverRegistry)
  const clientMetrics = createAiMetrics(clientRegistry)
  const ai = createAiProtocol({ registrar: server, metrics: serverMetrics, ...init })
  await ai.start()
  await client.dial(server.getMultiaddrs()[0])
  const aiClient = createAiClient({ dialProtocol: client.dialProtocol.bind(client), metrics: clientMetrics, ...init.client })
  return {
    server,
    client,
    ai,
    aiClient,
    serverMetrics,
    clientMetrics,
    serverRegistry,
    clientRegistry,
    stop: async () => {
      await aiClient.stop()
      await ai.stop()
      await Promise.all([client.stop(), server.stop()])
    }
  }
}

export function bodyOf (...parts: Array<string | Uint8Array>): AsyncIterable<Uint8Array> {
  return (async function * () {
    for (const part of parts) yield typeof part === 'string' ? new TextEncoder().encode(part) : part
  })()
}

export const noopJob = (text = 'hi'): InferenceJob => ({
  pipeline: 'text-to-image',
  modelId: 'noop',
  params: { prompt: text },
  inputs: []
})

export { createNode } from '../../helpers/libp2p.js'
export { metricValue } from '../../helpers/metrics.js'
export { readAll } from '../../helpers/streams.js'
export { waitFor } from '../../helpers/wait-for.js'
