import { Counter, Gauge, type Registry } from 'prom-client'
import type { PriceFeedErrorCode } from './errors.js'

/** Price feed metrics; `reason` is a PriceFeedErrorCode (bounded). */
export function createPriceFeedMetrics (register: Registry) {
  const registers = [register]
  return {
    usdPerEth: new Gauge({ name: 'shoal_price_feed_usd_per_eth', help: 'The ETH/USD rate in use (0 when there is none)', registers }),
    ageSeconds: new Gauge({ name: 'shoal_price_feed_age_seconds', help: 'Age of the rate in use: since the aggregator updated it, or since a fixed rate was set', registers }),
    failures: new Counter({ name: 'shoal_price_feed_failures_total', help: 'Reads of the feed that gave no usable rate, by reason', labelNames: ['reason'] as const, registers })
  }
}

export type PriceFeedMetrics = ReturnType<typeof createPriceFeedMetrics>
export type { PriceFeedErrorCode }
