import { ShoalError } from '../../../kernel/errors.js'

export type TrickleErrorCode =
  /** the channel was closed (DELETE, or its session ended) */
  | 'TRICKLE_ERROR_CLOSED'
  /** no such channel */
  | 'TRICKLE_ERROR_NOT_FOUND'
  /** a publish with a seq at or behind the latest */
  | 'TRICKLE_ERROR_SEQ_BEHIND'
  /** data appended to a complete segment */
  | 'TRICKLE_ERROR_SEGMENT_DONE'
  /** a segment larger than the server accepts */
  | 'TRICKLE_ERROR_TOO_LARGE'
  /** the channel limit is reached */
  | 'TRICKLE_ERROR_TOO_MANY'
  /** an HTTP answer the client did not expect */
  | 'TRICKLE_ERROR_HTTP'

/** A trickle channel or client failure, with a stable code. */
export class TrickleError extends ShoalError<TrickleErrorCode> {
  static override readonly name = 'TrickleError'
}
