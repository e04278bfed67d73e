/** The ETH/USD rate that USD prices are converted with: an on-chain aggregator (Chainlink's AggregatorV3Interface) or a fixed rate. */
export { createPriceFeed, type PriceFeed, type PriceFeedInit, type UsdRate } from './feed.js'
export { createAggregatorReader, AGGREGATOR_V3_ABI, type AggregatorReader, type AggregatorRound } from './aggregator.js'
export { PriceFeedError, PRICE_FEED_ERROR_CODES, type PriceFeedErrorCode } from './errors.js'
export { createPriceFeedMetrics, type PriceFeedMetrics } from './metrics.js'
export { defaultPriceFeedOptions, type PriceFeedOptions, type PriceFeedSource } from './options.js'
export { decimalToRational, formatRational, formatUsdPerEth, parseUsdPerEth, reduce, usdToWei, weiToUsd, type UsdPerEth } from './usd.js'
