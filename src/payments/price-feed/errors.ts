import { ShoalError } from '../../kernel/errors.js'

/** Why the feed has no rate, or a read was refused. The codes are the `reason` label of the failures metric. */
export const PRICE_FEED_ERROR_CODES = [
  /** the aggregator could not be read (RPC down, no contract there, timeout) */
  'PRICE_FEED_ERROR_UNAVAILABLE',
  /** the aggregator answered zero or less: never priced at */
  'PRICE_FEED_ERROR_INVALID_ANSWER',
  /** the aggregator's answer is older than `maxAnswerAgeMs` */
  'PRICE_FEED_ERROR_STALE',
  /** no good rate within `keepLastGoodMs`: USD prices cannot be converted */
  'PRICE_FEED_ERROR_NO_RATE',
  /** a fixed rate or feed address that is not one */
  'PRICE_FEED_ERROR_CONFIG'
] as const

export type PriceFeedErrorCode = typeof PRICE_FEED_ERROR_CODES[number]

export class PriceFeedError extends ShoalError<PriceFeedErrorCode> {
  static override readonly name = 'PriceFeedError'
}
