/**
 * The `/shoal/ai/2.0.0` frames and their strict validation.
 *
 * Every frame is `varint(length) | type | payload`, where `length` counts the type byte
 * and the payload. InputChunk and ResultChunk carry raw bytes; InputEnd and Cancel carry
 * nothing; every other frame carries one protobuf message of `pb/ai.proto`. protons
 * decodes it (bounding repeated fields as it reads), then every field is checked here
 * against `FRAME_LIMITS` and the identifier rules: nothing trusts a peer's bytes.
 * Payment fields are opaque bytes here (messages of `payments/pb/payment.proto`).
 */
import type { Uint8ArrayList } from 'uint8arraylist'
import { isPipelineName, type PipelineName } from '../../kernel/pipelines.js'
import type { JsonValue } from '../../kernel/job.js'
import { isModelId } from '../../kernel/identifiers.js'
import { FINAL_CODES, FRAME_LIMITS, type FinalCode } from './constants.js'
import { AiProtocolError } from './errors.js'
import * as pb from './pb/ai.js'
import { RECEIPT_LIMITS } from '../../trust/receipts/index.js'

export const FrameType = {
  /** server -> client, first frame of every stream: version, limits and a quote */
  HELLO: 0x01,
  /** client -> server: ask for a fresh quote, optionally naming who will pay */
  QUOTE_REQUEST: 0x02,
  /** server -> client: the answer to QuoteRequest */
  QUOTE: 0x03,
  /** client -> server: starts a job */
  JOB_HEADER: 0x10,
  /** client -> server: raw input bytes, the inputs of the header concatenated in order */
  INPUT_CHUNK: 0x11,
  /** client -> server: no more input for this job (no payload) */
  INPUT_END: 0x12,
  /** client -> server: stop the current job (no payload); ignored between jobs */
  CANCEL: 0x13,
  /** server -> client */
  PROGRESS: 0x20,
  /** server -> client: the runner's status and content type, before the body */
  RESULT_HEAD: 0x21,
  /** server -> client: raw result bytes */
  RESULT_CHUNK: 0x22,
  /** server -> client: the job's outcome; the stream is free for the next job after it */
  FINAL: 0x23
} as const

export type FrameTypeValue = typeof FrameType[keyof typeof FrameType]
export type FrameTypeName = keyof typeof FrameType

const FRAME_NAMES = new Map<number, FrameTypeName>(Object.entries(FrameType).map(([name, value]) => [value, name as FrameTypeName]))

export function frameTypeName (type: number): FrameTypeName | undefined {
  return FRAME_NAMES.get(type)
}

const DATA_TYPES = new Set<number>([FrameType.INPUT_CHUNK, FrameType.RESULT_CHUNK])
const EMPTY_TYPES = new Set<number>([FrameType.INPUT_END, FrameType.CANCEL])

/** The largest payload a frame of this type may carry, or undefined for an unknown type. */
export function maxPayloadBytes (type: number, maxDataFrameBytes: number = FRAME_LIMITS.maxDataFrameBytes): number | undefined {
  if (!FRAME_NAMES.has(type)) return undefined
  if (DATA_TYPES.has(type)) return maxDataFrameBytes
  if (EMPTY_TYPES.has(type)) return 0
  return FRAME_LIMITS.maxControlFrameBytes
}

export { FINAL_CODES, FINAL_ERROR_CODES, type FinalCode, type FinalErrorCode } from './constants.js'

/** An encoded payment message (payments/pb/payment.proto), opaque to this protocol. */
export type PaymentBytes = Uint8Array<ArrayBuffer>

/** What one (pipeline, model) costs: `pricePerUnit` wei per `pixelsPerUnit` units, as in announcements, plus `pricePerRequest` wei per job when set. */
export interface AiPrice {
  pipeline: PipelineName
  modelId: string
  pricePerUnit: string
  pixelsPerUnit: string
  pricePerRequest?: string
}

/**
 * Live slots of one (pipeline, model) on the orchestrator when the frame was sent. Only
 * gateways holding a `/shoal/ai` connection see these; gossip carries a coarse state.
 */
export interface ModelLoad {
  pipeline: PipelineName
  modelId: string
  /** jobs that may run at once */
  capacity: number
  /** jobs running now */
  inUse: number
}

/** Prices plus payment parameters (the orchestrator's ticket params, opaque here), and live load. */
export interface AiQuote {
  prices: AiPrice[]
  payment: PaymentBytes | null
  /** every (pipeline, model) served, with its slots; absent from an orchestrator that does not say */
  load?: ModelLoad[]
}

/** `QuoteRequest`'s payload. */
export interface QuoteRequestMessage {
  /** who will pay (the gateway's address and binding), so the quote can carry params for it */
  payment?: PaymentBytes
}

export interface HelloMessage extends AiQuote {
  version: number
  /** the most input bytes one job may carry on this stream */
  maxInputBytes: number
}

export interface InputMeta {
  field: string
  filename: string
  contentType: string
  size: number
}

export interface JobHeaderMessage {
  requestId: string
  /** checked against the known pipelines by the handler (unknown: Final UNSUPPORTED) */
  pipeline: string
  modelId: string
  params: Record<string, JsonValue>
  /** the job's budget in ms, counted by each side from when it sends/receives the header */
  deadlineMs: number
  inputs: InputMeta[]
  /** payment (tickets) for this job */
  payment: PaymentBytes | null
}

export interface ProgressMessage {
  stage: string
  /** 0..1 */
  fraction?: number
}

export interface ResultHeadMessage {
  status: number
  contentType: string
}

export interface FinalMessage {
  code: FinalCode
  message?: string
  /** units of work actually done (pixels, tokens, ...), for payment accounting */
  units?: number
  /** receipt (the payment balance after debit), opaque here */
  receipt?: PaymentBytes
  /** the job's (pipeline, model) slots after this job (empty when not served there) */
  load?: ModelLoad[]
  /** trust.SignedReceipt, opaque here (checked by the client with src/trust/receipts) */
  signedReceipt?: Uint8Array<ArrayBuffer>
}

// ---------------------------------------------------------------------------
// encoding

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

function varintLength (value: number): number {
  let n = 1
  while (value >= 0x80) { value = Math.floor(value / 128); n++ }
  return n
}

function writeFrameHeader (out: Uint8Array, type: number, length: number): number {
  let i = 0
  while (length >= 0x80) {
    out[i++] = (length & 0x7f) | 0x80
    length = Math.floor(length / 128)
  }
  out[i++] = length
  out[i++] = type
  return i
}

/** `varint(payloadLength + 1) | type`: the bytes that precede a payload. */
export function frameHeader (type: FrameTypeValue, payloadLength: number): Uint8Array {
  const out = new Uint8Array(varintLength(payloadLength + 1) + 1)
  writeFrameHeader(out, type, payloadLength + 1)
  return out
}

/** A whole frame with no payload (InputEnd, Cancel, or a QuoteRequest that names no payer). */
export function encodeEmpty (type: typeof FrameType.INPUT_END | typeof FrameType.QUOTE_REQUEST | typeof FrameType.CANCEL): Uint8Array {
  return frameHeader(type, 0)
}

function frame (type: FrameTypeValue, body: Uint8Array): Uint8Array {
  if (body.byteLength > FRAME_LIMITS.maxControlFrameBytes) {
    throw new AiProtocolError('AI_PROTOCOL_ERROR_FRAME_TOO_LARGE', `${frameTypeName(type) ?? type} frame of ${body.byteLength} bytes exceeds ${FRAME_LIMITS.maxControlFrameBytes}`)
  }
  const out = new Uint8Array(varintLength(body.byteLength + 1) + 1 + body.byteLength)
  out.set(body, writeFrameHeader(out, type, body.byteLength + 1))
  return out
}

const loadsOf = (load: ModelLoad[] | undefined): pb.Loads | undefined => load === undefined ? undefined : { entries: load }
const bytesOf = (payment: PaymentBytes | null | undefined): PaymentBytes | undefined => payment ?? undefined

export const encodeHello = (m: HelloMessage): Uint8Array =>
  frame(FrameType.HELLO, pb.Hello.encode({ version: m.version, maxInputBytes: m.maxInputBytes, prices: m.prices, payment: bytesOf(m.payment), load: loadsOf(m.load) }))
export const encodeQuote = (m: AiQuote): Uint8Array =>
  frame(FrameType.QUOTE, pb.Quote.encode({ prices: m.prices, payment: bytesOf(m.payment), load: loadsOf(m.load) }))
/** A QuoteRequest naming who will pay; without a payer it is an empty frame. */
export const encodeQuoteRequest = (m: QuoteRequestMessage = {}): Uint8Array =>
  frame(FrameType.QUOTE_REQUEST, pb.QuoteRequest.encode({ payment: m.payment }))
export const encodeJobHeader = (m: JobHeaderMessage): Uint8Array =>
  frame(FrameType.JOB_HEADER, pb.JobHeader.encode({
    requestId: m.requestId,
    pipeline: m.pipeline,
    modelId: m.modelId,
    params: encoder.encode(JSON.stringify(m.params)),
    deadlineMs: m.deadlineMs,
    inputs: m.inputs,
    payment: bytesOf(m.payment)
  }))
export const encodeProgress = (m: ProgressMessage): Uint8Array => frame(FrameType.PROGRESS, pb.Progress.encode(m))
export const encodeResultHead = (m: ResultHeadMessage): Uint8Array => frame(FrameType.RESULT_HEAD, pb.ResultHead.encode(m))
export const encodeFinal = (m: FinalMessage): Uint8Array =>
  frame(FrameType.FINAL, pb.Final.encode({ code: m.code as pb.FinalCode, message: m.message, units: m.units, receipt: m.receipt, load: loadsOf(m.load), signedReceipt: m.signedReceipt }))

// ---------------------------------------------------------------------------
// strict decoding

function fail (frame: string, why: string): never {
  throw new AiProtocolError('AI_PROTOCOL_ERROR_MALFORMED_FRAME', `${frame}: ${why}`)
}

/** protons decoding: truncated or mistyped protobuf, or a repeated field over its limit, is malformed. */
function parse<T> (frame: string, codec: { decode: (buf: Uint8Array | Uint8ArrayList) => T }, payload: Uint8Array | Uint8ArrayList): T {
  try {
    return codec.decode(payload)
  } catch (err) {
    fail(frame, `is not a valid protobuf message: ${(err as Error).message}`)
  }
}

function str (frame: string, field: string, value: string, min: number, max: number): string {
  if (value.length < min || value.length > max) fail(frame, `${field} must be ${min}..${max} characters`)
  return value
}

function int (frame: string, field: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) fail(frame, `${field} must be an integer in [${min}, ${max}]`)
  return value
}

function modelId (frame: string, field: string, value: string): string {
  if (!isModelId(value)) fail(frame, `${field} must be a model id (1..128 printable ASCII characters, no spaces)`)
  return value
}

function decimal (frame: string, field: string, value: string): string {
  str(frame, field, value, 1, FRAME_LIMITS.maxPriceDigits)
  if (!/^(0|[1-9][0-9]*)$/.test(value)) fail(frame, `${field} must be a non-negative decimal integer string`)
  return value
}

function payment (frame: string, field: string, value: PaymentBytes | undefined): PaymentBytes | null {
  if (value === undefined) return null
  if (value.byteLength > FRAME_LIMITS.maxPaymentBytes) fail(frame, `${field} must be at most ${FRAME_LIMITS.maxPaymentBytes} bytes`)
  return value
}

function depthOf (value: unknown, limit: number): number {
  if (typeof value !== 'object' || value === null) return 0
  let max = 0
  for (const v of Array.isArray(value) ? value : Object.values(value)) {
    const d = depthOf(v, limit)
    if (d > max) max = d
    if (max >= limit) break
  }
  return max + 1
}

function checkPrice (frame: string, p: pb.Price, i: number): AiPrice {
  const f = `prices[${i}]`
  if (!isPipelineName(p.pipeline)) fail(frame, `${f}.pipeline must be a known pipeline`)
  const pixelsPerUnit = decimal(frame, `${f}.pixelsPerUnit`, p.pixelsPerUnit)
  if (pixelsPerUnit === '0') fail(frame, `${f}.pixelsPerUnit must be positive`)
  return {
    pipeline: p.pipeline,
    modelId: modelId(frame, `${f}.modelId`, p.modelId),
    pricePerUnit: decimal(frame, `${f}.pricePerUnit`, p.pricePerUnit),
    pixelsPerUnit,
    ...(p.pricePerRequest === undefined ? {} : { pricePerRequest: decimal(frame, `${f}.pricePerRequest`, p.pricePerRequest) })
  }
}

function checkLoad (frame: string, l: pb.ModelLoad, i: number): ModelLoad {
  const f = `load[${i}]`
  if (!isPipelineName(l.pipeline)) fail(frame, `${f}.pipeline must be a known pipeline`)
  return {
    pipeline: l.pipeline,
    modelId: modelId(frame, `${f}.modelId`, l.modelId),
    capacity: int(frame, `${f}.capacity`, l.capacity, 0, FRAME_LIMITS.maxSlots),
    inUse: int(frame, `${f}.inUse`, l.inUse, 0, FRAME_LIMITS.maxSlots)
  }
}

/** `load` is optional; present, it is a bounded list of valid entries. */
function checkLoads (frame: string, value: pb.Loads | undefined): { load?: ModelLoad[] } {
  if (value === undefined) return {}
  return { load: value.entries.map((l, i) => checkLoad(frame, l, i)) }
}

function checkQuote (frame: string, o: { prices: pb.Price[], payment?: PaymentBytes, load?: pb.Loads }): AiQuote {
  return {
    prices: o.prices.map((p, i) => checkPrice(frame, p, i)),
    payment: payment(frame, 'payment', o.payment),
    ...checkLoads(frame, o.load)
  }
}

export function decodeHello (payload: Uint8Array | Uint8ArrayList): HelloMessage {
  const o = parse('Hello', pb.Hello, payload)
  return {
    version: int('Hello', 'version', o.version, 1, 255),
    maxInputBytes: int('Hello', 'maxInputBytes', o.maxInputBytes, 0, Number.MAX_SAFE_INTEGER),
    ...checkQuote('Hello', o)
  }
}

export function decodeQuote (payload: Uint8Array | Uint8ArrayList): AiQuote {
  return checkQuote('Quote', parse('Quote', pb.Quote, payload))
}

/** An empty payload names no payer. */
export function decodeQuoteRequest (payload: Uint8Array | Uint8ArrayList): QuoteRequestMessage {
  const o = parse('QuoteRequest', pb.QuoteRequest, payload)
  const paid = payment('QuoteRequest', 'payment', o.payment)
  return paid === null ? {} : { payment: paid }
}

const PIPELINE_SHAPE = /^[a-z0-9][a-z0-9-]*$/
/** printable ASCII without spaces: request ids go into logs and HTTP headers */
const REQUEST_ID_SHAPE = /^[\x21-\x7e]+$/

function checkInput (input: pb.InputMeta, i: number): InputMeta {
  const f = `inputs[${i}]`
  return {
    field: str('JobHeader', `${f}.field`, input.field, 1, FRAME_LIMITS.maxFieldLength),
    filename: str('JobHeader', `${f}.filename`, input.filename, 0, FRAME_LIMITS.maxFilenameLength),
    contentType: str('JobHeader', `${f}.contentType`, input.contentType, 0, FRAME_LIMITS.maxContentTypeLength),
    size: int('JobHeader', `${f}.size`, input.size, 0, Number.MAX_SAFE_INTEGER)
  }
}

function checkParams (bytes: Uint8Array): Record<string, JsonValue> {
  const F = 'JobHeader'
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(bytes))
  } catch {
    fail(F, 'params must be UTF-8 JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(F, 'params must be a JSON object')
  if (Object.keys(value).length > FRAME_LIMITS.maxParams) fail(F, `params must have at most ${FRAME_LIMITS.maxParams} entries`)
  if (depthOf(value, FRAME_LIMITS.maxJsonDepth) > FRAME_LIMITS.maxJsonDepth) fail(F, `params nest deeper than ${FRAME_LIMITS.maxJsonDepth}`)
  return value as Record<string, JsonValue>
}

export function decodeJobHeader (payload: Uint8Array | Uint8ArrayList): JobHeaderMessage {
  const F = 'JobHeader'
  const o = parse(F, pb.JobHeader, payload)
  const requestId = str(F, 'requestId', o.requestId, 1, FRAME_LIMITS.maxRequestIdLength)
  if (!REQUEST_ID_SHAPE.test(requestId)) fail(F, 'requestId must be printable ASCII without spaces')
  const pipeline = str(F, 'pipeline', o.pipeline, 1, FRAME_LIMITS.maxPipelineLength)
  if (!PIPELINE_SHAPE.test(pipeline)) fail(F, 'pipeline must be lowercase letters, digits and dashes')
  return {
    requestId,
    pipeline,
    modelId: modelId(F, 'modelId', o.modelId),
    params: checkParams(o.params),
    deadlineMs: int(F, 'deadlineMs', o.deadlineMs, 1, FRAME_LIMITS.maxDeadlineMs),
    inputs: o.inputs.map(checkInput),
    payment: payment(F, 'payment', o.payment)
  }
}

export function decodeProgress (payload: Uint8Array | Uint8ArrayList): ProgressMessage {
  const o = parse('Progress', pb.Progress, payload)
  const out: ProgressMessage = { stage: str('Progress', 'stage', o.stage, 1, FRAME_LIMITS.maxStageLength) }
  if (o.fraction !== undefined) {
    if (!(o.fraction >= 0 && o.fraction <= 1)) fail('Progress', 'fraction must be a number in [0, 1]')
    out.fraction = o.fraction
  }
  return out
}

export function decodeResultHead (payload: Uint8Array | Uint8ArrayList): ResultHeadMessage {
  const o = parse('ResultHead', pb.ResultHead, payload)
  return {
    status: int('ResultHead', 'status', o.status, 100, 599),
    contentType: str('ResultHead', 'contentType', o.contentType, 0, FRAME_LIMITS.maxContentTypeLength)
  }
}

export function decodeFinal (payload: Uint8Array | Uint8ArrayList): FinalMessage {
  const o = parse('Final', pb.Final, payload)
  if (!(FINAL_CODES as readonly string[]).includes(o.code)) fail('Final', 'code must be a known Final code')
  const out: FinalMessage = { code: o.code as FinalCode }
  if (o.message !== undefined) out.message = str('Final', 'message', o.message, 0, FRAME_LIMITS.maxMessageLength)
  if (o.units !== undefined) {
    if (!Number.isFinite(o.units) || o.units < 0) fail('Final', 'units must be a non-negative number')
    out.units = o.units
  }
  const receipt = payment('Final', 'receipt', o.receipt)
  if (receipt !== null) out.receipt = receipt
  if (o.signedReceipt !== undefined) {
    if (o.signedReceipt.byteLength > RECEIPT_LIMITS.maxBytes) fail('Final', `signedReceipt must be at most ${RECEIPT_LIMITS.maxBytes} bytes`)
    out.signedReceipt = o.signedReceipt
  }
  const { load } = checkLoads('Final', o.load)
  if (load !== undefined) out.load = load
  return out
}

/** Our own quote, checked against the limits peers apply (what fails here would reset every client's stream). */
export function checkedQuote (quote: AiQuote): AiQuote {
  return decodeQuote(pb.Quote.encode({ prices: quote.prices, payment: bytesOf(quote.payment) }))
}
