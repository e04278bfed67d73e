import type { PipelineName } from '../../inference/pipelines.js'
import type { Candidate } from './candidate.js'

/** A price: `pricePerUnit` wei for `pixelsPerUnit` units of work. */
export interface Price {
  pricePerUnit: bigint
  pixelsPerUnit: bigint
}

/**
 * The most a gateway pays. The most specific limit applies: per (pipeline, model),
 * then per pipeline, then global; with none, any price is accepted.
 */
export interface MaxPriceConfig {
  global?: Price
  byPipeline?: Partial<Record<PipelineName, Price>>
  /** keyed by `${pipeline}/${modelId}`, e.g. `upscale/esrgan-slim` (see `modelPriceKey`) */
  byModel?: Record<string, Price>
}

export function modelPriceKey (pipeline: PipelineName, modelId: string): string {
  return `${pipeline}/${modelId}`
}

/** The limit that applies to a (pipeline, model), or undefined when there is none. */
export function maxPriceFor (config: MaxPriceConfig, pipeline: PipelineName, modelId: string): Price | undefined {
  return config.byModel?.[modelPriceKey(pipeline, modelId)] ?? config.byPipeline?.[pipeline] ?? config.global
}

/** a/b <= c/d for positive denominators, in exact integer arithmetic */
export function priceAtMost (price: Price, max: Price): boolean {
  return price.pricePerUnit * max.pixelsPerUnit <= max.pricePerUnit * price.pixelsPerUnit
}

/** A price is usable when both parts are integers, the price is not negative and the denominator positive. */
export function isValidPrice (price: Price): boolean {
  return typeof price.pricePerUnit === 'bigint' && typeof price.pixelsPerUnit === 'bigint' &&
    price.pricePerUnit >= 0n && price.pixelsPerUnit > 0n
}

/**
 * The candidates whose price is valid and at or under the limit for their (pipeline, model).
 * An invalid limit (a zero or negative denominator) accepts nothing.
 */
export function filterByMaxPrice (candidates: Candidate[], config: MaxPriceConfig): Candidate[] {
  return candidates.filter(c => {
    if (!isValidPrice(c)) return false
    const max = maxPriceFor(config, c.pipeline, c.modelId)
    if (max === undefined) return true
    if (!isValidPrice(max)) return false
    return priceAtMost(c, max)
  })
}
