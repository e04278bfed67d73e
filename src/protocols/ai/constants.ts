import { PROTOCOL_PREFIX } from '../../p2p/constants.js'
import { MODEL_ID_MAX_LENGTH } from '../../kernel/identifiers.js'
import { WIRE_OUTCOMES, type WireOutcome } from '../../kernel/job-outcome.js'

/**
 * `/shoal/ai/2.0.0` (2: protobuf control frames, pb/ai.proto): a breaking wire change
 * gets a new version registered beside this one. The only place the id is defined.
 */
export const PROTOCOL_NAME = 'ai'
export const PROTOCOL_VERSION = '2.0.0'
export const AI_PROTOCOL = `${PROTOCOL_PREFIX}/${PROTOCOL_NAME}/${PROTOCOL_VERSION}`

/** The wire version carried in Hello; equal to the protocol id's major version. */
export const WIRE_VERSION = 2

/**
 * Frame layout: `varint(length) | type (1 byte) | payload (length - 1 bytes)`.
 * Data frames (input and result chunks) are raw bytes, control frames one protobuf message (pb/ai.proto).
 */
export const FRAME_LIMITS = {
  /**
   * Largest raw payload of one InputChunk/ResultChunk. 256 KiB is the yamux initial
   * stream window: one frame never needs more than one window to arrive.
   */
  maxDataFrameBytes: 256 * 1024,
  /** Largest control frame (JobHeader carries params such as LLM message histories). */
  maxControlFrameBytes: 1024 * 1024,
  /** A varint for lengths up to 2^28 is at most 4 bytes; more is garbage. */
  maxLengthPrefixBytes: 4,
  /** JobHeader params (a JSON object) nested deeper than this are refused. */
  maxJsonDepth: 64,
  maxRequestIdLength: 128,
  maxPipelineLength: 64,
  /** the shared model id rule (src/kernel/identifiers.ts) */
  maxModelIdLength: MODEL_ID_MAX_LENGTH,
  maxParams: 256,
  maxInputs: 16,
  maxFieldLength: 64,
  maxFilenameLength: 256,
  maxContentTypeLength: 256,
  maxStageLength: 64,
  maxMessageLength: 4096,
  maxPrices: 1024,
  /** entries of a `load` list (Hello, Quote, Final): one per (pipeline, model) served */
  maxLoads: 1024,
  /** slots per (pipeline, model) in a `load` entry */
  maxSlots: 1_000_000,
  /** prices are decimal wei strings; 78 digits hold any uint256 */
  maxPriceDigits: 78,
  /** an opaque payment field (a batch of up to 1000 tickets is about 110 KiB) */
  maxPaymentBytes: 256 * 1024,
  /** a job may not ask for more than a day */
  maxDeadlineMs: 24 * 60 * 60 * 1000
} as const

/** Server defaults (override through `AiProtocolInit.limits`). */
export const DEFAULT_MAX_INPUT_BYTES = 256 * 1024 * 1024
/**
 * Memory budget for inputs held by the server (declared sizes, reserved at JobHeader):
 * all peers together, and one peer. A job larger than either can never be accepted, so
 * Hello announces the smallest of these and `maxInputBytes` as the input limit.
 */
export const DEFAULT_MAX_BUFFERED_INPUT_BYTES = 512 * 1024 * 1024
export const DEFAULT_MAX_BUFFERED_INPUT_BYTES_PER_PEER = 128 * 1024 * 1024
/** Receive deadline between input frames: an upload silent this long is ended and dropped. */
export const DEFAULT_INPUT_IDLE_TIMEOUT_MS = 30_000
/** Per connection: concurrent jobs a gateway can run against one orchestrator. */
export const DEFAULT_MAX_INBOUND_STREAMS = 256
export const DEFAULT_MAX_OUTBOUND_STREAMS = 1
/**
 * A server closes a stream idle this long. It must be longer than the client pool's
 * idle timeout, so that the client, not the server, retires idle streams (no race
 * between a server close and a new job on the same stream).
 */
export const DEFAULT_SERVER_IDLE_TIMEOUT_MS = 5 * 60_000
/** How long the server waits for `quote()` when a stream opens before sending an empty Hello. */
export const DEFAULT_QUOTE_TIMEOUT_MS = 2_000

/** Client defaults (override through `AiClientInit`). */
export const DEFAULT_MAX_STREAMS_PER_PEER = 64
/** as many as may be open: a burst of concurrent jobs should not churn streams (each open costs 1.3-2 ms) */
export const DEFAULT_MAX_IDLE_STREAMS_PER_PEER = 64
export const DEFAULT_CLIENT_IDLE_TIMEOUT_MS = 60_000
/** Dial plus protocol negotiation. */
export const DEFAULT_OPEN_TIMEOUT_MS = 10_000
/**
 * The longest deadline an orchestrator grants by default: a client asking for more (the
 * wire allows a day) gets this much; the orchestrator's policy, not the peer, bounds how
 * long a job may hold a slot and its buffers.
 */
export const DEFAULT_SERVER_MAX_DEADLINE_MS = 10 * 60_000
/** A job without `deadlineMs` gets this budget. */
export const DEFAULT_JOB_DEADLINE_MS = 10 * 60_000
/** The client waits this long past the deadline for the server's DEADLINE_EXCEEDED before resetting. */
export const DEFAULT_DEADLINE_GRACE_MS = 2_000
/** After sending Cancel, how long the client waits for Final before resetting the stream. */
export const DEFAULT_CANCEL_GRACE_MS = 1_000
/** A cached quote older than this is refreshed with a QuoteRequest before a paid job. */
export const DEFAULT_QUOTE_MAX_AGE_MS = 10_000
/** Time to wait for the first Hello (or a Quote) on a stream. */
export const DEFAULT_QUOTE_WAIT_MS = 5_000

/** Read side flow control: pause the stream above this many buffered bytes, resume below the low mark. */
export const READ_HIGH_WATER_BYTES = 2 * 1024 * 1024
export const READ_LOW_WATER_BYTES = 512 * 1024
/**
 * While paused, yamux may still deliver up to one granted window (max 16 MiB) into the
 * stream's read buffer; libp2p resets a stream whose buffer passes `maxReadBufferLength`
 * (4 MiB by default), so paused streams of this protocol get room for a full window.
 */
export const STREAM_MAX_READ_BUFFER_BYTES = 17 * 1024 * 1024

/** The outcome codes a Final frame carries: the wire part of the one job error model (src/kernel/job-outcome.ts). */
export const FINAL_CODES = WIRE_OUTCOMES
export type FinalCode = WireOutcome
export const FINAL_ERROR_CODES = FINAL_CODES.filter((c): c is Exclude<FinalCode, 'OK'> => c !== 'OK')
export type FinalErrorCode = Exclude<FinalCode, 'OK'>
