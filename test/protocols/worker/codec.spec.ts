import { expect } from 'chai'
import { decodeWorkerMessage, encodeWorkerMessage, WORKER_LIMITS, type WorkerMessage } from '../../../src/protocols/worker/index.js'

const bytes = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))
const runner = { pipeline: 'llm', modelId: 'shoal/noop', capacity: 2, warm: true, runnerVersion: '0.1.0' }

function refused (value: unknown): Error {
  try {
    decodeWorkerMessage(value instanceof Uint8Array ? value : bytes(value))
  } catch (err) {
    return err as Error
  }
  throw new Error('decoded')
}

describe('protocols/worker codec', () => {
  it('round-trips every message type', () => {
    const messages: WorkerMessage[] = [
      { type: 'register', version: 1, runners: [runner, { ...runner, pipeline: 'upscale', modelId: 'x/y', runnerVersion: null, warm: false, capacity: 0 }] },
      { type: 'registered', version: 1, heartbeatIntervalMs: 5000, heartbeatTimeoutMs: 15000 },
      { type: 'refused', code: 'NOT_ALLOWED', message: 'no' },
      { type: 'update', runners: [] },
      { type: 'ping', seq: 0 },
      { type: 'pong', seq: Number.MAX_SAFE_INTEGER }
    ]
    for (const message of messages) expect(decodeWorkerMessage(encodeWorkerMessage(message))).to.deep.equal(message)
  })

  it('refuses unknown fields, missing fields and unknown types', () => {
    for (const bad of [
      { type: 'ping', seq: 1, extra: true },
      { type: 'ping' },
      { type: 'register', version: 1, runners: [{ ...runner, gpu: 0 }] },
      { type: 'register', version: 1, runners: [{ pipeline: 'llm', modelId: 'm', capacity: 1, warm: true }] },
      { type: 'hello' },
      { seq: 1 },
      [1, 2],
      'ping'
    ]) {
      expect(refused(bad), JSON.stringify(bad)).to.include({ name: 'WorkerProtocolError', code: 'WORKER_PROTOCOL_ERROR_MALFORMED_MESSAGE' })
    }
  })

  it('refuses out-of-range values', () => {
    for (const bad of [
      { type: 'register', version: 0, runners: [] },
      { type: 'register', version: 1, runners: [{ ...runner, capacity: -1 }] },
      { type: 'register', version: 1, runners: [{ ...runner, capacity: WORKER_LIMITS.maxCapacity + 1 }] },
      { type: 'register', version: 1, runners: [{ ...runner, capacity: 1.5 }] },
      { type: 'register', version: 1, runners: [{ ...runner, warm: 'yes' }] },
      { type: 'register', version: 1, runners: [{ ...runner, pipeline: 'LLM' }] },
      { type: 'register', version: 1, runners: [{ ...runner, modelId: '' }] },
      { type: 'register', version: 1, runners: [{ ...runner, modelId: 'a\nb' }] },
      { type: 'register', version: 1, runners: [{ ...runner, modelId: 'm'.repeat(WORKER_LIMITS.maxModelIdLength + 1) }] },
      { type: 'register', version: 1, runners: [runner, runner] },
      { type: 'register', version: 1, runners: Array.from({ length: WORKER_LIMITS.maxRunners + 1 }, (_, i) => ({ ...runner, modelId: `m${i}` })) },
      { type: 'registered', version: 1, heartbeatIntervalMs: 10, heartbeatTimeoutMs: 1000 },
      { type: 'registered', version: 1, heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 1000 },
      { type: 'refused', code: 'MAYBE', message: '' },
      { type: 'ping', seq: -1 }
    ]) {
      expect(refused(bad), JSON.stringify(bad).slice(0, 120)).to.include({ code: 'WORKER_PROTOCOL_ERROR_MALFORMED_MESSAGE' })
    }
  })

  it('refuses bytes that are not UTF-8 JSON, and messages over the size limit', () => {
    expect(refused(new Uint8Array([0xff, 0xfe]))).to.include({ code: 'WORKER_PROTOCOL_ERROR_MALFORMED_MESSAGE' })
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
    const message: WorkerMessage = { type: 'register', version: 1, runners }
    expect(decodeWorkerMessage(encodeWorkerMessage(message))).to.deep.equal(message)
  })
})
