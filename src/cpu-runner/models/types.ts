import type { JsonValue } from '../../kernel/job.js'
import type { PipelineName } from '../../kernel/pipelines.js'
import type { ValidatedRequest } from '../schemas.js'

/** What a model answers: a JSON body, or Server-Sent Events (LLM streaming). */
export type ModelOutput =
  | { kind: 'json', body: JsonValue }
  | { kind: 'sse', events: AsyncIterable<JsonValue> }

/**
 * A model the CPU runner really runs. `load` is called once before any `run`;
 * `run` may be called up to `concurrency` times at once (the runner queues the rest).
 */
export interface CpuModel {
  readonly pipeline: PipelineName
  readonly modelId: string
  /** how many `run` calls may execute at once */
  readonly concurrency: number
  load: (options?: { signal?: AbortSignal }) => Promise<void>
  /** Throws `ModelInputError` for bad input (HTTP 400), anything else is a pipeline error (500). */
  run: (request: ValidatedRequest, options: { signal: AbortSignal }) => Promise<ModelOutput>
  close: () => Promise<void>
}
