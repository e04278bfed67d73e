/**
 * How a family of optional CPU models (one per pipeline: person masks, OCR, LLM,
 * espeak-ng, ffmpeg) plugs into the runner's model registry (`index.ts`): which model
 * ids it names, what it needs installed, and how to create a model.
 */
import type { Logger } from '../../observability/logger.js'
import type { PipelineName } from '../../kernel/pipelines.js'
import type { CpuModel } from './types.js'

export interface FamilyModelOptions {
  /** jobs run at once (model threads, LLM sequences, child processes). @default 1 */
  workers: number
  logger: Logger
  /** where `SHOAL_*` settings are read from */
  env: NodeJS.ProcessEnv
}

export interface CpuModelFamily {
  readonly pipeline: PipelineName
  /** the model ids it can list without being asked about one (the LLM lists only a configured file) */
  models: (env: NodeJS.ProcessEnv) => Array<{ modelId: string, description: string }>
  /** whether this family is the one that names `modelId` */
  matches: (modelId: string, env: NodeJS.ProcessEnv) => boolean
  /** why `modelId` cannot run on this machine, with what to install; null when it can */
  unavailable: (modelId: string, env: NodeJS.ProcessEnv) => string | null
  /** the model, not yet loaded (only called when `matches` and not `unavailable`) */
  create: (modelId: string, options: FamilyModelOptions) => CpuModel
}
