import { ShoalError } from '../kernel/errors.js'

export type AnnouncementErrorCode =
  | 'ANNOUNCEMENT_ERROR_MALFORMED'
  | 'ANNOUNCEMENT_ERROR_OVERSIZED'
  | 'ANNOUNCEMENT_ERROR_VERSION'
  | 'ANNOUNCEMENT_ERROR_MISSING_SIGNATURE'

/** An announcement that cannot be parsed; the message names the field. */
export class AnnouncementError extends ShoalError<AnnouncementErrorCode> {
  static override readonly name = 'AnnouncementError'
}
