import { peerModelKey, type PeerModelKey, type PipelineModel } from '../../kernel/model-key.js'
import type { Candidate, LatencyStats, SelectionContext, SelectionOutcome, SelectionStrategy } from './candidate.js'
import { defaultAdaptiveStrategyOptions, type AdaptiveStrategyOptions } from './options.js'

/** What the strategy knows about one (orchestrator, pipeline, model). */
export interface OrchestratorStats extends LatencyStats {
  /** moving average of successes among successes and failures (busy not counted), starts at 1 */
  successRate: number
  consecutiveFailures: number
  /** epoch ms until which it is left out of `order`; 0 when not suspended */
  suspendedUntil: number
}

export interface AdaptiveStrategyDeps {
  /**
   * 0..1 per orchestrator, a factor of its weight: spot-check reputation and stake
   * (src/gateway/verification); 0 leaves it out of every order
   */
  trust?: (peerId: string, now: number) => number
}

export interface AdaptiveStrategy extends SelectionStrategy {
  /** a copy of what is known about one (orchestrator, pipeline, model), or undefined */
  stats: (peerId: string, model: PipelineModel) => OrchestratorStats | undefined
  latency: (peerId: string, model: PipelineModel) => LatencyStats | undefined
}

/**
 * The default selection algorithm.
 *
 * `order` drops suspended orchestrators and splits the rest into proven (a success
 * recorded) and unproven. Proven ones come first; unproven ones follow, except that
 * with probability `explorationShare` one unproven orchestrator is put first, so new
 * orchestrators are measured on a bounded share of first attempts and a flood of fake
 * identities cannot take more than that share. With no proven candidate, unproven ones
 * are ordered like any other. Each group ranks four tiers: warm with a free slot,
 * warm and full, cold with a free slot, cold and full (a full one may have freed a slot
 * since it announced; a cold one costs a model load). Within a tier the order is a
 * weighted random draw without replacement (exponential clocks: -ln(u)/w ascending), so
 * load spreads in proportion to weight rather than all going to the single best one.
 *
 * weight = max(minWeight, latency x success x capacity x trust^trustExponent), where
 * - latency = (fastest seconds-per-unit in the tier / own)^latencyExponent, 1 while unknown
 *   (only unproven orchestrators are unknown, and they are ranked apart);
 * - success = successRate^successExponent;
 * - capacity = free / (free + 1), free slots with diminishing returns (1 for the full tiers);
 * - trust = the `trust` dependency's score (spot-check reputation, stake), 1 without it;
 *   an orchestrator whose trust is 0 is left out.
 *
 * `record`: a success updates the latency average and variance and the success rate and ends any
 * suspension; busy changes nothing; a failure lowers the success rate and suspends for
 * suspendBaseMs x 2^(consecutive failures - 1), at most suspendMaxMs.
 */
export function createAdaptiveStrategy (init: Partial<AdaptiveStrategyOptions> = {}, deps: AdaptiveStrategyDeps = {}): AdaptiveStrategy {
  const options: AdaptiveStrategyOptions = { ...defaultAdaptiveStrategyOptions, ...init }
  const trustOf = (peerId: string, now: number): number => {
    const t = deps.trust?.(peerId, now) ?? 1
    return Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 1
  }
  // per (peer, pipeline, model): a model served for two pipelines is measured in two units
  const entries = new Map<PeerModelKey, OrchestratorStats>()

  function touch (k: PeerModelKey): OrchestratorStats {
    const existing = entries.get(k)
    if (existing !== undefined) {
      entries.delete(k)
      entries.set(k, existing)
      return existing
    }
    const created: OrchestratorStats = { secondsPerUnitVariance: 0, successes: 0, successRate: 1, consecutiveFailures: 0, suspendedUntil: 0 }
    entries.set(k, created)
    while (entries.size > options.maxEntries) {
      const oldest = entries.keys().next().value
      if (oldest === undefined) break
      entries.delete(oldest)
    }
    return created
  }

  function weightsFor (tier: Candidate[], full: boolean, now: number): number[] {
    let fastest = Infinity
    const stats = tier.map(c => entries.get(peerModelKey(c.peerId, c)))
    for (const s of stats) {
      if (s?.secondsPerUnit !== undefined && s.secondsPerUnit < fastest) fastest = s.secondsPerUnit
    }
    return tier.map((c, i) => {
      const s = stats[i]
      const own = s?.secondsPerUnit
      const latency = own === undefined || own <= 0 || !Number.isFinite(fastest) ? 1 : Math.pow(fastest / own, options.latencyExponent)
      const success = Math.pow(s?.successRate ?? 1, options.successExponent)
      const free = Math.max(0, c.capacity - c.inUse)
      const capacity = full ? 1 : free / (free + 1)
      const w = latency * success * capacity * Math.pow(trustOf(c.peerId, now), options.trustExponent)
      return Number.isFinite(w) ? Math.max(options.minWeight, w) : options.minWeight
    })
  }

  function draw (tier: Candidate[], weights: number[], random: () => number): Candidate[] {
    const keyed = tier.map((c, i) => {
      const u = random()
      const clamped = u > 0 && u < 1 ? u : (u <= 0 ? Number.MIN_VALUE : 1 - Number.EPSILON)
      return { c, k: -Math.log(clamped) / (weights[i] ?? options.minWeight) }
    })
    keyed.sort((a, b) => a.k - b.k)
    return keyed.map(e => e.c)
  }

  function rank (tiers: Candidate[][], random: () => number, now: number): Candidate[] {
    const ordered: Candidate[] = []
    tiers.forEach((tier, index) => {
      if (tier.length === 0) return
      const full = index % 2 === 1
      ordered.push(...draw(tier, weightsFor(tier, full, now), random))
    })
    return ordered
  }

  return {
    order (candidates: Candidate[], ctx: SelectionContext): Candidate[] {
      const proven: Candidate[][] = [[], [], [], []]
      const unproven: Candidate[][] = [[], [], [], []]
      let provenCount = 0
      let unprovenCount = 0
      const suspended: Array<{ c: Candidate, until: number }> = []
      const seen = new Set<string>()
      for (const c of candidates) {
        if (seen.has(c.peerId)) continue
        seen.add(c.peerId)
        // excluded by verification (a confirmed wrong answer): no work at all, not even as a last resort
        if (deps.trust !== undefined && trustOf(c.peerId, ctx.now) === 0) continue
        const s = entries.get(peerModelKey(c.peerId, c))
        if (s !== undefined && s.suspendedUntil > ctx.now) {
          suspended.push({ c, until: s.suspendedUntil })
          continue
        }
        const full = c.capacity - c.inUse <= 0
        const index = (c.warm ? 0 : 2) + (full ? 1 : 0)
        if (s !== undefined && s.successes > 0) {
          proven[index]?.push(c)
          provenCount++
        } else {
          unproven[index]?.push(c)
          unprovenCount++
        }
      }
      let ordered: Candidate[]
      if (provenCount === 0 || unprovenCount === 0) {
        ordered = rank(proven.map((tier, i) => tier.concat(unproven[i] ?? [])), ctx.random, ctx.now)
      } else {
        const share = ctx.explorationShare ?? options.explorationShare
        const first = rank(proven, ctx.random, ctx.now)
        const rest = rank(unproven, ctx.random, ctx.now)
        // one unproven orchestrator first on a bounded share of orders; otherwise proven
        // ones first, unproven ones only once those are used up
        ordered = ctx.random() < share ? [...rest.slice(0, 1), ...first, ...rest.slice(1)] : [...first, ...rest]
      }
      // suspended orchestrators come last, soonest back first: one transient failure of the
      // only orchestrator serving a model must not turn every request into a 503
      if (options.lastResortSuspended) ordered.push(...suspended.sort((a, b) => a.until - b.until).map(e => e.c))
      return ordered
    },

    record (peerId: string, model: PipelineModel, outcome: SelectionOutcome, now: number): void {
      if (outcome.kind === 'busy') return
      const s = touch(peerModelKey(peerId, model))
      const a = options.ewmaAlpha
      if (outcome.kind === 'success') {
        const sample = outcome.seconds / Math.max(outcome.units, 1e-12)
        if (Number.isFinite(sample) && sample >= 0) {
          if (s.secondsPerUnit === undefined) {
            s.secondsPerUnit = sample
          } else {
            // exponentially weighted mean and variance (Finch 2009): enough for a p95
            const diff = sample - s.secondsPerUnit
            const increment = a * diff
            s.secondsPerUnit += increment
            s.secondsPerUnitVariance = (1 - a) * (s.secondsPerUnitVariance + diff * increment)
          }
        }
        s.successes += 1
        s.successRate = a + (1 - a) * s.successRate
        s.consecutiveFailures = 0
        s.suspendedUntil = 0
        return
      }
      s.successRate = (1 - a) * s.successRate
      s.consecutiveFailures += 1
      const backoff = Math.min(options.suspendMaxMs, options.suspendBaseMs * Math.pow(2, s.consecutiveFailures - 1))
      s.suspendedUntil = now + backoff
    },

    stats (peerId: string, model: PipelineModel): OrchestratorStats | undefined {
      const s = entries.get(peerModelKey(peerId, model))
      return s === undefined ? undefined : { ...s }
    },

    // no copy: the dispatcher reads it once per attempt
    latency (peerId: string, model: PipelineModel): LatencyStats | undefined {
      return entries.get(peerModelKey(peerId, model))
    }
  }
}
