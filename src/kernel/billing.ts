import type { InferenceJob } from './job.js'
import { pipelineDefinition } from './pipelines.js'

/**
 * Billable units of a job, as its pipeline counts them (`units` of its definition in
 * `pipelines/`, in the pipeline's `unit`): output pixels for image generation, input
 * pixels for image inputs, max_tokens for an LLM, characters for speech, milliseconds of
 * audio for transcription.
 *
 * Both sides compute it from the job itself: the gateway to pay, the orchestrator to
 * charge. Neither trusts the other's number.
 */
export function billableUnits (job: InferenceJob): bigint {
  return pipelineDefinition(job.pipeline).units(job)
}

/** Whether a pipeline's answers are metered for the units really delivered (an LLM's tokens). */
export function isMetered (job: Pick<InferenceJob, 'pipeline'>): boolean {
  return pipelineDefinition(job.pipeline).deliveredUnits !== undefined
}

/**
 * Units really delivered, from the runner's answer, where they differ from the
 * estimate: an LLM is charged for the tokens it produced (`usage.completion_tokens`,
 * or the streamed chunks), never for max_tokens. Returns undefined to keep the estimate.
 */
export function deliveredUnits (job: InferenceJob, contentType: string, body: Uint8Array | undefined): bigint | undefined {
  const delivered = pipelineDefinition(job.pipeline).deliveredUnits
  return delivered === undefined || body === undefined ? undefined : delivered(contentType, body)
}

/** price x units, rounded up: `pricePerUnit` wei per `pixelsPerUnit` units. */
export function feeFor (units: bigint, price: { pricePerUnit: bigint, pixelsPerUnit: bigint }): bigint {
  return (units * price.pricePerUnit + price.pixelsPerUnit - 1n) / price.pixelsPerUnit
}

/** What one job costs: its units at the unit price, plus the price per request when there is one (custom capabilities). */
export function jobFee (units: bigint, price: { pricePerUnit: bigint, pixelsPerUnit: bigint, pricePerRequest?: bigint }): bigint {
  return feeFor(units, price) + (price.pricePerRequest ?? 0n)
}
