export interface CandidateLookupOptions {
  /** how long one DHT lookup may take, ms */
  timeoutMs: number
  /** DHT lookups running at once; a request for another model meanwhile goes on without one */
  maxConcurrent: number
  /** how long "nothing found" is remembered per pipeline and model, ms (0: not remembered) */
  negativeTtlMs: number
  /** pipeline/model pairs remembered at most (the oldest are forgotten first) */
  maxNegativeEntries: number
}

export const defaultCandidateLookupOptions: CandidateLookupOptions = {
  timeoutMs: 3_000,
  // a lookup walks the DHT (dozens of dials); a few at once keep the event loop and /health quick
  maxConcurrent: 4,
  // a new orchestrator announces on gossip anyway; this only stops repeated DHT walks
  negativeTtlMs: 30_000,
  maxNegativeEntries: 10_000
}
