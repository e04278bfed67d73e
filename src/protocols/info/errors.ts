import { ShoalError } from '../../kernel/errors.js'

export type InfoErrorCode = 'INFO_ERROR_NO_ANNOUNCEMENT' | 'INFO_ERROR_INVALID_RESPONSE' | 'INFO_ERROR_TIMEOUT' | 'INFO_ERROR_DIAL'

export class InfoProtocolError extends ShoalError<InfoErrorCode> {
  static override readonly name = 'InfoProtocolError'
}
