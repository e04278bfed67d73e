import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
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

/** A bare libp2p node on 127.0.0.1 (TCP, noise, yamux): all the protocol needs. */
export async function createNode (): Promise<Libp2p> {
  return await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  })
}

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

export async function readAll (body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const part of body) parts.push(part)
  return Buffer.concat(parts)
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

export async function metricValue (registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get()
  if (metric === undefined) return 0
  return metric.values
    .filter(v => Object.entries(labels).every(([k, val]) => (v.labels as Record<string, unknown>)[k] === val))
    .filter(v => !('metricName' in v) || v.metricName === undefined || !String(v.metricName).endsWith('_bucket'))
    .reduce((sum, v) => sum + v.value, 0)
}

export async function waitFor (check: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}
