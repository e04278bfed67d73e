/** `/shoal/live/1.0.0`: one stream per live video session (see docs/protocols.md). */
export const LIVE_PROTOCOL_NAME = '/shoal/live'
export const LIVE_PROTOCOL_VERSION = '1.0.0'
export const LIVE_PROTOCOL = `${LIVE_PROTOCOL_NAME}/${LIVE_PROTOCOL_VERSION}`

export const LIVE_LIMITS = {
  /** the largest MPEG-TS segment carried, either direction */
  maxSegmentBytes: 16 * 1024 * 1024,
  /** the largest JSON text (params, events) */
  maxJsonBytes: 64 * 1024,
  /** the largest opaque payment field */
  maxPaymentBytes: 256 * 1024,
  /** string fields: ids, codes, prices */
  maxStringBytes: 1024,
  /** a close message */
  maxMessageBytes: 4096
} as const

/** input segments sent and not yet taken by the runner before the orchestrator counts as slow (the reference's 3) */
export const DEFAULT_MAX_SEGMENTS_IN_FLIGHT = 3
/** how often the gateway pays on a live stream */
export const DEFAULT_PAYMENT_INTERVAL_MS = 5_000
/** concurrent live sessions an orchestrator accepts over this protocol */
export const DEFAULT_MAX_LIVE_STREAMS = 64

/** Why a session ended, in LiveClose.code. */
export const LIVE_CLOSE_CODES = ['OK', 'BAD_REQUEST', 'UNSUPPORTED', 'INSUFFICIENT_CAPACITY', 'PAYMENT_REQUIRED', 'RUNNER_FAILURE', 'INTERNAL'] as const
export type LiveCloseCode = typeof LIVE_CLOSE_CODES[number]
