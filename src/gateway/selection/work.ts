import type { InferenceJob } from '../../kernel/job.js'
import { pipelineDefinition, type InputMedia } from '../../kernel/pipelines.js'

export type { InputMedia } from '../../kernel/pipelines.js'

/**
 * The amount of work in a job, the denominator of the latency score (seconds per
 * unit), so that a big job on a fast orchestrator does not look slower than a small
 * job on a slow one: each pipeline's `work` (output pixels x steps for image
 * generation, input pixels for image inputs, max_tokens for an LLM, ...).
 */
export function estimateWorkUnits (job: InferenceJob, media?: InputMedia): number {
  return pipelineDefinition(job.pipeline).work(job, media)
}
