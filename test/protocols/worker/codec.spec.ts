import { expect } from 'chai'
import { decodeWorkerMessage, encodeWorkerMessage, WORKER_LIMITS, WORKER_PROTOCOL, type WorkerMessage } from '../../../src/protocols/worker/index.js'
import * as pb from '../../../src/protocols/worker/pb/worker.js'

const runner = { pipeline: 'llm', modelId: 'shoal/noop', capacity: 2, warm: true, runnerVersion: '0.1.0' }

function refused (value: pb.WorkerMessage | Uint8Array): Error {
  try {
    decodeWorkerMessage(value instanceof Uint8Array ? value : pb.WorkerMessage.encode(value))
  } catch (err) {
    return err as Error
  }
  throw new Error('decoded')
}

const register = (runners: pb.WorkerRunner[], version = 2): pb.WorkerMessage => ({ register: { version, runners } })

describe('protocols/worker codec', () => {
  it('names the protocol /shoal/worker/2.0.0', () => {
    expect(WORKER_PROTOCOL).to.equal('/shoal/worker/2.0.0')
  })

  it('round-trips every message type', () => {
    const messages: WorkerMessage[] = [
      { type: 'register', version: 2, runners: [runner, { ...runner, pipeline: 'upscale', modelId: 'x/y', runnerVersion: null, warm: false, capacity: 0 }] },
      { type: 'registered', version: 2, heartbeatIntervalMs: 5000, heartbeatTimeoutMs: 15000 },
      { type: 'refused', code: 'NOT_ALLOWED', message: 'no' },
      { type: 'update', runners: [] },
      { type: 'ping', seq: 0 },
      { type: 'pong', seq: Number.MAX_SAFE_INTEGER }
    ]
    for (const message of messages) expect(decodeWorkerMessage(encodeWorkerMessage(message))).to.deep.equal(message)
  })

  it('refuses an envelope with no message or two', () => {
    for (const bad of [{}, { ping: { seq: 1 }, pong: { seq: 1 } }]) {
      expect(refused(bad), JSON.stringify(bad)).to.include({ name: 'WorkerProtocolError', code: 'WORKER_PROTOCOL_ERROR_MALFORMED_MESSAGE' })
    }
  })

  it('refuses out-of-range values', () => {
    for (const bad of [
      register([], 0),
      register([{ ...runner, capacity: WORKER_LIMITS.maxCapacity + 1 }]),
      register([{ ...runner, pipeline: 'LLM' }]),
      register([{ ...runner, modelId: '' }]),
      register([{ ...runner, modelId: 'a\nb' }]),
      register([{ ...runner, modelId: 'm'.repeat(WORKER_LIMITS.maxModelIdLength + 1) }]),
      register([{ ...runner, runnerVersion: '' }]),
      register([runner, runner]),
      register(Array.from({ length: WORKER_LIMITS.maxRunners + 1 }, (_, i) => ({ ...runner, modelId: `m${i}` }))),
      { registered: { version: 2, heartbeatIntervalMs: 10, heartbeatTimeoutMs: 1000 } },
      { registered: { version: 2, heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 1000 } },
      { refused: { code: pb.RefusalCode.UNSPECIFIED, message: '' } }
    ]) {
      expect(refused(bad), JSON.stringify(bad).slice(0, 120)).to.include({ code: 'WORKER_PROTOCOL_ERROR_MALFORMED_MESSAGE' })
    }
  })

  it('refuses bytes that are not protobuf, and messages over the size limit', () => {
    expect(refused(new Uint8Array([0x0a, 0x7f]))).to.include({ code: 'WORKER_PROTOCOL_ERROR_MALFORMED_MESSAGE' })
    expect(refused(new Uint8Array(WORKER_LIMITS.maxMessageBytes + 1))).to.include({ code: 'WORKER_PROTOCOL_ERROR_MESSAGE_TOO_LARGE' })
    expect(() => encodeWorkerMessage({ type: 'refused', code: 'INVALID', message: 'x'.repeat(WORKER_LIMITS.maxMessageBytes) }))
      .to.throw().with.property('code', 'WORKER_PROTOCOL_ERROR_MESSAGE_TOO_LARGE')
  })

  it('fits the largest legal registration in one message', () => {
    const runners = Array.from({ length: WORKER_LIMITS.maxRunners }, (_, i) => ({
      pipeline: 'image-to-video',
      modelId: `${'m'.repeat(WORKER_LIMITS.maxModelIdLength - 6)}${String(i).padStart(6, '0')}`,
      capacity: WORKER_LIMITS.maxCapacity,
      warm: false,
      runnerVersion: 'v'.repeat(WORKER_LIMITS.maxRunnerVersionLength)
    }))
    const message: WorkerMessage = { type: 'register', version: 2, runners }
    expect(decodeWorkerMessage(encodeWorkerMessage(message))).to.deep.equal(message)
  })
})
