/**
 * The `/shoal/worker/2.0.0` control messages and their strict validation.
 *
 * Each message is one length-prefixed (unsigned varint) protobuf `WorkerMessage`
 * (pb/worker.proto) with exactly one of its fields set. Every field is checked here
 * (size, range, the shared model id rule) after protons decoded it.
 * Which message may come when is the business of the two ends (`server.ts`,
 * `client.ts`), not of the codec.
 */
import type { Uint8ArrayList } from 'uint8arraylist'
import { REFUSAL_CODES, WORKER_LIMITS, type RefusalCode } from './constants.js'
import { WorkerProtocolError } from './errors.js'
import { isModelId } from '../../kernel/identifiers.js'
import { modelKey, type ModelKey } from '../../kernel/model-key.js'
import * as pb from './pb/worker.js'

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

/** The message as protobuf bytes (without the length prefix, which the stream adds). */
export function encodeWorkerMessage (message: WorkerMessage): Uint8Array {
  const runners = (list: WorkerRunner[]): pb.WorkerRunner[] => list.map(r => ({ ...r, runnerVersion: r.runnerVersion ?? undefined }))
  let envelope: pb.WorkerMessage
  switch (message.type) {
    case 'register': envelope = { register: { version: message.version, runners: runners(message.runners) } }; break
    case 'registered': envelope = { registered: { version: message.version, heartbeatIntervalMs: message.heartbeatIntervalMs, heartbeatTimeoutMs: message.heartbeatTimeoutMs } }; break
    case 'refused': envelope = { refused: { code: message.code as pb.RefusalCode, message: message.message } }; break
    case 'update': envelope = { update: { runners: runners(message.runners) } }; break
    case 'ping': envelope = { ping: { seq: message.seq } }; break
    case 'pong': envelope = { pong: { seq: message.seq } }; break
  }
  const bytes = pb.WorkerMessage.encode(envelope)
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

function str (what: string, field: string, value: string, min: number, max: number): string {
  if (value.length < min || value.length > max) fail(what, `${field} must be ${min}..${max} characters`)
  return value
}

function int (what: string, field: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) fail(what, `${field} must be an integer in [${min}, ${max}]`)
  return value
}

/** lower-case words joined by dashes, as pipeline names are */
const PIPELINE_SHAPE = /^[a-z0-9][a-z0-9-]*$/
/** printable, no control characters: runner versions go into logs and announcements */
const PRINTABLE = /^[^\p{Cc}]+$/u

function checkRunner (what: string, r: pb.WorkerRunner, i: number): WorkerRunner {
  const f = `runners[${i}]`
  const pipeline = str(what, `${f}.pipeline`, r.pipeline, 1, WORKER_LIMITS.maxPipelineLength)
  if (!PIPELINE_SHAPE.test(pipeline)) fail(what, `${f}.pipeline must be lower-case letters, digits and dashes`)
  if (!isModelId(r.modelId)) fail(what, `${f}.modelId must be a model id (1..128 printable ASCII characters, no spaces)`)
  let runnerVersion: string | null = null
  if (r.runnerVersion !== undefined) {
    runnerVersion = str(what, `${f}.runnerVersion`, r.runnerVersion, 1, WORKER_LIMITS.maxRunnerVersionLength)
    if (!PRINTABLE.test(runnerVersion)) fail(what, `${f}.runnerVersion must not contain control characters`)
  }
  return {
    pipeline,
    modelId: r.modelId,
    capacity: int(what, `${f}.capacity`, r.capacity, 0, WORKER_LIMITS.maxCapacity),
    warm: r.warm,
    runnerVersion
  }
}

function checkRunners (what: string, list: pb.WorkerRunner[]): WorkerRunner[] {
  const runners = list.map((r, i) => checkRunner(what, r, i))
  const seen = new Set<ModelKey>()
  for (const r of runners) {
    const key = modelKey(r)
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
  let m: pb.WorkerMessage
  try {
    m = pb.WorkerMessage.decode(bytes)
  } catch (err) {
    fail('message', `is not a valid protobuf message: ${(err as Error).message}`)
  }
  const set = [m.register, m.registered, m.refused, m.update, m.ping, m.pong].filter(v => v !== undefined).length
  if (set !== 1) fail('message', `must carry exactly one message, carries ${set}`)
  if (m.register !== undefined) {
    return { type: 'register', version: int('Register', 'version', m.register.version, 1, 255), runners: checkRunners('Register', m.register.runners) }
  }
  if (m.registered !== undefined) {
    const r = m.registered
    const heartbeatIntervalMs = int('Registered', 'heartbeatIntervalMs', r.heartbeatIntervalMs, WORKER_LIMITS.minHeartbeatIntervalMs, WORKER_LIMITS.maxHeartbeatIntervalMs)
    const heartbeatTimeoutMs = int('Registered', 'heartbeatTimeoutMs', r.heartbeatTimeoutMs, heartbeatIntervalMs + 1, WORKER_LIMITS.maxHeartbeatTimeoutMs)
    return { type: 'registered', version: int('Registered', 'version', r.version, 1, 255), heartbeatIntervalMs, heartbeatTimeoutMs }
  }
  if (m.refused !== undefined) {
    if (!(REFUSAL_CODES as readonly string[]).includes(m.refused.code)) fail('Refused', 'code must be a known refusal code')
    return { type: 'refused', code: m.refused.code as RefusalCode, message: str('Refused', 'message', m.refused.message, 0, WORKER_LIMITS.maxMessageLength) }
  }
  if (m.update !== undefined) return { type: 'update', runners: checkRunners('Update', m.update.runners) }
  if (m.ping !== undefined) return { type: 'ping', seq: int('Ping', 'seq', m.ping.seq, 0, Number.MAX_SAFE_INTEGER) }
  const pong = m.pong as pb.Pong
  return { type: 'pong', seq: int('Pong', 'seq', pong.seq, 0, Number.MAX_SAFE_INTEGER) }
}
