/** Tuning of the adaptive selection strategy; every field has a default below. */
export interface AdaptiveStrategyOptions {
  /** weight of the newest sample in the moving averages of latency and success (0..1] */
  ewmaAlpha: number
  /** an orchestrator k times slower than the pool's fastest gets 1/k^latencyExponent of its share */
  latencyExponent: number
  /** the share scales with successRate^successExponent */
  successExponent: number
  /** a floor on every weight so that no orchestrator starves and estimates stay fresh */
  minWeight: number
  /** suspension after the first consecutive failure; doubled on each further one */
  suspendBaseMs: number
  /** the longest suspension */
  suspendMaxMs: number
  /** bound on the (orchestrator, model) entries remembered; the least recently updated go first */
  maxEntries: number
  /** order suspended orchestrators after all others instead of leaving them out */
  lastResortSuspended: boolean
  /**
   * when proven orchestrators (a success recorded) exist, the chance that an unproven one
   * is put first; the rest of the time unproven ones come after every proven one
   */
  explorationShare: number
  /** the share scales with trust^trustExponent (verification reputation and stake, `AdaptiveStrategyDeps.trust`) */
  trustExponent: number
}

export const defaultAdaptiveStrategyOptions: AdaptiveStrategyOptions = {
  ewmaAlpha: 0.3,
  // squared: twice as slow gets a quarter of the traffic, yet still enough to notice when it speeds up
  latencyExponent: 2,
  successExponent: 2,
  minWeight: 0.02,
  // the reference suspends for ~30 min flat, which removes a node for one transient
  // failure; a short first suspension that doubles reacts as fast to a real outage
  suspendBaseMs: 5_000,
  suspendMaxMs: 10 * 60_000,
  maxEntries: 10_000,
  lastResortSuspended: true,
  // enough to measure a newcomer within tens of jobs; small enough that thousands of
  // fake identities, all unproven, take at most a tenth of first attempts
  explorationShare: 0.1,
  // linear: an orchestrator with one confirmed fault against four passed checks keeps half its share
  trustExponent: 1
}
