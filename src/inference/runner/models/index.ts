/**
 * The models the CPU runner can really run, and nothing else: a request for any other
 * (pipeline, model) is refused when the runner starts, never answered with made-up
 * output.
 */
import { isPipelineName, PIPELINES, type PipelineName } from '../../pipelines.js'
import type { Logger } from '../../../observability/logger.js'
import { UnsupportedRunnerModelError } from '../errors.js'
import { ESRGAN_MODELS, findEsrganModel, type EsrganModelSpec, type EsrganOptions } from './esrgan.js'
import { createEsrganModel } from './esrgan-model.js'
import { createNoopModel, NOOP_MODEL_ID } from './noop.js'
import type { CpuModel } from './types.js'

export { NOOP_MODEL_ID }
export type { CpuModel, ModelOutput } from './types.js'

export interface CpuModelOptions extends EsrganOptions {
  /** model threads (jobs run at once) for real models. @default 1 */
  workers?: number
  logger: Logger
}

export interface CpuModelInfo {
  pipeline: PipelineName | '*'
  modelId: string
  description: string
}

/** What `shoal runner` can serve. */
export function listCpuModels (): CpuModelInfo[] {
  return [
    ...ESRGAN_MODELS.map((m) => ({
      pipeline: 'upscale' as const,
      modelId: m.modelId,
      description: `ESRGAN ${m.size} x${m.scale} super-resolution (upscaler + @upscalerjs/esrgan-${m.size}, tfjs WASM)`
    })),
    { pipeline: '*', modelId: NOOP_MODEL_ID, description: 'benchmark-only: echoes its input, runs no model' }
  ]
}

/** Throws `UnsupportedRunnerModelError` unless the CPU runner really runs (pipeline, modelId). */
export function assertCpuModelSupported (pipeline: string, modelId: string): void {
  if (!isPipelineName(pipeline)) {
    throw new UnsupportedRunnerModelError(`unknown pipeline "${pipeline}"; pipelines are: ${PIPELINES.join(', ')}`, { pipeline, modelId })
  }
  if (modelId === NOOP_MODEL_ID) return
  if (pipeline === 'upscale' && findEsrganModel(modelId) !== undefined) return
  const served = listCpuModels().filter((m) => m.pipeline === pipeline || m.pipeline === '*').map((m) => m.modelId)
  throw new UnsupportedRunnerModelError(
    `the CPU runner cannot run model "${modelId}" for pipeline "${pipeline}"; it runs: ${served.join(', ')} ` +
    '(other models need a GPU ai-runner container or an external runner)',
    { pipeline, modelId }
  )
}

/** The model for (pipeline, modelId), not yet loaded; throws `UnsupportedRunnerModelError`. */
export function createCpuModel (pipeline: string, modelId: string, options: CpuModelOptions): CpuModel {
  assertCpuModelSupported(pipeline, modelId)
  const name = pipeline as PipelineName
  if (modelId === NOOP_MODEL_ID) return createNoopModel(name)
  return createEsrganModel(findEsrganModel(modelId) as EsrganModelSpec, options)
}
