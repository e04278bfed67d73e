import { Counter, type Registry } from 'prom-client'
import type { Logger } from '../../observability/logger.js'
import { raceSignal } from '../../signals/race-signal.js'
import { defaultCandidateLookupOptions, type CandidateLookupOptions } from './options.js'
import { modelKey, type ModelKey } from '../../kernel/model-key.js'

export { defaultCandidateLookupOptions, type CandidateLookupOptions } from './options.js'

/** What a `refill` did: looked up (alone or joined another request's lookup), or why not. */
export type LookupOutcome = 'found' | 'not_found' | 'joined' | 'cached_not_found' | 'over_capacity'

export interface CandidateLookupInit {
  /** one DHT lookup; resolves with how many orchestrators it added to the directory */
  lookup: (pipeline: string, modelId: string, options: { signal: AbortSignal }) => Promise<number>
  /** whether the directory now has a candidate for the pair */
  has: (pipeline: string, modelId: string) => boolean
  options?: Partial<CandidateLookupOptions>
  logger: Logger
  register?: Registry
  now?: () => number
}

export interface CandidateLookup {
  /**
   * Looks orchestrators for `pipeline/modelId` up in the DHT when the directory has none.
   * Concurrent calls for one pair share one lookup; a pair found empty is not looked up
   * again for `negativeTtlMs`; past `maxConcurrent` lookups a call returns at once.
   * `signal` ends this caller's wait, not the shared lookup.
   */
  refill: (pipeline: string, modelId: string, signal: AbortSignal) => Promise<LookupOutcome>
  /** lookups running now */
  running: () => number
}

/**
 * DHT lookups for the gateway's dispatcher, coalesced and cached negatively so that a
 * storm of requests for unknown models costs at most one lookup per model, and never
 * more than `maxConcurrent` at once.
 */
export function createCandidateLookup (init: CandidateLookupInit): CandidateLookup {
  const options = { ...defaultCandidateLookupOptions, ...init.options }
  const now = init.now ?? Date.now
  const inFlight = new Map<ModelKey, Promise<number>>()
  /** pair -> when its "not found" expires; insertion-ordered, so the first is the oldest */
  const notFound = new Map<ModelKey, number>()
  const outcomes = init.register !== undefined
    ? new Counter({
      name: 'shoal_gateway_candidate_lookups_total',
      help: 'Requests that met an empty directory, by what the DHT lookup did (found, not_found, joined, cached_not_found, over_capacity)',
      labelNames: ['result'] as const,
      registers: [init.register]
    })
    : undefined

  const done = (outcome: LookupOutcome): LookupOutcome => {
    outcomes?.inc({ result: outcome })
    return outcome
  }

  return {
    async refill (pipeline, modelId, signal) {
      const key = modelKey({ pipeline, modelId })
      const expires = notFound.get(key)
      if (expires !== undefined) {
        if (expires > now()) return done('cached_not_found')
        notFound.delete(key)
      }
      let pending = inFlight.get(key)
      const joined = pending !== undefined
      if (pending === undefined) {
        if (inFlight.size >= options.maxConcurrent) return done('over_capacity')
        // the lookup is shared: its deadline is its own, never one caller's signal
        pending = init.lookup(pipeline, modelId, { signal: AbortSignal.timeout(options.timeoutMs) })
          .catch(() => 0)
          .then((added) => {
            if (!init.has(pipeline, modelId) && options.negativeTtlMs > 0) {
              notFound.set(key, now() + options.negativeTtlMs)
              while (notFound.size > options.maxNegativeEntries) {
                const oldest = notFound.keys().next().value
                if (oldest === undefined) break
                notFound.delete(oldest)
              }
            }
            init.logger.debug({ pipeline, modelId, added }, 'DHT lookup for candidates')
            return added
          })
          .finally(() => { inFlight.delete(key) })
        inFlight.set(key, pending)
      }
      await raceSignal(pending, signal)
      if (joined) return done('joined')
      return done(init.has(pipeline, modelId) ? 'found' : 'not_found')
    },
    running: () => inFlight.size
  }
}
