import { ShoalError } from '../../kernel/errors.js'

export type LiveSessionErrorCode =
  /** no live session for this stream id */
  | 'LIVE_ERROR_UNKNOWN_STREAM'
  /** a session for this stream id is already running */
  | 'LIVE_ERROR_STREAM_EXISTS'
  /** the session has ended */
  | 'LIVE_ERROR_CLOSED'
  /** no orchestrator serves the model, or none could start it */
  | 'LIVE_ERROR_NO_ORCHESTRATOR'
  /** the request is invalid (params, model) */
  | 'LIVE_ERROR_BAD_REQUEST'
  /** this gateway runs as many sessions as it allows */
  | 'LIVE_ERROR_TOO_MANY_SESSIONS'

/** A live session could not be started, found or used. */
export class LiveSessionError extends ShoalError<LiveSessionErrorCode> {
  static override readonly name = 'LiveSessionError'
}

export type LiveInputErrorCode =
  /** not MPEG-TS with a video stream */
  | 'LIVE_INPUT_ERROR_NOT_VIDEO'
  /** video that is not H.264 */
  | 'LIVE_INPUT_ERROR_CODEC'
  /** a segment over the size limit */
  | 'LIVE_INPUT_ERROR_TOO_LARGE'

/** An input segment refused before it reaches the mesh. */
export class LiveInputError extends ShoalError<LiveInputErrorCode> {
  static override readonly name = 'LiveInputError'
}
