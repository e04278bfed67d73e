import { expect } from 'chai'
import {
  decodeFinal,
  decodeHello,
  decodeJobHeader,
  decodeProgress,
  decodeQuote,
  decodeQuoteRequest,
  decodeResultHead,
  encodeQuoteRequest,
  encodeFinal,
  encodeJobHeader,
  frameHeader,
  FrameType,
  maxPayloadBytes,
  type JobHeaderMessage
} from '../../../src/protocols/ai/codec.js'
import { AI_PROTOCOL, FRAME_LIMITS } from '../../../src/protocols/ai/constants.js'

const enc = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))

const header: JobHeaderMessage = {
  requestId: 'req-1',
  pipeline: 'upscale',
  modelId: 'esrgan-slim',
  params: { prompt: 'a cat', seed: 7, nested: { list: [1, 'two', null] } },
  deadlineMs: 30_000,
  inputs: [{ field: 'image', filename: 'cat.png', contentType: 'image/png', size: 1234 }],
  payment: { tickets: ['0xabc'] }
}

function expectMalformed (fn: () => unknown): void {
  let err: unknown
  try { fn() } catch (e) { err = e }
  expect(err).to.have.property('name', 'AiProtocolError')
  expect(err).to.have.property('code', 'AI_PROTOCOL_ERROR_MALFORMED_FRAME')
}

describe('protocols/ai codec', () => {
  it('names the protocol /shoal/ai/1.0.0', () => {
    expect(AI_PROTOCOL).to.equal('/shoal/ai/1.0.0')
  })

  it('prefixes a frame with varint(length incl. type byte) and the type', () => {
    expect([...frameHeader(FrameType.INPUT_END, 0)]).to.deep.equal([1, FrameType.INPUT_END])
    // 300 + 1 = 301 = 0b10_0101101 -> 0xad 0x02
    expect([...frameHeader(FrameType.RESULT_CHUNK, 300)]).to.deep.equal([0xad, 0x02, FrameType.RESULT_CHUNK])
  })

  it('round-trips a JobHeader through its frame', () => {
    const frame = encodeJobHeader(header)
    // 1-2 bytes of length, then the type, then JSON
    const typeAt = frame[0] < 0x80 ? 1 : frame[1] < 0x80 ? 2 : 3
    expect(frame[typeAt]).to.equal(FrameType.JOB_HEADER)
    expect(decodeJobHeader(frame.subarray(typeAt + 1))).to.deep.equal(header)
  })

  it('bounds payloads per frame type: data 256 KiB, control 1 MiB, empty 0, unknown none', () => {
    expect(maxPayloadBytes(FrameType.INPUT_CHUNK)).to.equal(256 * 1024)
    expect(maxPayloadBytes(FrameType.RESULT_CHUNK)).to.equal(256 * 1024)
    expect(maxPayloadBytes(FrameType.JOB_HEADER)).to.equal(FRAME_LIMITS.maxControlFrameBytes)
    expect(maxPayloadBytes(FrameType.CANCEL)).to.equal(0)
    expect(maxPayloadBytes(FrameType.INPUT_END)).to.equal(0)
    // a QuoteRequest may name who pays
    expect(maxPayloadBytes(FrameType.QUOTE_REQUEST)).to.equal(FRAME_LIMITS.maxControlFrameBytes)
    expect(maxPayloadBytes(0x7f)).to.equal(undefined)
  })

  it('refuses a JobHeader with a missing, mistyped, oversized or unknown field', () => {
    const bad: Array<Record<string, unknown>> = [
      { ...header, requestId: undefined },
      { ...header, requestId: 'has space' },
      { ...header, requestId: 'x'.repeat(129) },
      { ...header, pipeline: 'Upscale!' },
      { ...header, modelId: '' },
      { ...header, params: [] },
      { ...header, params: null },
      { ...header, deadlineMs: 0 },
      { ...header, deadlineMs: 1.5 },
      { ...header, deadlineMs: FRAME_LIMITS.maxDeadlineMs + 1 },
      { ...header, inputs: {} },
      { ...header, inputs: Array.from({ length: 17 }, () => header.inputs[0]) },
      { ...header, inputs: [{ ...header.inputs[0], size: -1 }] },
      { ...header, inputs: [{ ...header.inputs[0], size: '12' }] },
      { ...header, inputs: [{ ...header.inputs[0], field: '' }] },
      { ...header, inputs: [{ ...header.inputs[0], extra: 1 }] },
      { ...header, payment: undefined },
      { ...header, surprise: true }
    ]
    for (const value of bad) expectMalformed(() => decodeJobHeader(enc(value)))
  })

  it('refuses JSON nested deeper than the limit, non-objects and invalid UTF-8', () => {
    let deep: unknown = 1
    for (let i = 0; i < FRAME_LIMITS.maxJsonDepth + 1; i++) deep = [deep]
    expectMalformed(() => decodeJobHeader(enc({ ...header, payment: deep })))
    expectMalformed(() => decodeJobHeader(enc([header])))
    expectMalformed(() => decodeJobHeader(new Uint8Array([0x7b, 0xff, 0x7d])))
    expectMalformed(() => decodeJobHeader(new TextEncoder().encode('{"requestId":')))
  })

  it('checks Hello prices as announcements do (known pipeline, decimal strings)', () => {
    const hello = { version: 1, maxInputBytes: 10, prices: [{ pipeline: 'upscale', modelId: 'm', pricePerUnit: '12', pixelsPerUnit: '1' }], payment: null }
    expect(decodeHello(enc(hello))).to.deep.equal(hello)
    expectMalformed(() => decodeHello(enc({ ...hello, prices: [{ ...hello.prices[0], pipeline: 'nope' }] })))
    expectMalformed(() => decodeHello(enc({ ...hello, prices: [{ ...hello.prices[0], pricePerUnit: '01' }] })))
    expectMalformed(() => decodeHello(enc({ ...hello, prices: [{ ...hello.prices[0], pixelsPerUnit: '0' }] })))
    expectMalformed(() => decodeHello(enc({ ...hello, version: 0 })))
  })

  it('checks Progress, ResultHead and Final fields', () => {
    expect(decodeProgress(enc({ stage: 'denoise', fraction: 0.5 }))).to.deep.equal({ stage: 'denoise', fraction: 0.5 })
    expectMalformed(() => decodeProgress(enc({ stage: 'x', fraction: 2 })))
    expectMalformed(() => decodeProgress(enc({ stage: '' })))
    expect(decodeResultHead(enc({ status: 200, contentType: 'image/png' }))).to.deep.equal({ status: 200, contentType: 'image/png' })
    expectMalformed(() => decodeResultHead(enc({ status: 99, contentType: 'x' })))
    const final = encodeFinal({ code: 'OK', units: 42, receipt: { balance: '10' } })
    expect(decodeFinal(final.subarray(2))).to.deep.equal({ code: 'OK', units: 42, receipt: { balance: '10' } })
    expectMalformed(() => decodeFinal(enc({ code: 'MAYBE' })))
    expectMalformed(() => decodeFinal(enc({ code: 'OK', units: -1 })))
    expectMalformed(() => decodeFinal(enc({ code: 'OK', message: 'x'.repeat(FRAME_LIMITS.maxMessageLength + 1) })))
  })

  it('checks load lists in Hello, Quote and Final: bounded, known pipelines, integer slots, nothing extra', () => {
    const load = [{ pipeline: 'llm', modelId: 'm', capacity: 4, inUse: 1 }]
    const hello = { version: 1, maxInputBytes: 10, prices: [], payment: null, load }
    expect(decodeHello(enc(hello))).to.deep.equal(hello)
    expect(decodeQuote(enc({ prices: [], payment: null, load }))).to.deep.equal({ prices: [], payment: null, load })
    // absent: the orchestrator does not say
    expect(decodeQuote(enc({ prices: [], payment: null }))).to.deep.equal({ prices: [], payment: null })
    expect(decodeFinal(enc({ code: 'INSUFFICIENT_CAPACITY', load: [{ ...load[0], inUse: 4 }] }))).to.deep.equal({ code: 'INSUFFICIENT_CAPACITY', load: [{ ...load[0], inUse: 4 }] })
    expect(decodeFinal(enc({ code: 'UNSUPPORTED', load: [] }))).to.deep.equal({ code: 'UNSUPPORTED', load: [] })
    const bad: unknown[] = [
      { ...load[0], pipeline: 'nope' },
      { ...load[0], capacity: -1 },
      { ...load[0], inUse: 1.5 },
      { ...load[0], capacity: FRAME_LIMITS.maxSlots + 1 },
      { ...load[0], modelId: '' },
      { ...load[0], extra: 1 },
      { pipeline: 'llm', modelId: 'm', capacity: 1 }
    ]
    for (const entry of bad) {
      expectMalformed(() => decodeHello(enc({ ...hello, load: [entry] })))
      expectMalformed(() => decodeQuote(enc({ prices: [], payment: null, load: [entry] })))
      expectMalformed(() => decodeFinal(enc({ code: 'OK', load: [entry] })))
    }
    expectMalformed(() => decodeHello(enc({ ...hello, load: {} })))
    const tooMany = Array.from({ length: FRAME_LIMITS.maxLoads + 1 }, (_, i) => ({ ...load[0], modelId: `m${i}` }))
    expectMalformed(() => decodeQuote(enc({ prices: [], payment: null, load: tooMany })))
  })

  it('round-trips a QuoteRequest with and without a payer; refuses anything else in it', () => {
    expect([...encodeQuoteRequest()]).to.deep.equal([1, FrameType.QUOTE_REQUEST])
    expect(decodeQuoteRequest(new Uint8Array(0))).to.deep.equal({})
    const frame = encodeQuoteRequest({ payment: { sender: '0x01', binding: '0x02', tickets: null } })
    expect(frame[1]).to.equal(FrameType.QUOTE_REQUEST)
    expect(decodeQuoteRequest(frame.subarray(2))).to.deep.equal({ payment: { sender: '0x01', binding: '0x02', tickets: null } })
    expectMalformed(() => decodeQuoteRequest(enc({ payment: 1, extra: true })))
    expectMalformed(() => decodeQuoteRequest(enc([1])))
  })
})
