/**
 * The `/shoal/worker/1.0.0` control messages and their strict validation.
 *
 * Each message is one length-prefixed (unsigned varint) UTF-8 JSON object with a `type`
 * field. Every field is checked here (type, size, range) and unknown fields are refused:
 * a change to a message is a new protocol version, never a silent reinterpretation.
 * Which message may come when is the business of the two ends (`server.ts`,
 * `client.ts`), not of the codec.
 */
import type { Uint8ArrayList } from 'uint8arraylist'
import { REFUSAL_CODES, WORKER_LIMITS, type RefusalCode } from './constants.js'
import { WorkerProtocolError } from './errors.js'

/** One runner a worker offers: what the orchestrator turns into job slots. */
export interface WorkerRunner {
  /** a pipeline name as the worker knows it; the orchestrator ignores names it does not know */
  pipeline: string
  modelId: string
  /** jobs it takes at once (0: registered but not taking jobs now) */
  capacity: number
  /** the model is loaded (no cold start) */
  warm: boolean
  /** the runner's `/version`, when known */
  runnerVersion: string | null
}

/** worker -> orchestrator, first message of the control stream */
export interface RegisterMessage { type: 'register', version: number, runners: WorkerRunner[] }
/** orchestrator -> worker: accepted; ping every `heartbeatIntervalMs` */
export interface RegisteredMessage { type: 'registered', version: number, heartbeatIntervalMs: number, heartbeatTimeoutMs: number }
/** orchestrator -> worker: refused; the orchestrator closes the stream after it */
export interface RefusedMessage { type: 'refused', code: RefusalCode, message: string }
/** worker -> orchestrator: the full runner list again, after a change (replaces the previous one) */
export interface UpdateMessage { type: 'update', runners: WorkerRunner[] }
/** worker -> orchestrator heartbeat */
export interface PingMessage { type: 'ping', seq: number }
/** orchestrator -> worker: the answer to a ping, with its `seq` */
export interface PongMessage { type: 'pong', seq: number }

export type WorkerMessage = RegisterMessage | RegisteredMessage | RefusedMessage | UpdateMessage | PingMessage | PongMessage
export type WorkerMessageType = WorkerMessage['type']

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** The message as JSON bytes (without the length prefix, which the stream adds). */
export function encodeWorkerMessage (message: WorkerMessage): Uint8Array {
  const bytes = encoder.encode(JSON.stringify(message))
  if (bytes.byteLength > WORKER_LIMITS.maxMessageBytes) {
    throw new WorkerProtocolError('WORKER_PROTOCOL_ERROR_MESSAGE_TOO_LARGE', `${message.type} of ${bytes.byteLength} bytes exceeds ${WORKER_LIMITS.maxMessageBytes}`)
  }
  return bytes
}

// ---------------------------------------------------------------------------
// strict decoding

function fail (what: string, why: string): never {
  throw new WorkerProtocolError('WORKER_PROTOCOL_ERROR_MALFORMED_MESSAGE', `${what}: ${why}`)
}

function onlyKeys (what: string, o: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) fail(what, `unknown field ${JSON.stringify(key.slice(0, 64))}`)
  }
  for (const key of allowed) {
    if (!(key in o)) fail(what, `${key} is required`)
  }
}

function str (what: string, field: string, value: unknown, min: number, max: number): string {
  if (typeof value !== 'string') fail(what, `${field} must be a string`)
  if (value.length < min || value.length > max) fail(what, `${field} must be ${min}..${max} characters`)
  return value
}

function int (what: string, field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) fail(what, `${field} must be an integer in [${min}, ${max}]`)
  return value
}

function bool (what: string, field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') fail(what, `${field} must be a boolean`)
  return value
}

/** lower-case words joined by dashes, as pipeline names are */
const PIPELINE_SHAPE = /^[a-z0-9][a-z0-9-]*$/
/** printable, no control characters: model ids go into logs and announcements */
const PRINTABLE = /^[^\p{Cc}]+$/u

function parseRunner (what: string, value: unknown, i: number): WorkerRunner {
  const f = `runners[${i}]`
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(what, `${f} must be an object`)
  const o = value as Record<string, unknown>
  onlyKeys(what, o, ['pipeline', 'modelId', 'capacity', 'warm', 'runnerVersion'])
  const pipeline = str(what, `${f}.pipeline`, o.pipeline, 1, WORKER_LIMITS.maxPipelineLength)
  if (!PIPELINE_SHAPE.test(pipeline)) fail(what, `${f}.pipeline must be lower-case letters, digits and dashes`)
  const modelId = str(what, `${f}.modelId`, o.modelId, 1, WORKER_LIMITS.maxModelIdLength)
  if (!PRINTABLE.test(modelId)) fail(what, `${f}.modelId must not contain control characters`)
  let runnerVersion: string | null = null
  if (o.runnerVersion !== null) {
    runnerVersion = str(what, `${f}.runnerVersion`, o.runnerVersion, 1, WORKER_LIMITS.maxRunnerVersionLength)
    if (!PRINTABLE.test(runnerVersion)) fail(what, `${f}.runnerVersion must not contain control characters`)
  }
  return {
    pipeline,
    modelId,
    capacity: int(what, `${f}.capacity`, o.capacity, 0, WORKER_LIMITS.maxCapacity),
    warm: bool(what, `${f}.warm`, o.warm),
    runnerVersion
  }
}

function parseRunners (what: string, value: unknown): WorkerRunner[] {
  if (!Array.isArray(value)) fail(what, 'runners must be an array')
  if (value.length > WORKER_LIMITS.maxRunners) fail(what, `runners must have at most ${WORKER_LIMITS.maxRunners} entries`)
  const runners = value.map((r, i) => parseRunner(what, r, i))
  const seen = new Set<string>()
  for (const r of runners) {
    const key = `${r.pipeline}\u0000${r.modelId}`
    if (seen.has(key)) fail(what, `runners lists ${r.pipeline} ${r.modelId} twice`)
    seen.add(key)
  }
  return runners
}

/** Decodes and validates one control message; throws `WorkerProtocolError` (MALFORMED_MESSAGE, MESSAGE_TOO_LARGE). */
export function decodeWorkerMessage (bytes: Uint8Array | Uint8ArrayList): WorkerMessage {
  if (bytes.byteLength > WORKER_LIMITS.maxMessageBytes) {
    throw new WorkerProtocolError('WORKER_PROTOCOL_ERROR_MESSAGE_TOO_LARGE', `message of ${bytes.byteLength} bytes exceeds ${WORKER_LIMITS.maxMessageBytes}`)
  }
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(bytes instanceof Uint8Array ? bytes : bytes.subarray()))
  } catch {
    fail('message', 'is not UTF-8 JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('message', 'must be a JSON object')
  const o = value as Record<string, unknown>
  switch (o.type) {
    case 'register':
      onlyKeys('Register', o, ['type', 'version', 'runners'])
      return { type: 'register', version: int('Register', 'version', o.version, 1, 255), runners: parseRunners('Register', o.runners) }
    case 'registered': {
      onlyKeys('Registered', o, ['type', 'version', 'heartbeatIntervalMs', 'heartbeatTimeoutMs'])
      const heartbeatIntervalMs = int('Registered', 'heartbeatIntervalMs', o.heartbeatIntervalMs, WORKER_LIMITS.minHeartbeatIntervalMs, WORKER_LIMITS.maxHeartbeatIntervalMs)
      const heartbeatTimeoutMs = int('Registered', 'heartbeatTimeoutMs', o.heartbeatTimeoutMs, heartbeatIntervalMs + 1, WORKER_LIMITS.maxHeartbeatTimeoutMs)
      return { type: 'registered', version: int('Registered', 'version', o.version, 1, 255), heartbeatIntervalMs, heartbeatTimeoutMs }
    }
    case 'refused': {
      onlyKeys('Refused', o, ['type', 'code', 'message'])
      if (typeof o.code !== 'string' || !(REFUSAL_CODES as readonly string[]).includes(o.code)) fail('Refused', 'code must be a known refusal code')
      return { type: 'refused', code: o.code as RefusalCode, message: str('Refused', 'message', o.message, 0, WORKER_LIMITS.maxMessageLength) }
    }
    case 'update':
      onlyKeys('Update', o, ['type', 'runners'])
      return { type: 'update', runners: parseRunners('Update', o.runners) }
    case 'ping':
      onlyKeys('Ping', o, ['type', 'seq'])
      return { type: 'ping', seq: int('Ping', 'seq', o.seq, 0, Number.MAX_SAFE_INTEGER) }
    case 'pong':
      onlyKeys('Pong', o, ['type', 'seq'])
      return { type: 'pong', seq: int('Pong', 'seq', o.seq, 0, Number.MAX_SAFE_INTEGER) }
    default:
      fail('message', `unknown type ${JSON.stringify(typeof o.type === 'string' ? o.type.slice(0, 32) : o.type)}`)
  }
}
