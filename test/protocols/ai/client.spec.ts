import type { Libp2p, Stream } from '@libp2p/interface'
import { expect } from 'chai'
import { WIRE_VERSION } from '../../../src/protocols/ai/constants.js'
import { Registry } from 'prom-client'
import {
  encodeFinal,
  encodeHello,
  encodeResultHead,
  frameHeader,
  FrameType,
  type FrameTypeValue
} from '../../../src/protocols/ai/codec.js'
import { FrameStream } from '../../../src/protocols/ai/frame-stream.js'
import { AI_PROTOCOL, createAiClient, createAiMetrics, type AiClient } from '../../../src/protocols/ai/index.js'
import { createNode, metricValue, noopJob, readAll } from './helpers.js'

/**
 * A hand-written server: Hello, then for each job the frames `answer` returns for it
 * (after InputEnd), or a close/garbage chosen by the test. It checks the client's
 * side of the protocol against frames the real handler would never send.
 */
type Answer = (stream: number, job: number) => Uint8Array[] | 'close'

describe('protocols/ai client against a scripted server', function () {
  this.timeout(20_000)
  let server: Libp2p
  let client: Libp2p
  let ai: AiClient
  let registry: Registry
  let answer: Answer
  let streams = 0

  before(async () => {
    ;[server, client] = await Promise.all([createNode(), createNode()])
    await server.handle(AI_PROTOCOL, async (stream: Stream) => {
      const n = ++streams
      const frames = new FrameStream(stream)
      frames.write(encodeHello({ version: WIRE_VERSION, maxInputBytes: 1024 * 1024, prices: [], payment: null }))
      let jobs = 0
      try {
        while (true) {
          const frame = await frames.next()
          if (frame === null) break
          if (frame.type === FrameType.JOB_HEADER) jobs++
          if (frame.type !== FrameType.INPUT_END) continue
          const reply = answer(n, jobs)
          if (reply === 'close') { await frames.close(); continue }
          for (const bytes of reply) frames.write(bytes)
        }
        await frames.close()
      } catch {}
    }, { maxInboundStreams: 64 })
    await client.dial(server.getMultiaddrs()[0])
    registry = new Registry()
    ai = createAiClient({ dialProtocol: client.dialProtocol.bind(client), metrics: createAiMetrics(registry) })
  })
  after(async () => {
    await ai.stop()
    await Promise.all([client.stop(), server.stop()])
  })

  const ok = (text: string): Uint8Array[] => {
    const body = new TextEncoder().encode(text)
    return [encodeResultHead({ status: 200, contentType: 'text/plain' }), frameHeader(FrameType.RESULT_CHUNK, body.byteLength), body, encodeFinal({ code: 'OK', units: 1 })]
  }

  it('retries once on a fresh stream when a reused one was closed before any answer', async () => {
    answer = (stream, job) => stream === 1 && job === 2 ? 'close' : ok(`stream ${stream} job ${job}`)
    const first = await ai.runJob(server.peerId, noopJob())
    expect(Buffer.from(await readAll(first.body)).toString()).to.equal('stream 1 job 1')
    // the server closes stream 1 when the second job arrives on it: the client moves to stream 2
    const second = await ai.runJob(server.peerId, noopJob())
    expect(Buffer.from(await readAll(second.body)).toString()).to.equal('stream 2 job 1')
    expect(await metricValue(registry, 'shoal_ai_client_stream_acquisitions_total', { kind: 'opened' })).to.equal(2)
  })

  const broken: Array<[string, () => Uint8Array[]]> = [
    ['a ResultChunk before ResultHead', () => [frameHeader(FrameType.RESULT_CHUNK, 1), new Uint8Array([1])]],
    ['Final OK without ResultHead', () => [encodeFinal({ code: 'OK' })]],
    ['a malformed ResultHead', () => [frameHeader(FrameType.RESULT_HEAD, 2), new TextEncoder().encode('{}')]],
    ['a frame type the client never receives', () => [frameHeader(FrameType.JOB_HEADER as FrameTypeValue, 2), new TextEncoder().encode('{}')]],
    ['an unknown frame type', () => [new Uint8Array([1, 0x55])]],
    ['a second Hello', () => [encodeHello({ version: WIRE_VERSION, maxInputBytes: 1, prices: [], payment: null })]]
  ]
  for (const [what, frames] of broken) {
    it(`resets the stream and throws UnreachableError on ${what}; the connection lives on`, async () => {
      const connection = client.getConnections(server.peerId)[0]
      // make sure the job runs on a stream that has already seen its Hello
      answer = (_stream, job) => job === 1 ? ok('warm') : frames()
      streams = 0
      const fresh = createAiClient({ dialProtocol: client.dialProtocol.bind(client) })
      try {
        await readAll((await fresh.runJob(server.peerId, noopJob())).body)
        const err = await fresh.runJob(server.peerId, noopJob()).catch(e => e)
        expect(err).to.have.property('name', 'UnreachableError')
        expect(err).to.have.property('code', 'JOB_ERROR_UNREACHABLE')
        expect(fresh.streamCount(server.peerId).open).to.equal(0)
        expect(client.getConnections(server.peerId).map(c => c.id)).to.deep.equal([connection.id])
      } finally {
        await fresh.stop()
      }
    })
  }

  it('hands a late error Final to the body reader as the typed error', async () => {
    answer = () => {
      const body = new Uint8Array([1, 2, 3])
      return [encodeResultHead({ status: 200, contentType: 'x' }), frameHeader(FrameType.RESULT_CHUNK, 3), body, encodeFinal({ code: 'INSUFFICIENT_CAPACITY', message: 'gone' })]
    }
    const res = await ai.runJob(server.peerId, noopJob())
    const parts: Uint8Array[] = []
    const err = await (async () => { for await (const p of res.body) parts.push(p) })().catch(e => e)
    expect(parts.map(p => [...p])).to.deep.equal([[1, 2, 3]])
    expect(err).to.have.property('name', 'InsufficientCapacityError')
    expect(err.message).to.include('gone')
  })
})
