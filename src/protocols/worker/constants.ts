import { PROTOCOL_PREFIX } from '../../p2p/constants.js'
import { MODEL_ID_MAX_LENGTH } from '../../kernel/identifiers.js'
import { AI_PROTOCOL, PROTOCOL_VERSION as AI_PROTOCOL_VERSION } from '../ai/constants.js'

/**
 * `/shoal/worker/2.0.0` (2: protobuf, pb/worker.proto): the control stream a worker opens
 * to its orchestrator (register, capacity updates, heartbeats). A breaking change gets a
 * new version registered beside this one. The only place the ids are defined.
 */
export const WORKER_PROTOCOL_NAME = 'worker'
export const WORKER_PROTOCOL_VERSION = '2.0.0'
export const WORKER_PROTOCOL = `${PROTOCOL_PREFIX}/${WORKER_PROTOCOL_NAME}/${WORKER_PROTOCOL_VERSION}`

/**
 * `/shoal/worker-job/2.0.0`: the job streams the orchestrator opens back to a registered
 * worker, on the connection the worker dialled. They carry the `/shoal/ai/2.0.0` frames
 * unchanged (JobHeader, InputChunk*, InputEnd -> ResultHead, ResultChunk*, Final), so a
 * change of the ai framing is a change of this id too (its major version follows the ai one).
 */
export const WORKER_JOB_PROTOCOL = `${PROTOCOL_PREFIX}/worker-job/${AI_PROTOCOL_VERSION}`
/** The ai framing the job protocol carries (for documentation and checks). */
export const WORKER_JOB_FRAMING = AI_PROTOCOL

/** The wire version carried in Register and Registered; equal to the protocol id's major version. */
export const WORKER_WIRE_VERSION = 2

/** Limits of control messages (one length-prefixed protobuf message each). */
export const WORKER_LIMITS = {
  /** the largest control message; 256 runners of ~400 bytes fit with room */
  maxMessageBytes: 256 * 1024,
  /** runners one worker may register */
  maxRunners: 256,
  /** slots of one runner entry */
  maxCapacity: 4096,
  maxPipelineLength: 64,
  /** the shared model id rule (src/kernel/identifiers.ts) */
  maxModelIdLength: MODEL_ID_MAX_LENGTH,
  maxRunnerVersionLength: 128,
  maxMessageLength: 4096,
  /** the heartbeat interval an orchestrator may ask for */
  minHeartbeatIntervalMs: 50,
  maxHeartbeatIntervalMs: 60_000,
  maxHeartbeatTimeoutMs: 10 * 60_000
} as const

/** Orchestrator side: how often a worker pings. Small enough that a silent worker is dropped within seconds. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 5_000
/** Either side gives the other up after this long without a message (3 missed heartbeats). */
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 15_000
/** Time for the Register (orchestrator) or the Registered/Refused answer (worker). */
export const DEFAULT_REGISTER_TIMEOUT_MS = 10_000
/** Worker side: dial plus protocol negotiation. */
export const DEFAULT_DIAL_TIMEOUT_MS = 10_000
/**
 * Worker side reconnect backoff: `initialMs * factor^attempt`, capped at `maxMs`, with
 * +-`jitter` spread so that many workers of a restarted orchestrator do not return in
 * one burst. The attempt count resets after a successful registration.
 */
export const DEFAULT_BACKOFF = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.2 } as const
/** Worker side: capacity changes within this window go out as one Update. */
export const DEFAULT_UPDATE_DEBOUNCE_MS = 50

/** Orchestrator side, job streams: opening a stream on the worker's live connection. */
export const DEFAULT_JOB_OPEN_TIMEOUT_MS = 5_000
/** Orchestrator side: the budget of a job sent to a worker (the caller's signal usually ends it first). */
export const DEFAULT_WORKER_JOB_DEADLINE_MS = 10 * 60_000
/** Control streams per connection: one per worker, a second only while a re-registration replaces the first. */
export const MAX_CONTROL_STREAMS = 2

/** Why an orchestrator refused a registration (the `code` of a Refused message). */
export const REFUSAL_CODES = [
  /** the worker's peer id is not in the orchestrator's allow-list */
  'NOT_ALLOWED',
  /** the Register message is valid JSON but describes impossible runners (duplicates, unknown pipeline) */
  'INVALID',
  /** a wire version this orchestrator does not speak */
  'VERSION',
  /** the orchestrator is stopping */
  'SHUTTING_DOWN'
] as const
export type RefusalCode = typeof REFUSAL_CODES[number]
