/**
 * Model aliases: a model id clients ask for (a Livepeer SDK's default, such as
 * `stabilityai/stable-diffusion-x4-upscaler` for upscale) served by a model the mesh
 * runs (`upscalerjs/esrgan-slim-x2`). Resolved once per request, before selection, so
 * clients work unchanged; the answer's `X-Shoal-Model` header says which model ran.
 */
import { modelIdProblem } from '../kernel/identifiers.js'
import { isPipelineName, type PipelineName } from '../kernel/pipelines.js'

/** pipeline -> requested model id -> the model that serves it */
export type ModelAliasMap = Partial<Record<PipelineName, Record<string, string>>>

/** What a requested model resolves to. */
export interface ResolvedModel {
  /** the model id the job is dispatched for */
  modelId: string
  /** the id the client asked for, when an alias replaced it */
  alias?: string
}

export class ModelAliasSyntaxError extends Error {
  static readonly code = 'ALIAS_ERROR_SYNTAX'
}

/**
 * Parses `PIPELINE:ALIAS=MODEL` entries (e.g.
 * `upscale:stabilityai/stable-diffusion-x4-upscaler=upscalerjs/esrgan-slim-x2`). The
 * pipeline ends at the first `:`, the alias at the first `=` after it; both model ids
 * follow the shared model id rule. Throws `ModelAliasSyntaxError` naming the entry.
 */
export function parseModelAliases (entries: readonly string[]): ModelAliasMap {
  const out: ModelAliasMap = {}
  for (const entry of entries) {
    const colon = entry.indexOf(':')
    const equals = entry.indexOf('=', colon + 1)
    if (colon < 1 || equals < 0) throw new ModelAliasSyntaxError(`"${entry}" must be PIPELINE:ALIAS=MODEL_ID, e.g. upscale:stabilityai/stable-diffusion-x4-upscaler=upscalerjs/esrgan-slim-x2`)
    const pipeline = entry.slice(0, colon)
    const alias = entry.slice(colon + 1, equals)
    const target = entry.slice(equals + 1)
    if (!isPipelineName(pipeline)) throw new ModelAliasSyntaxError(`"${entry}": "${pipeline}" is not a pipeline`)
    const aliasProblem = modelIdProblem(alias)
    if (aliasProblem !== undefined) throw new ModelAliasSyntaxError(`"${entry}": the alias ${aliasProblem}`)
    const targetProblem = modelIdProblem(target)
    if (targetProblem !== undefined) throw new ModelAliasSyntaxError(`"${entry}": the model ${targetProblem}`)
    if (alias === target) throw new ModelAliasSyntaxError(`"${entry}": an alias of itself`)
    const forPipeline = out[pipeline] ?? (out[pipeline] = {})
    forPipeline[alias] = target
  }
  // one step only: an alias to another alias would make the served model depend on order
  for (const [pipeline, map] of Object.entries(out) as Array<[PipelineName, Record<string, string>]>) {
    for (const [alias, target] of Object.entries(map)) {
      if (map[target] !== undefined) throw new ModelAliasSyntaxError(`${pipeline}:${alias}=${target}: "${target}" is itself an alias`)
    }
  }
  return out
}

/** The model a request for (pipeline, requested) is served by. */
export function resolveModelAlias (aliases: ModelAliasMap, pipeline: string, requested: string): ResolvedModel {
  const target = isPipelineName(pipeline) ? aliases[pipeline]?.[requested] : undefined
  return target === undefined ? { modelId: requested } : { modelId: target, alias: requested }
}

/** The aliases as `PIPELINE:ALIAS=MODEL` entries (what the flag takes), e.g. to print them. */
export function formatModelAliases (aliases: ModelAliasMap): string[] {
  return (Object.entries(aliases) as Array<[PipelineName, Record<string, string>]>)
    .flatMap(([pipeline, map]) => Object.entries(map).map(([alias, target]) => `${pipeline}:${alias}=${target}`))
}
