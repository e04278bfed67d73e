/**
 * A (pipeline, model) pair: what an orchestrator offers and prices, a runner serves, a
 * gateway selects and measures. The same model id served for two pipelines is two
 * offers, priced and measured in different units, so nothing keys on the model alone.
 */
import type { PipelineName } from './pipelines.js'

export interface PipelineModel {
  readonly pipeline: PipelineName
  readonly modelId: string
}

declare const modelKeyBrand: unique symbol
declare const peerModelKeyBrand: unique symbol

/** A `PipelineModel` as a Map key: equal pairs give equal keys, different pairs different keys. */
export type ModelKey = string & { readonly [modelKeyBrand]: true }

/** A (peer, pipeline, model) triple as a Map key: what selection measures. */
export type PeerModelKey = string & { readonly [peerModelKeyBrand]: true }

// pipeline names are lower-case words and dashes, peer ids base58: neither holds a NUL
const SEPARATOR = '\u0000'

/** Also takes a pipeline name not (yet) in the registry: a worker may report one the orchestrator ignores. */
export function modelKey (model: { readonly pipeline: string, readonly modelId: string }): ModelKey {
  return `${model.pipeline}${SEPARATOR}${model.modelId}` as ModelKey
}

/** The pair a key was made from. */
export function parseModelKey (key: ModelKey): PipelineModel {
  const at = key.indexOf(SEPARATOR)
  return { pipeline: key.slice(0, at) as PipelineName, modelId: key.slice(at + 1) }
}

export function peerModelKey (peerId: string, model: PipelineModel): PeerModelKey {
  return `${peerId}${SEPARATOR}${model.pipeline}${SEPARATOR}${model.modelId}` as PeerModelKey
}
