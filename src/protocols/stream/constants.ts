/** `/shoal/stream/1.0.0`: one stream per custom capability stream session (see docs/protocols.md). */
export const STREAM_PROTOCOL_NAME = '/shoal/stream'
export const STREAM_PROTOCOL_VERSION = '1.0.0'
export const STREAM_PROTOCOL = `${STREAM_PROTOCOL_NAME}/${STREAM_PROTOCOL_VERSION}`

export const STREAM_LIMITS = {
  /** the largest data message (one SSE event's data, one line) an app may send */
  maxDataBytes: 1024 * 1024,
  /** the most of an app's answer to an update relayed back */
  maxUpdateBodyBytes: 4 * 1024
} as const

/** how often the orchestrator debits the session's compute time and the gateway pays for it */
export const DEFAULT_STREAM_PAYMENT_INTERVAL_MS = 5_000
/** concurrent stream sessions an orchestrator accepts over this protocol */
export const DEFAULT_MAX_STREAM_SESSIONS = 64
