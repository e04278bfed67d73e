/**
 * What `shoal testnet` serves: one CPU model for every pipeline that runs on a CPU here,
 * each under the model id a Livepeer client asks for by default (a gateway model alias),
 * and, for the others, why not (a GPU, or a missing package).
 */
import { existsSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { defaultGatewayHttpOptions } from '../gateway/http/options.js'
import { listCpuModels, type CpuModelInfo } from '../cpu-runner/models/index.js'
import { INSTALL_EXTRAS_HINT, missingExtras } from '../cpu-runner/models/extras.js'
import type { PipelineName } from '../kernel/pipelines.js'
import { writeTinyLlamaGguf } from './tiny-gguf.js'

export interface ServedPipeline {
  pipeline: PipelineName
  /** the model the orchestrators run */
  modelId: string
  /** the model id Livepeer clients send by default, aliased to `modelId` at the gateway */
  clientDefault: string
  /** a few words about what runs */
  description: string
}

export interface TestnetPipelinePlan {
  served: ServedPipeline[]
  notServed: Array<{ pipeline: PipelineName, reason: string }>
  /** environment for the orchestrators (their runners read it): the LLM's GGUF file */
  env: Record<string, string>
}

/** Pipelines no CPU model of the runner serves: the reference runs them on GPUs. */
const GPU_ONLY_REASON = 'needs a GPU: run the livepeer/ai-runner container on an orchestrator (docker/README.md)'

/** A model id for a GGUF file: `gguf/<file name without .gguf>`, printable, bounded. */
export function ggufModelId (path: string): string {
  const name = basename(path).replace(/\.gguf$/i, '').replace(/[^\x21-\x7e]/g, '-').slice(0, 100)
  return `gguf/${name === '' ? 'model' : name}`
}

/**
 * One model per pipeline that runs here: the chosen ESRGAN upscaler, the first available
 * model of each optional family, and for llm the operator's GGUF file (`llmModelPath`) or,
 * without one, a tiny llama with random weights written to the data directory (llama.cpp
 * really runs it; the text is gibberish).
 */
export async function planTestnetPipelines (options: { dataDir: string, upscaleModel: string, llmModelPath?: string, env?: NodeJS.ProcessEnv }): Promise<TestnetPipelinePlan> {
  const env: Record<string, string> = {}
  let llmPath = options.llmModelPath === undefined ? undefined : resolve(options.llmModelPath)
  let llmNote = 'llama.cpp on CPU'
  if (llmPath !== undefined && !existsSync(llmPath)) throw new Error(`--llm-model: ${llmPath} does not exist`)
  const probeEnv = { ...(options.env ?? process.env) }
  // a model file is worth writing only where the LLM runtime is installed
  if (llmPath === undefined && missingExtras(['node-llama-cpp'], probeEnv).length === 0) {
    llmPath = await writeTinyLlamaGguf(join(options.dataDir, 'tiny-random-llama.gguf'))
    llmNote = 'a tiny llama with random weights (gibberish; --llm-model FILE.gguf serves a real one) on llama.cpp'
  }
  if (llmPath !== undefined) env.SHOAL_LLM_MODEL_PATH = llmPath
  const models = listCpuModels({ ...probeEnv, ...env })
  const defaults = defaultGatewayHttpOptions.defaultModels as Record<string, string>
  const served: ServedPipeline[] = []
  const notServed: TestnetPipelinePlan['notServed'] = []
  // the gateway's routes (live video is not one), upscale first: it is the demo
  const pipelines = Object.keys(defaults).sort((a, b) => Number(b === 'upscale') - Number(a === 'upscale')) as PipelineName[]
  for (const pipeline of pipelines) {
    const clientDefault = defaults[pipeline] ?? ''
    if (pipeline === 'upscale') {
      served.push({ pipeline, modelId: options.upscaleModel, clientDefault, description: 'ESRGAN on tfjs WASM' })
      continue
    }
    const family = models.filter((m): m is CpuModelInfo & { pipeline: PipelineName } => m.pipeline === pipeline)
    const available = family.find(m => m.available)
    if (available !== undefined) {
      const isLlm = pipeline === 'llm'
      served.push({ pipeline, modelId: isLlm ? ggufModelId(llmPath as string) : available.modelId, clientDefault, description: isLlm ? llmNote : available.description })
    } else if (pipeline === 'llm' && family.length === 0) {
      // nothing listed: no model file, because the runtime is missing
      notServed.push({ pipeline, reason: `node-llama-cpp is not installed: ${INSTALL_EXTRAS_HINT}` })
    } else if (family.length === 0) {
      notServed.push({ pipeline, reason: GPU_ONLY_REASON })
    } else {
      notServed.push({ pipeline, reason: family[0]?.unavailableReason ?? 'not available here' })
    }
  }
  // live video has its own routes (/live/video-to-video/...), not a gateway default model
  const live = models.find(m => m.pipeline === 'live-video-to-video')
  if (live?.available === true) served.push({ pipeline: 'live-video-to-video', modelId: live.modelId, clientDefault: '', description: live.description })
  else notServed.push({ pipeline: 'live-video-to-video', reason: live?.unavailableReason ?? GPU_ONLY_REASON })
  return { served, notServed, env }
}
