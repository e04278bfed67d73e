import { ShoalError } from '../../kernel/errors.js'

export type StreamSessionErrorCode =
  /** no stream session with this id (never started, or ended and forgotten) */
  | 'STREAM_ERROR_UNKNOWN'
  /** the session has ended: it takes no more updates */
  | 'STREAM_ERROR_ENDED'
  /** no orchestrator serves the capability as a stream, or none could start it */
  | 'STREAM_ERROR_NO_ORCHESTRATOR'
  /** the request is invalid (params, options), or the app refused its params */
  | 'STREAM_ERROR_BAD_REQUEST'
  /** this gateway runs as many stream sessions as it allows */
  | 'STREAM_ERROR_TOO_MANY_SESSIONS'
  /** the app did not answer an update in time */
  | 'STREAM_ERROR_TIMEOUT'

/** A custom capability stream session could not be started, found or used. */
export class StreamSessionError extends ShoalError<StreamSessionErrorCode> {
  static override readonly name = 'StreamSessionError'
}
