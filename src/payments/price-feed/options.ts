/**
 * Price feed options and their defaults, in one place.
 */

/** Where the ETH/USD rate comes from: a Chainlink-style aggregator on a chain, or a fixed rate the operator gives. */
export type PriceFeedSource =
  | { kind: 'aggregator', rpcUrl: string, address: string, /** overrides `pollIntervalMs` */ pollIntervalMs?: number }
  | { kind: 'fixed', usdPerEth: string }

export interface PriceFeedOptions {
  /** how often the aggregator is read */
  pollIntervalMs: number
  /** an aggregator answer updated longer ago than this is stale (Chainlink's ETH/USD heartbeat is 1 h) */
  maxAnswerAgeMs: number
  /** after the last good rate, how long it is still used while the feed fails or is stale; then there is no rate */
  keepLastGoodMs: number
  /** one read of the aggregator must answer within this */
  readTimeoutMs: number
}

export const defaultPriceFeedOptions: PriceFeedOptions = {
  pollIntervalMs: 60_000,
  // the heartbeat plus a margin for a late round
  maxAnswerAgeMs: 2 * 60 * 60_000,
  keepLastGoodMs: 30 * 60_000,
  readTimeoutMs: 10_000
}
