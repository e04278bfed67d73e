import { ShoalError } from '../kernel/errors.js'

export type KeyErrorCode =
  | 'KEY_ERROR_MISSING'
  | 'KEY_ERROR_UNREADABLE'
  | 'KEY_ERROR_CORRUPT'
  | 'KEY_ERROR_INSECURE_PERMISSIONS'
  | 'KEY_ERROR_EXISTS'

/** A node key file that cannot be used safely. The message says which file and what to do. */
export class KeyFileError extends ShoalError<KeyErrorCode> {
  static override readonly name = 'KeyFileError'
}
