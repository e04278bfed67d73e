/**
 * The models the CPU runner can really run, and nothing else: a request for any other
 * (pipeline, model) is refused when the runner starts, never answered with made-up
 * output.
 */
import { isPipelineName, PIPELINES, type PipelineName } from '../../kernel/pipelines.js'
import type { Logger } from '../../observability/logger.js'
import { UnsupportedRunnerModelError } from '../errors.js'
import { ESRGAN_MODELS, findEsrganModel, type EsrganModelSpec, type EsrganOptions } from './esrgan.js'
import { createEsrganModel } from './esrgan-model.js'
import { createNoopModel, NOOP_MODEL_ID } from './noop.js'
import type { CpuModel } from './types.js'
import type { CpuModelFamily } from './family.js'
import { personMaskFamily } from './person-mask.js'
import { ocrFamily } from './ocr.js'
import { llmFamily } from './llm.js'
import { espeakFamily } from './espeak.js'
import { kenBurnsFamily } from './ken-burns.js'
import { liveVideoFamily } from '../live/model.js'

/**
 * The optional model families, one per pipeline: they need the extras package
 * (`npm run install:extras`), a system binary, or a model file (see MODELS.md).
 */
const FAMILIES: readonly CpuModelFamily[] = [personMaskFamily, ocrFamily, llmFamily, espeakFamily, kenBurnsFamily, liveVideoFamily]

function familyFor (pipeline: string, modelId: string, env: NodeJS.ProcessEnv): CpuModelFamily | undefined {
  return FAMILIES.find((f) => f.pipeline === pipeline && f.matches(modelId, env))
}

export { NOOP_MODEL_ID }
export type { CpuModel, ModelOutput } from './types.js'

export interface CpuModelOptions extends EsrganOptions {
  /** model threads (jobs run at once) for real models. @default 1 */
  workers?: number
  logger: Logger
  /** where optional models read their `SHOAL_*` settings (LLM file, extras folder). @default process.env */
  env?: NodeJS.ProcessEnv
}

export interface CpuModelInfo {
  pipeline: PipelineName | '*'
  modelId: string
  description: string
  /** whether everything it needs is installed here (extras package, binary, model file) */
  available: boolean
  /** when not available: what is missing and how to install it */
  unavailableReason?: string
}

/**
 * What `shoal runner` can serve; `available` says whether it can run on this machine
 * now (serve those: `listCpuModels().filter((m) => m.available && m.pipeline !== '*')`).
 */
export function listCpuModels (env: NodeJS.ProcessEnv = process.env): CpuModelInfo[] {
  return [
    ...ESRGAN_MODELS.map((m) => ({
      pipeline: 'upscale' as const,
      modelId: m.modelId,
      description: `ESRGAN ${m.size} x${m.scale} super-resolution (upscaler + @upscalerjs/esrgan-${m.size}, tfjs WASM)`,
      available: true
    })),
    ...FAMILIES.flatMap((family) => family.models(env).map(({ modelId, description }) => {
      const reason = family.unavailable(modelId, env)
      return { pipeline: family.pipeline, modelId, description, available: reason === null, ...(reason === null ? {} : { unavailableReason: reason }) }
    })),
    { pipeline: '*', modelId: NOOP_MODEL_ID, description: 'benchmark-only: echoes its input, runs no model', available: true }
  ]
}

/**
 * One model per pipeline that can run on this machine now, the first listed of each
 * (ESRGAN slim x2 for upscale; no benchmark noop): what `shoal testnet` can serve.
 */
export function availableCpuModels (env: NodeJS.ProcessEnv = process.env): CpuModelInfo[] {
  const chosen = new Map<string, CpuModelInfo>()
  for (const m of listCpuModels(env)) {
    if (m.available && m.pipeline !== '*' && !chosen.has(m.pipeline)) chosen.set(m.pipeline, m)
  }
  return [...chosen.values()]
}

/**
 * Throws `UnsupportedRunnerModelError` unless the CPU runner really runs (pipeline,
 * modelId) on this machine: a model whose package, binary or file is missing is
 * refused with what to install (`details.missing`).
 */
export function assertCpuModelSupported (pipeline: string, modelId: string, env: NodeJS.ProcessEnv = process.env): void {
  if (!isPipelineName(pipeline)) {
    throw new UnsupportedRunnerModelError(`unknown pipeline "${pipeline}"; pipelines are: ${PIPELINES.join(', ')}`, { pipeline, modelId })
  }
  if (modelId === NOOP_MODEL_ID) return
  if (pipeline === 'upscale' && findEsrganModel(modelId) !== undefined) return
  const family = familyFor(pipeline, modelId, env)
  if (family !== undefined) {
    const reason = family.unavailable(modelId, env)
    if (reason === null) return
    throw new UnsupportedRunnerModelError(`the CPU runner cannot run ${pipeline} model "${modelId}" here: ${reason}`, { pipeline, modelId, missing: reason })
  }
  const served = listCpuModels(env).filter((m) => m.pipeline === pipeline || m.pipeline === '*').map((m) => m.modelId)
  throw new UnsupportedRunnerModelError(
    `the CPU runner cannot run model "${modelId}" for pipeline "${pipeline}"; it runs: ${served.join(', ')} ` +
    '(other models need a GPU ai-runner container or an external runner)',
    { pipeline, modelId }
  )
}

/** The model for (pipeline, modelId), not yet loaded; throws `UnsupportedRunnerModelError`. */
export function createCpuModel (pipeline: string, modelId: string, options: CpuModelOptions): CpuModel {
  const env = options.env ?? process.env
  assertCpuModelSupported(pipeline, modelId, env)
  const name = pipeline as PipelineName
  if (modelId === NOOP_MODEL_ID) return createNoopModel(name)
  const family = familyFor(pipeline, modelId, env)
  if (family !== undefined) return family.create(modelId, { workers: options.workers ?? 1, logger: options.logger, env })
  return createEsrganModel(findEsrganModel(modelId) as EsrganModelSpec, options)
}
