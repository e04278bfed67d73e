import type { PipelineModel } from '../../kernel/model-key.js'
import type { PipelineName } from '../../kernel/pipelines.js'

/**
 * One orchestrator able to serve one (pipeline, model), as the directory knows it.
 * Prices are `pricePerUnit` wei for every `pixelsPerUnit` units of work (the
 * pipeline's `PIPELINE_UNIT`), compared as exact rationals.
 */
export interface Candidate {
  peerId: string
  pipeline: PipelineName
  modelId: string
  /** the model is loaded and answers without a cold start */
  warm: boolean
  /** slots the orchestrator advertises for the model */
  capacity: number
  /** slots in use at the last announcement */
  inUse: number
  pricePerUnit: bigint
  pixelsPerUnit: bigint
}

/** What `record` learns from one attempt. `units` is the work of the job (see `estimateWorkUnits`). */
export type SelectionOutcome =
  | { kind: 'success', seconds: number, units: number }
  | { kind: 'busy' }
  | { kind: 'failure' }

export interface SelectionContext {
  pipeline: PipelineName
  modelId: string
  /** milliseconds, the clock suspensions are measured against */
  now: number
  /** uniform in [0, 1); injected so orders are reproducible in tests */
  random: () => number
  /**
   * overrides the strategy's own `explorationShare`: the chance that an unproven
   * orchestrator is put first when proven ones exist
   */
  explorationShare?: number
}

/** What a strategy measured about one (orchestrator, model); the dispatcher derives deadlines and hedging from it. */
export interface LatencyStats {
  /** moving average of seconds per unit of work; undefined until a success */
  secondsPerUnit?: number
  /** moving variance of seconds per unit (same weights as the average); 0 until a second success */
  secondsPerUnitVariance: number
  /** successes recorded, ever: an orchestrator with one is proven */
  successes: number
}

/**
 * A pluggable selection algorithm. `order` is pure given its state, the candidates
 * and the context; `record` is the only way its state changes.
 */
export interface SelectionStrategy {
  /** candidates to try for a job, best first (already filtered by price); suspended ones are left out */
  order: (candidates: Candidate[], ctx: SelectionContext) => Candidate[]
  /** learn from one attempt on `peerId` for (pipeline, model) */
  record: (peerId: string, model: PipelineModel, outcome: SelectionOutcome, now: number) => void
  /** what is measured about one (orchestrator, pipeline, model), if anything; without it deadlines use pipeline defaults and nobody is proven */
  latency?: (peerId: string, model: PipelineModel) => LatencyStats | undefined
}

/**
 * The p95 of seconds per unit from a moving mean and variance: mean + 1.645 sd, as
 * for a normal distribution (latencies are skewed; the deadline multiple covers that).
 */
export function p95SecondsPerUnit (stats: LatencyStats): number | undefined {
  if (stats.secondsPerUnit === undefined) return undefined
  return stats.secondsPerUnit + 1.645 * Math.sqrt(Math.max(0, stats.secondsPerUnitVariance))
}
