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
import * as pb from '../../../src/protocols/ai/pb/ai.js'

const text = (value: unknown): Uint8Array<ArrayBuffer> => new TextEncoder().encode(JSON.stringify(value))

const header: JobHeaderMessage = {
  requestId: 'req-1',
  pipeline: 'upscale',
  modelId: 'esrgan-slim',
  params: { prompt: 'a cat', seed: 7, nested: { list: [1, 'two', null] } },
  deadlineMs: 30_000,
  inputs: [{ field: 'image', filename: 'cat.png', contentType: 'image/png', size: 1234 }],
  payment: new Uint8Array([1, 2, 3])
}

/** The header as its protobuf message, with `params` as JSON bytes, for crafting bad ones. */
const headerPb = (patch: Partial<pb.JobHeader> = {}): Uint8Array =>
  pb.JobHeader.encode({ ...header, params: text(header.params), payment: header.payment ?? undefined, ...patch })

function expectMalformed (fn: () => unknown): void {
  let err: unknown
  try { fn() } catch (e) { err = e }
  expect(err).to.have.property('name', 'AiProtocolError')
  expect(err).to.have.property('code', 'AI_PROTOCOL_ERROR_MALFORMED_FRAME')
}

/** The payload of a whole frame (after its 1-3 byte length and the type byte). */
function payloadOf (frame: Uint8Array): Uint8Array {
  const typeAt = frame[0] < 0x80 ? 1 : frame[1] < 0x80 ? 2 : 3
  return frame.subarray(typeAt + 1)
}

describe('protocols/ai codec', () => {
  it('names the protocol /shoal/ai/2.0.0', () => {
    expect(AI_PROTOCOL).to.equal('/shoal/ai/2.0.0')
  })

  it('prefixes a frame with varint(length incl. type byte) and the type', () => {
    expect([...frameHeader(FrameType.INPUT_END, 0)]).to.deep.equal([1, FrameType.INPUT_END])
    // 300 + 1 = 301 = 0b10_0101101 -> 0xad 0x02
    expect([...frameHeader(FrameType.RESULT_CHUNK, 300)]).to.deep.equal([0xad, 0x02, FrameType.RESULT_CHUNK])
  })

  it('round-trips a JobHeader through its frame, as a protobuf message', () => {
    const frame = encodeJobHeader(header)
    const typeAt = frame[0] < 0x80 ? 1 : frame[1] < 0x80 ? 2 : 3
    expect(frame[typeAt]).to.equal(FrameType.JOB_HEADER)
    expect(decodeJobHeader(payloadOf(frame))).to.deep.equal(header)
    // protobuf, field 1 (requestId) first: tag 0x0a
    expect(payloadOf(frame)[0]).to.equal(0x0a)
    expect(pb.JobHeader.decode(payloadOf(frame)).requestId).to.equal('req-1')
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

  it('refuses a JobHeader with a missing, out-of-range or oversized field', () => {
    const bad: Array<Partial<pb.JobHeader>> = [
      { requestId: '' },
      { requestId: 'has space' },
      { requestId: 'x'.repeat(129) },
      { pipeline: 'Upscale!' },
      { modelId: '' },
      // the shared model id rule: at most 128 printable characters
      { modelId: 'm'.repeat(129) },
      { modelId: 'has space' },
      { params: text([]) },
      { params: text(null) },
      { params: new Uint8Array(0) },
      { params: new Uint8Array([0x7b, 0xff, 0x7d]) },
      { params: text(Object.fromEntries(Array.from({ length: FRAME_LIMITS.maxParams + 1 }, (_, i) => [`k${i}`, i]))) },
      { deadlineMs: 0 },
      { deadlineMs: FRAME_LIMITS.maxDeadlineMs + 1 },
      { inputs: Array.from({ length: FRAME_LIMITS.maxInputs + 1 }, () => header.inputs[0]) },
      { inputs: [{ ...header.inputs[0], field: '' }] },
      { inputs: [{ ...header.inputs[0], filename: 'f'.repeat(FRAME_LIMITS.maxFilenameLength + 1) }] },
      { payment: new Uint8Array(FRAME_LIMITS.maxPaymentBytes + 1) }
    ]
    for (const patch of bad) expectMalformed(() => decodeJobHeader(headerPb(patch)))
  })

  it('refuses params nested deeper than the limit, and bytes that are not protobuf', () => {
    let deep: unknown = 1
    for (let i = 0; i < FRAME_LIMITS.maxJsonDepth + 1; i++) deep = [deep]
    expectMalformed(() => decodeJobHeader(headerPb({ params: text({ deep }) })))
    // a length-delimited field running past the end
    expectMalformed(() => decodeJobHeader(new Uint8Array([0x0a, 0x40, 0x61])))
    // wire type 7 does not exist
    expectMalformed(() => decodeJobHeader(new Uint8Array([0x0f, 0x00])))
    expectMalformed(() => decodeJobHeader(headerPb().subarray(0, 9)))
  })

  it('skips unknown fields (protobuf), so a field can be added without a new version', () => {
    const extra = new Uint8Array([...headerPb(), 0xf8, 0x07, 0x01]) // field 127, varint 1
    expect(decodeJobHeader(extra)).to.deep.equal(header)
  })

  it('checks Hello prices as announcements do (known pipeline, decimal strings)', () => {
    const hello = { version: 2, maxInputBytes: 10, prices: [{ pipeline: 'upscale' as const, modelId: 'm', pricePerUnit: '12', pixelsPerUnit: '1' }], payment: null }
    expect(decodeHello(pb.Hello.encode({ ...hello, payment: undefined }))).to.deep.equal(hello)
    expectMalformed(() => decodeHello(pb.Hello.encode({ ...hello, payment: undefined, prices: [{ ...hello.prices[0], pipeline: 'nope' }] })))
    expectMalformed(() => decodeHello(pb.Hello.encode({ ...hello, payment: undefined, prices: [{ ...hello.prices[0], pricePerUnit: '01' }] })))
    expectMalformed(() => decodeHello(pb.Hello.encode({ ...hello, payment: undefined, prices: [{ ...hello.prices[0], pixelsPerUnit: '0' }] })))
    expectMalformed(() => decodeHello(pb.Hello.encode({ ...hello, payment: undefined, version: 0 })))
    // a custom capability's price per request travels beside the unit price
    const perRequest = { ...hello, prices: [{ pipeline: 'custom' as const, modelId: 'app', pricePerUnit: '1000', pixelsPerUnit: '1000', pricePerRequest: '2500' }] }
    expect(decodeHello(pb.Hello.encode({ ...perRequest, payment: undefined }))).to.deep.equal(perRequest)
    expectMalformed(() => decodeHello(pb.Hello.encode({ ...perRequest, payment: undefined, prices: [{ ...perRequest.prices[0], pricePerRequest: '-1' }] })))
    const tooMany = Array.from({ length: FRAME_LIMITS.maxPrices + 1 }, () => hello.prices[0])
    expectMalformed(() => decodeHello(pb.Hello.encode({ ...hello, payment: undefined, prices: tooMany })))
  })

  it('checks Progress, ResultHead and Final fields', () => {
    expect(decodeProgress(pb.Progress.encode({ stage: 'denoise', fraction: 0.5 }))).to.deep.equal({ stage: 'denoise', fraction: 0.5 })
    expectMalformed(() => decodeProgress(pb.Progress.encode({ stage: 'x', fraction: 2 })))
    expectMalformed(() => decodeProgress(pb.Progress.encode({ stage: '' })))
    expect(decodeResultHead(pb.ResultHead.encode({ status: 200, contentType: 'image/png' }))).to.deep.equal({ status: 200, contentType: 'image/png' })
    expectMalformed(() => decodeResultHead(pb.ResultHead.encode({ status: 99, contentType: 'x' })))
    const receipt = new Uint8Array([9, 9])
    const final = encodeFinal({ code: 'OK', units: 42, receipt })
    expect(decodeFinal(payloadOf(final))).to.deep.equal({ code: 'OK', units: 42, receipt })
    // every outcome of the wire enum round-trips; an unknown or missing code is malformed
    for (const code of ['BAD_REQUEST', 'INSUFFICIENT_CAPACITY', 'RUNNER_FAILURE', 'DEADLINE_EXCEEDED', 'UNSUPPORTED', 'PAYMENT_REQUIRED', 'INTERNAL', 'CANCELLED'] as const) {
      expect(decodeFinal(payloadOf(encodeFinal({ code }))).code).to.equal(code)
    }
    expectMalformed(() => decodeFinal(new Uint8Array([0x08, 0x63])))
    expectMalformed(() => decodeFinal(new Uint8Array(0)))
    expectMalformed(() => decodeFinal(pb.Final.encode({ code: pb.FinalCode.OK, units: -1 })))
    expectMalformed(() => decodeFinal(pb.Final.encode({ code: pb.FinalCode.OK, message: 'x'.repeat(FRAME_LIMITS.maxMessageLength + 1) })))
  })

  it('checks load lists in Hello, Quote and Final: bounded, known pipelines, integer slots', () => {
    const load = [{ pipeline: 'llm' as const, modelId: 'm', capacity: 4, inUse: 1 }]
    const hello = { version: 2, maxInputBytes: 10, prices: [], payment: null, load }
    expect(decodeHello(pb.Hello.encode({ ...hello, payment: undefined, load: { entries: load } }))).to.deep.equal(hello)
    expect(decodeQuote(pb.Quote.encode({ prices: [], load: { entries: load } }))).to.deep.equal({ prices: [], payment: null, load })
    // absent: the orchestrator does not say
    expect(decodeQuote(pb.Quote.encode({ prices: [] }))).to.deep.equal({ prices: [], payment: null })
    expect(decodeFinal(payloadOf(encodeFinal({ code: 'INSUFFICIENT_CAPACITY', load: [{ ...load[0], inUse: 4 }] })))).to.deep.equal({ code: 'INSUFFICIENT_CAPACITY', load: [{ ...load[0], inUse: 4 }] })
    // present and empty: not served there any more
    expect(decodeFinal(payloadOf(encodeFinal({ code: 'UNSUPPORTED', load: [] })))).to.deep.equal({ code: 'UNSUPPORTED', load: [] })
    const bad: pb.ModelLoad[] = [
      { ...load[0], pipeline: 'nope' },
      { ...load[0], capacity: FRAME_LIMITS.maxSlots + 1 },
      { ...load[0], modelId: '' }
    ]
    for (const entry of bad) {
      expectMalformed(() => decodeHello(pb.Hello.encode({ ...hello, payment: undefined, load: { entries: [entry] } })))
      expectMalformed(() => decodeQuote(pb.Quote.encode({ prices: [], load: { entries: [entry] } })))
      expectMalformed(() => decodeFinal(pb.Final.encode({ code: pb.FinalCode.OK, load: { entries: [entry] } })))
    }
    const tooMany = Array.from({ length: FRAME_LIMITS.maxLoads + 1 }, (_, i) => ({ ...load[0], modelId: `m${i}` }))
    expectMalformed(() => decodeQuote(pb.Quote.encode({ prices: [], load: { entries: tooMany } })))
  })

  it('round-trips a QuoteRequest with and without a payer', () => {
    expect([...encodeQuoteRequest()]).to.deep.equal([1, FrameType.QUOTE_REQUEST])
    expect(decodeQuoteRequest(new Uint8Array(0))).to.deep.equal({})
    const payment = new Uint8Array([0x0a, 0x01, 0x01])
    const frame = encodeQuoteRequest({ payment })
    expect(frame[1]).to.equal(FrameType.QUOTE_REQUEST)
    expect(decodeQuoteRequest(frame.subarray(2))).to.deep.equal({ payment })
    expectMalformed(() => decodeQuoteRequest(new Uint8Array([0x0a, 0x05])))
    expectMalformed(() => decodeQuoteRequest(pb.QuoteRequest.encode({ payment: new Uint8Array(FRAME_LIMITS.maxPaymentBytes + 1) })))
  })
})
