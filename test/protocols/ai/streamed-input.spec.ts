import { expect } from 'chai'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { wholeInput, type InferenceJob, type StreamedBytes } from '../../../src/kernel/job.js'
import { createAiClient, createAiMetrics, createAiProtocol, type AiExecutor } from '../../../src/protocols/ai/index.js'
import { Registry } from 'prom-client'
import { bodyOf, createNode, metricValue, readAll, waitFor } from './helpers.js'

/** A streamed input of `parts` chunks of `size` bytes; the chunks after `free` wait for `release()`. */
function streamed (parts: number, size: number, free: number): StreamedBytes & { release: () => void, reads: () => number } {
  const gate = Promise.withResolvers<void>()
  let reads = 0
  return {
    streamed: true,
    byteLength: parts * size,
    replayable: false,
    read: () => (async function * () {
      reads++
      for (let i = 0; i < parts; i++) {
        if (i === free) await gate.promise
        yield new Uint8Array(size).fill(i % 256)
      }
    })(),
    release: () => { gate.resolve() },
    reads: () => reads
  }
}

describe('protocols/ai: a streamed input (a custom capability body sent as it arrives)', function () {
  this.timeout(30_000)

  it('is sent while it is still being read, arrives whole, and the signed receipt covers it', async () => {
    const serverKey = await generateKeyPair('Ed25519')
    const [server, client] = await Promise.all([createNode({ privateKey: serverKey }), createNode()])
    let received: Buffer | undefined
    const executor: AiExecutor = {
      execute: async (job: InferenceJob) => {
        const input = job.inputs[0]
        received = input === undefined ? undefined : Buffer.from(wholeInput(input.data).subarray())
        return { status: 200, contentType: 'text/plain', body: bodyOf(`got ${received?.byteLength ?? 0}`) }
      }
    }
    const serverRegistry = new Registry()
    const ai = createAiProtocol({ registrar: server, executor, metrics: createAiMetrics(serverRegistry), receipts: { peerId: peerIdFromPrivateKey(serverKey).toString(), privateKey: serverKey } })
    await ai.start()
    await client.dial(server.getMultiaddrs()[0])
    const aiClient = createAiClient({ dialProtocol: client.dialProtocol.bind(client), receipts: 'require' })
    try {
      const data = streamed(40, 16 * 1024, 20)
      const job: InferenceJob = { pipeline: 'custom', modelId: 'app', params: { path: '/echo', timeout_ms: 10_000 }, inputs: [{ field: 'body', filename: 'body', contentType: 'application/octet-stream', data }] }
      const running = aiClient.runJob(server.peerId, job, { requestId: 'streamed-1' })
      // the first half reaches the orchestrator before the rest exists
      await waitFor(async () => await metricValue(serverRegistry, 'shoal_ai_server_input_bytes_total') >= 20 * 16 * 1024, 10_000, 'the first half at the server')
      data.release()
      const res = await running
      expect(Buffer.from(await readAll(res.body)).toString()).to.equal(`got ${40 * 16 * 1024}`)
      expect(received?.equals(Buffer.concat(Array.from({ length: 40 }, (_, i) => new Uint8Array(16 * 1024).fill(i))))).to.equal(true)
      // the receipt names the input by its hash, computed as it was sent (its bytes are not kept)
      const final = await res.final
      expect(final.signedReceipt?.requestId).to.equal('streamed-1')
      expect(data.reads()).to.equal(1)
    } finally {
      await aiClient.stop()
      await ai.stop()
      await Promise.all([client.stop(), server.stop()])
    }
  })
})
