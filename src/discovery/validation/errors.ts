import { ShoalError } from '../../kernel/errors.js'

/** What gossip does with a message that fails a rule: IGNORE drops it, REJECT drops it and penalises the sender. */
export enum GossipAction {
  IGNORE = 'ignore',
  REJECT = 'reject'
}

export type AnnouncementValidationCode =
  | 'ANNOUNCEMENT_INVALID_MALFORMED'
  | 'ANNOUNCEMENT_INVALID_OVERSIZED'
  | 'ANNOUNCEMENT_INVALID_VERSION'
  | 'ANNOUNCEMENT_INVALID_MISSING_SIGNATURE'
  | 'ANNOUNCEMENT_INVALID_BAD_SIGNATURE'
  | 'ANNOUNCEMENT_INVALID_SIGNER_MISMATCH'
  | 'ANNOUNCEMENT_INVALID_BAD_ETH_BINDING'
  | 'ANNOUNCEMENT_INVALID_SEQ_REPLAYED'
  | 'ANNOUNCEMENT_INVALID_EXPIRED'
  | 'ANNOUNCEMENT_INVALID_FUTURE_TIMESTAMP'
  | 'ANNOUNCEMENT_INVALID_TTL_TOO_LONG'
  | 'ANNOUNCEMENT_INVALID_RATE_LIMITED'
  | 'ANNOUNCEMENT_IGNORED_UNDIALABLE'

/** The bounded set of codes, safe as a metrics label. */
export const ANNOUNCEMENT_VALIDATION_CODES: readonly AnnouncementValidationCode[] = [
  'ANNOUNCEMENT_INVALID_MALFORMED', 'ANNOUNCEMENT_INVALID_OVERSIZED', 'ANNOUNCEMENT_INVALID_VERSION',
  'ANNOUNCEMENT_INVALID_MISSING_SIGNATURE', 'ANNOUNCEMENT_INVALID_BAD_SIGNATURE', 'ANNOUNCEMENT_INVALID_SIGNER_MISMATCH',
  'ANNOUNCEMENT_INVALID_BAD_ETH_BINDING', 'ANNOUNCEMENT_INVALID_SEQ_REPLAYED', 'ANNOUNCEMENT_INVALID_EXPIRED',
  'ANNOUNCEMENT_INVALID_FUTURE_TIMESTAMP', 'ANNOUNCEMENT_INVALID_TTL_TOO_LONG', 'ANNOUNCEMENT_INVALID_RATE_LIMITED',
  'ANNOUNCEMENT_IGNORED_UNDIALABLE'
]

export class GossipValidationError extends ShoalError<AnnouncementValidationCode> {
  static override readonly name = 'GossipValidationError'
  readonly action: GossipAction

  constructor (action: GossipAction, code: AnnouncementValidationCode, message: string) {
    super(code, message)
    this.action = action
  }
}
