import type { PipelineName } from '../../kernel/pipelines.js'
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

/** -1, 0 or 1 as a/b is below, equal to or above c/d (positive denominators) */
export function comparePrices (a: Price, b: Price): number {
  const left = a.pricePerUnit * b.pixelsPerUnit
  const right = b.pricePerUnit * a.pixelsPerUnit
  return left < right ? -1 : left > right ? 1 : 0
}

/** The lower median of valid prices (the lower of the two middle ones for an even count), or undefined for none. */
export function medianPrice (prices: Price[]): Price | undefined {
  const valid = prices.filter(isValidPrice).sort(comparePrices)
  const middle = valid[Math.floor((valid.length - 1) / 2)]
  return middle === undefined ? undefined : { pricePerUnit: middle.pricePerUnit, pixelsPerUnit: middle.pixelsPerUnit }
}

/** multiples are compared in thousandths, exactly */
const MULTIPLE_SCALE = 1000n

/**
 * The price ceiling relative to the mesh: candidates priced above `multiple` x the
 * median price of the *proven* candidates (orchestrators with a recorded success) are
 * excluded. Only proven prices count, so identities that never served a job (Sybils at
 * 1 wei) cannot drag the reference down and lock real orchestrators out. With no
 * proven candidate, or `multiple` <= 0 (off), nothing is excluded here: the absolute
 * limits (`filterByMaxPrice`) still apply.
 */
export function filterByPriceCeiling (candidates: Candidate[], isProven: (c: Candidate) => boolean, multiple: number): { kept: Candidate[], excluded: Candidate[], median?: Price } {
  if (!(multiple > 0) || !Number.isFinite(multiple) || candidates.length === 0) return { kept: candidates, excluded: [] }
  const median = medianPrice(candidates.filter(isProven))
  if (median === undefined) return { kept: candidates, excluded: [] }
  const scaled = BigInt(Math.round(multiple * Number(MULTIPLE_SCALE)))
  const kept: Candidate[] = []
  const excluded: Candidate[] = []
  for (const c of candidates) {
    // c <= multiple x median  <=>  c.ppu x median.ppx x SCALE <= scaled x median.ppu x c.ppx
    const ok = c.pricePerUnit * median.pixelsPerUnit * MULTIPLE_SCALE <= scaled * median.pricePerUnit * c.pixelsPerUnit
    if (ok) kept.push(c)
    else excluded.push(c)
  }
  return { kept, excluded, median }
}
