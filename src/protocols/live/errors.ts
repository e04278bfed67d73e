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

/** The remote end closed the session with a code (LiveClose). */
export class LiveSessionClosedError extends ShoalError<`LIVE_CLOSED_${LiveCloseCode}`> {
  static override readonly name = 'LiveSessionClosedError'
  readonly closeCode: LiveCloseCode

  constructor (closeCode: LiveCloseCode, message: string) {
    super(`LIVE_CLOSED_${closeCode}`, message)
    this.closeCode = closeCode
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
