export { p95SecondsPerUnit, type Candidate, type LatencyStats, type SelectionContext, type SelectionOutcome, type SelectionStrategy } from './candidate.js'
export { createAdaptiveStrategy, type AdaptiveStrategy, type AdaptiveStrategyDeps, type OrchestratorStats } from './strategy.js'
export { defaultAdaptiveStrategyOptions, type AdaptiveStrategyOptions } from './options.js'
export {
  comparePrices, filterByMaxPrice, filterByPriceCeiling, maxPriceFor, medianPrice, modelPriceKey, priceAtMost, isValidPrice,
  type MaxPriceConfig, type Price
} from './price.js'
export { createLiveLoad, defaultLiveLoadOptions, type LiveLoad, type LiveLoadOptions, type SlotFreeListener, type SlotLoad } from './live-load.js'
export { estimateWorkUnits, type InputMedia } from './work.js'
