/**
 * The pipeline registry: every pipeline Shoal routes, each defined once in its own module
 * under `pipelines/` (request and response schemas, body kind, model field, billing unit
 * and units, work estimate, route, streaming). Names are the ai-runner's (`POST /<name>`),
 * and this list is the one source of truth for pipeline names on the wire, in
 * announcements and in the gateway's routes. Adding a pipeline: a module, a line here.
 */
import type { BillingUnit, PipelineDefinition } from './pipelines/definition.js'
import audioToText from './pipelines/audio-to-text.js'
import custom from './pipelines/custom.js'
import imageToImage from './pipelines/image-to-image.js'
import imageToText from './pipelines/image-to-text.js'
import imageToVideo from './pipelines/image-to-video.js'
import liveVideoToVideo from './pipelines/live-video-to-video.js'
import llm from './pipelines/llm.js'
import segmentAnything2 from './pipelines/segment-anything-2.js'
import textToImage from './pipelines/text-to-image.js'
import textToSpeech from './pipelines/text-to-speech.js'
import upscale from './pipelines/upscale.js'

export type { BillingUnit, DeclaredJob, InputMedia, PipelineDefinition } from './pipelines/definition.js'

const DEFINITIONS = [
  textToImage,
  imageToImage,
  imageToVideo,
  upscale,
  audioToText,
  segmentAnything2,
  llm,
  imageToText,
  textToSpeech,
  liveVideoToVideo,
  custom
] as const

type AnyDefinition = typeof DEFINITIONS[number]

export type PipelineName = AnyDefinition['name']

/** The pipelines the gateway's HTTP API serves (all but live video, which has its own flow). */
export type GatewayPipeline = Extract<AnyDefinition, { gateway: true }>['name']

export const PIPELINES: readonly PipelineName[] = DEFINITIONS.map(d => d.name)

export const GATEWAY_PIPELINES: readonly GatewayPipeline[] = DEFINITIONS.filter((d): d is Extract<AnyDefinition, { gateway: true }> => d.gateway).map(d => d.name)

const BY_NAME = new Map<string, PipelineDefinition>(DEFINITIONS.map(d => [d.name, d]))

export function isPipelineName (value: unknown): value is PipelineName {
  return typeof value === 'string' && BY_NAME.has(value)
}

export function isGatewayPipeline (value: unknown): value is GatewayPipeline {
  return typeof value === 'string' && BY_NAME.get(value)?.gateway === true
}

/** The definition of a pipeline. */
export function pipelineDefinition (name: PipelineName): PipelineDefinition {
  const definition = BY_NAME.get(name)
  if (definition === undefined) throw new TypeError(`unknown pipeline ${JSON.stringify(name)}`)
  return definition
}

function table<T> (pick: (d: PipelineDefinition) => T): Record<PipelineName, T> {
  return Object.fromEntries(DEFINITIONS.map(d => [d.name, pick(d)])) as Record<PipelineName, T>
}

/** How the runner expects the request body, per pipeline. */
export const PIPELINE_BODY: Readonly<Record<PipelineName, 'json' | 'multipart' | 'raw'>> = table(d => d.body)

/** The unit a price is quoted in, per pipeline (`pricePerUnit` wei for `pixelsPerUnit` units). */
export const PIPELINE_UNIT: Readonly<Record<PipelineName, BillingUnit>> = table(d => d.unit)
