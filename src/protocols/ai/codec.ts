/**
 * The `/shoal/ai/1.0.0` frames and their strict validation.
 *
 * Every frame is `varint(length) | type | payload`, where `length` counts the type byte
 * and the payload. InputChunk and ResultChunk carry raw bytes; InputEnd, QuoteRequest
 * and Cancel carry nothing; every other frame carries one UTF-8 JSON object whose
 * fields are all checked here (type, size, range) and whose unknown fields are refused:
 * a change to a message is a new protocol version, never a silent reinterpretation.
 */
import type { Uint8ArrayList } from 'uint8arraylist'
import { isPipelineName, type PipelineName } from '../../kernel/pipelines.js'
import type { JsonValue } from '../../kernel/job.js'
import { FINAL_CODES, FRAME_LIMITS, type FinalCode } from './constants.js'
import { AiProtocolError } from './errors.js'

export const FrameType = {
  /** server -> client, first frame of every stream: version, limits and a quote */
  HELLO: 0x01,
  /**
   * client -> server: ask for a fresh quote; no payload, or `{payment}`: who will pay (so
   * the quote can carry ticket params issued to that payer before its first job)
   */
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

/** What one (pipeline, model) costs: `pricePerUnit` wei per `pixelsPerUnit` units, as in announcements. */
export interface AiPrice {
  pipeline: PipelineName
  modelId: string
  pricePerUnit: string
  pixelsPerUnit: string
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

/** Prices plus opaque payment parameters (the orchestrator's ticket params), and live load. */
export interface AiQuote {
  prices: AiPrice[]
  payment: JsonValue | null
  /** every (pipeline, model) served, with its slots; absent from an orchestrator that does not say */
  load?: ModelLoad[]
}

/** `QuoteRequest`'s optional payload. */
export interface QuoteRequestMessage {
  /** opaque: who will pay (the gateway's address and binding), so the quote can carry params for it */
  payment?: JsonValue
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
  /** opaque payment (tickets) for this job */
  payment: JsonValue | null
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
  /** opaque receipt (e.g. the payment balance after debit) */
  receipt?: JsonValue
  /** the job's (pipeline, model) slots after this job (empty when not served there) */
  load?: ModelLoad[]
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

/** `varint(payloadLength + 1) | type`: the bytes that precede a payload. */
export function frameHeader (type: FrameTypeValue, payloadLength: number): Uint8Array {
  let length = payloadLength + 1
  const out = new Uint8Array(varintLength(length) + 1)
  let i = 0
  while (length >= 0x80) {
    out[i++] = (length & 0x7f) | 0x80
    length = Math.floor(length / 128)
  }
  out[i++] = length
  out[i] = type
  return out
}

/** A whole frame with no payload (InputEnd, Cancel, or a QuoteRequest that names no payer). */
export function encodeEmpty (type: typeof FrameType.INPUT_END | typeof FrameType.QUOTE_REQUEST | typeof FrameType.CANCEL): Uint8Array {
  return frameHeader(type, 0)
}

function encodeJson (type: FrameTypeValue, message: object): Uint8Array {
  const body = encoder.encode(JSON.stringify(message))
  if (body.byteLength > FRAME_LIMITS.maxControlFrameBytes) {
    throw new AiProtocolError('AI_PROTOCOL_ERROR_FRAME_TOO_LARGE', `${frameTypeName(type) ?? type} frame of ${body.byteLength} bytes exceeds ${FRAME_LIMITS.maxControlFrameBytes}`)
  }
  const head = frameHeader(type, body.byteLength)
  const out = new Uint8Array(head.byteLength + body.byteLength)
  out.set(head, 0)
  out.set(body, head.byteLength)
  return out
}

export const encodeHello = (m: HelloMessage): Uint8Array => encodeJson(FrameType.HELLO, m)
export const encodeQuote = (m: AiQuote): Uint8Array => encodeJson(FrameType.QUOTE, m)
/** A QuoteRequest naming who will pay; without a payer it is an empty frame. */
export const encodeQuoteRequest = (m: QuoteRequestMessage = {}): Uint8Array =>
  m.payment === undefined ? encodeEmpty(FrameType.QUOTE_REQUEST) : encodeJson(FrameType.QUOTE_REQUEST, m)
export const encodeJobHeader = (m: JobHeaderMessage): Uint8Array => encodeJson(FrameType.JOB_HEADER, m)
export const encodeProgress = (m: ProgressMessage): Uint8Array => encodeJson(FrameType.PROGRESS, m)
export const encodeResultHead = (m: ResultHeadMessage): Uint8Array => encodeJson(FrameType.RESULT_HEAD, m)
export const encodeFinal = (m: FinalMessage): Uint8Array => encodeJson(FrameType.FINAL, m)

// ---------------------------------------------------------------------------
// strict decoding

function fail (frame: string, why: string): never {
  throw new AiProtocolError('AI_PROTOCOL_ERROR_MALFORMED_FRAME', `${frame}: ${why}`)
}

function parseJson (frame: string, payload: Uint8Array | Uint8ArrayList): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(payload instanceof Uint8Array ? payload : payload.subarray()))
  } catch {
    fail(frame, 'is not UTF-8 JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(frame, 'must be a JSON object')
  return value as Record<string, unknown>
}

function onlyKeys (frame: string, o: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) fail(frame, `unknown field ${JSON.stringify(key.slice(0, 64))}`)
  }
}

function str (frame: string, field: string, value: unknown, min: number, max: number): string {
  if (typeof value !== 'string') fail(frame, `${field} must be a string`)
  if (value.length < min || value.length > max) fail(frame, `${field} must be ${min}..${max} characters`)
  return value
}

function int (frame: string, field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) fail(frame, `${field} must be an integer in [${min}, ${max}]`)
  return value
}

function decimal (frame: string, field: string, value: unknown): string {
  const s = str(frame, field, value, 1, FRAME_LIMITS.maxPriceDigits)
  if (!/^(0|[1-9][0-9]*)$/.test(s)) fail(frame, `${field} must be a non-negative decimal integer string`)
  return s
}

function depthOf (value: unknown, limit: number): number {
  if (typeof value !== 'object' || value === null) return 0
  if (limit <= 0) return Infinity
  let deepest = 0
  for (const child of Array.isArray(value) ? value : Object.values(value)) {
    deepest = Math.max(deepest, depthOf(child, limit - 1))
    if (deepest === Infinity) return Infinity
  }
  return deepest + 1
}

/** Any JSON value (parsed JSON is always one) within the depth limit. */
function json (frame: string, field: string, value: unknown): JsonValue {
  if (value === undefined) fail(frame, `${field} is required`)
  if (depthOf(value, FRAME_LIMITS.maxJsonDepth) > FRAME_LIMITS.maxJsonDepth) fail(frame, `${field} is nested deeper than ${FRAME_LIMITS.maxJsonDepth}`)
  return value as JsonValue
}

function arr (frame: string, field: string, value: unknown, max: number): unknown[] {
  if (!Array.isArray(value)) fail(frame, `${field} must be an array`)
  if (value.length > max) fail(frame, `${field} must have at most ${max} entries`)
  return value
}

function obj (frame: string, field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(frame, `${field} must be an object`)
  return value as Record<string, unknown>
}

function parsePrice (frame: string, value: unknown, i: number): AiPrice {
  const f = `prices[${i}]`
  const o = obj(frame, f, value)
  onlyKeys(frame, o, ['pipeline', 'modelId', 'pricePerUnit', 'pixelsPerUnit'])
  if (!isPipelineName(o.pipeline)) fail(frame, `${f}.pipeline must be a known pipeline`)
  const pixelsPerUnit = decimal(frame, `${f}.pixelsPerUnit`, o.pixelsPerUnit)
  if (pixelsPerUnit === '0') fail(frame, `${f}.pixelsPerUnit must be positive`)
  return {
    pipeline: o.pipeline,
    modelId: str(frame, `${f}.modelId`, o.modelId, 1, FRAME_LIMITS.maxModelIdLength),
    pricePerUnit: decimal(frame, `${f}.pricePerUnit`, o.pricePerUnit),
    pixelsPerUnit
  }
}

function parseLoad (frame: string, value: unknown, i: number): ModelLoad {
  const f = `load[${i}]`
  const o = obj(frame, f, value)
  onlyKeys(frame, o, ['pipeline', 'modelId', 'capacity', 'inUse'])
  if (!isPipelineName(o.pipeline)) fail(frame, `${f}.pipeline must be a known pipeline`)
  return {
    pipeline: o.pipeline,
    modelId: str(frame, `${f}.modelId`, o.modelId, 1, FRAME_LIMITS.maxModelIdLength),
    capacity: int(frame, `${f}.capacity`, o.capacity, 0, FRAME_LIMITS.maxSlots),
    inUse: int(frame, `${f}.inUse`, o.inUse, 0, FRAME_LIMITS.maxSlots)
  }
}

/** `load` is optional; present, it is a bounded list of valid entries. */
function parseLoads (frame: string, value: unknown): { load?: ModelLoad[] } {
  if (value === undefined) return {}
  return { load: arr(frame, 'load', value, FRAME_LIMITS.maxLoads).map((l, i) => parseLoad(frame, l, i)) }
}

function parseQuoteFields (frame: string, o: Record<string, unknown>): AiQuote {
  return {
    prices: arr(frame, 'prices', o.prices, FRAME_LIMITS.maxPrices).map((p, i) => parsePrice(frame, p, i)),
    payment: json(frame, 'payment', o.payment),
    ...parseLoads(frame, o.load)
  }
}

export function decodeHello (payload: Uint8Array | Uint8ArrayList): HelloMessage {
  const o = parseJson('Hello', payload)
  onlyKeys('Hello', o, ['version', 'maxInputBytes', 'prices', 'payment', 'load'])
  return {
    version: int('Hello', 'version', o.version, 1, 255),
    maxInputBytes: int('Hello', 'maxInputBytes', o.maxInputBytes, 0, Number.MAX_SAFE_INTEGER),
    ...parseQuoteFields('Hello', o)
  }
}

export function decodeQuote (payload: Uint8Array | Uint8ArrayList): AiQuote {
  const o = parseJson('Quote', payload)
  onlyKeys('Quote', o, ['prices', 'payment', 'load'])
  return parseQuoteFields('Quote', o)
}

/** An empty payload names no payer. */
export function decodeQuoteRequest (payload: Uint8Array | Uint8ArrayList): QuoteRequestMessage {
  if (payload.byteLength === 0) return {}
  const o = parseJson('QuoteRequest', payload)
  onlyKeys('QuoteRequest', o, ['payment'])
  return o.payment === undefined ? {} : { payment: json('QuoteRequest', 'payment', o.payment) }
}

const PIPELINE_SHAPE = /^[a-z0-9][a-z0-9-]*$/
/** printable ASCII without spaces: request ids go into logs and HTTP headers */
const REQUEST_ID_SHAPE = /^[\x21-\x7e]+$/

function parseInput (value: unknown, i: number): InputMeta {
  const f = `inputs[${i}]`
  const o = obj('JobHeader', f, value)
  onlyKeys('JobHeader', o, ['field', 'filename', 'contentType', 'size'])
  return {
    field: str('JobHeader', `${f}.field`, o.field, 1, FRAME_LIMITS.maxFieldLength),
    filename: str('JobHeader', `${f}.filename`, o.filename, 0, FRAME_LIMITS.maxFilenameLength),
    contentType: str('JobHeader', `${f}.contentType`, o.contentType, 0, FRAME_LIMITS.maxContentTypeLength),
    size: int('JobHeader', `${f}.size`, o.size, 0, Number.MAX_SAFE_INTEGER)
  }
}

export function decodeJobHeader (payload: Uint8Array | Uint8ArrayList): JobHeaderMessage {
  const F = 'JobHeader'
  const o = parseJson(F, payload)
  onlyKeys(F, o, ['requestId', 'pipeline', 'modelId', 'params', 'deadlineMs', 'inputs', 'payment'])
  const requestId = str(F, 'requestId', o.requestId, 1, FRAME_LIMITS.maxRequestIdLength)
  if (!REQUEST_ID_SHAPE.test(requestId)) fail(F, 'requestId must be printable ASCII without spaces')
  const pipeline = str(F, 'pipeline', o.pipeline, 1, FRAME_LIMITS.maxPipelineLength)
  if (!PIPELINE_SHAPE.test(pipeline)) fail(F, 'pipeline must be lowercase letters, digits and dashes')
  const params = obj(F, 'params', o.params)
  if (Object.keys(params).length > FRAME_LIMITS.maxParams) fail(F, `params must have at most ${FRAME_LIMITS.maxParams} entries`)
  json(F, 'params', params)
  return {
    requestId,
    pipeline,
    modelId: str(F, 'modelId', o.modelId, 1, FRAME_LIMITS.maxModelIdLength),
    params: params as Record<string, JsonValue>,
    deadlineMs: int(F, 'deadlineMs', o.deadlineMs, 1, FRAME_LIMITS.maxDeadlineMs),
    inputs: arr(F, 'inputs', o.inputs, FRAME_LIMITS.maxInputs).map(parseInput),
    payment: json(F, 'payment', o.payment)
  }
}

export function decodeProgress (payload: Uint8Array | Uint8ArrayList): ProgressMessage {
  const o = parseJson('Progress', payload)
  onlyKeys('Progress', o, ['stage', 'fraction'])
  const out: ProgressMessage = { stage: str('Progress', 'stage', o.stage, 1, FRAME_LIMITS.maxStageLength) }
  if (o.fraction !== undefined) {
    if (typeof o.fraction !== 'number' || !(o.fraction >= 0 && o.fraction <= 1)) fail('Progress', 'fraction must be a number in [0, 1]')
    out.fraction = o.fraction
  }
  return out
}

export function decodeResultHead (payload: Uint8Array | Uint8ArrayList): ResultHeadMessage {
  const o = parseJson('ResultHead', payload)
  onlyKeys('ResultHead', o, ['status', 'contentType'])
  return {
    status: int('ResultHead', 'status', o.status, 100, 599),
    contentType: str('ResultHead', 'contentType', o.contentType, 0, FRAME_LIMITS.maxContentTypeLength)
  }
}

export function decodeFinal (payload: Uint8Array | Uint8ArrayList): FinalMessage {
  const o = parseJson('Final', payload)
  onlyKeys('Final', o, ['code', 'message', 'units', 'receipt', 'load'])
  if (typeof o.code !== 'string' || !(FINAL_CODES as readonly string[]).includes(o.code)) fail('Final', 'code must be a known Final code')
  const out: FinalMessage = { code: o.code as FinalCode }
  if (o.message !== undefined) out.message = str('Final', 'message', o.message, 0, FRAME_LIMITS.maxMessageLength)
  if (o.units !== undefined) {
    if (typeof o.units !== 'number' || !Number.isFinite(o.units) || o.units < 0) fail('Final', 'units must be a non-negative number')
    out.units = o.units
  }
  if (o.receipt !== undefined) out.receipt = json('Final', 'receipt', o.receipt)
  const { load } = parseLoads('Final', o.load)
  if (load !== undefined) out.load = load
  return out
}
