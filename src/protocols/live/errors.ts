import { ShoalError } from '../../kernel/errors.js'
import type { LiveCloseCode } from './constants.js'

export type LiveProtocolErrorCode =
  /** a frame that does not decode, sets no field or several, or breaks a field limit */
  | 'LIVE_PROTOCOL_ERROR_MALFORMED_FRAME'
  /** a length prefix beyond the limits */
  | 'LIVE_PROTOCOL_ERROR_FRAME_TOO_LARGE'
  /** a frame where it is not allowed (a second start, input before start) */
  | 'LIVE_PROTOCOL_ERROR_UNEXPECTED_FRAME'
  /** the stream ended or was reset */
  | 'LIVE_PROTOCOL_ERROR_UNEXPECTED_EOF'

/** A peer broke the `/shoal/live` wire protocol; the stream is reset. */
export class LiveProtocolError extends ShoalError<LiveProtocolErrorCode> {
  static override readonly name = 'LiveProtocolError'
}

/** Why a session did not start on one peer: the close code it answered, or UNREACHABLE. */
export type LiveStartFailure = LiveCloseCode | 'UNREACHABLE'

/**
 * A session that did not start on one peer (`dialLiveChannel`, `startLiveSession`): the
 * close code it answered (INTERNAL for a frame out of place), or UNREACHABLE when the
 * dial or the stream failed. The dialer tries another peer, unless the request was bad.
 */
export class LiveStartError extends ShoalError<`LIVE_START_${LiveStartFailure}`> {
  static override readonly name = 'LiveStartError'
  readonly failure: LiveStartFailure

  constructor (failure: LiveStartFailure, message: string) {
    super(`LIVE_START_${failure}`, message)
    this.failure = failure
  }
}

export type MpegTsErrorCode =
  /** bytes that are not MPEG-TS (no sync byte every 188 bytes) */
  | 'MPEGTS_ERROR_NOT_TS'
  /** no key frame within the segment size limit: segments cannot be cut */
  | 'MPEGTS_ERROR_NO_KEY_FRAME'

/** An MPEG-TS stream that cannot be cut into live segments. */
export class MpegTsError extends ShoalError<MpegTsErrorCode> {
  static override readonly name = 'MpegTsError'
}
