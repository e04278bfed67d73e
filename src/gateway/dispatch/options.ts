import type { MaxPriceConfig } from '../selection/price.js'

export interface DispatcherOptions {
  /**
   * No new attempt starts later than this after the dispatch began. A job already
   * running is never cut by it (job timeouts belong to the protocol client).
   */
  retryBudgetMs: number
  /** attempts per dispatch, all orchestrators together */
  maxTries: number
  /** attempts per orchestrator per dispatch (only busy answers can use more than one) */
  maxTriesPerOrchestrator: number
  /** the most the gateway pays, globally, per pipeline or per (pipeline, model) */
  maxPrice: MaxPriceConfig
  /** wait before going round again when every remaining candidate was busy; doubles each round */
  busyRetryDelayMs: number
  /** the longest wait between rounds */
  busyRetryMaxDelayMs: number
}

export const defaultDispatcherOptions: DispatcherOptions = {
  // the reference allows 2 s, which gives up on any job that fails after running
  // longer than that (an orchestrator killed mid-job); 30 s still bounds a client's wait
  retryBudgetMs: 30_000,
  // as the reference: 20 tries, 3 per orchestrator
  maxTries: 20,
  maxTriesPerOrchestrator: 3,
  maxPrice: {},
  busyRetryDelayMs: 20,
  busyRetryMaxDelayMs: 500
}
