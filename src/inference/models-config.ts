/**
 * `aiModels.json`: the models an orchestrator serves, in go-livepeer's format: an array
 * of `{pipeline, model_id, warm, capacity, url, token, optimization_flags,
 * price_per_unit, pixels_per_unit, currency}`. An entry with `url` (and optional
 * `token`) points at an external runner; the others get managed runners.
 *
 * Parsing is strict: unknown fields, wrong types and impossible values are errors that
 * name the entry index and the field.
 */
import { readFile } from 'node:fs/promises'
import { ShoalError } from '../observability/errors.js'
import { isPipelineName, PIPELINES, type PipelineName } from '../kernel/pipelines.js'

export interface ModelEntry {
  pipeline: PipelineName
  modelId: string
  /** load at startup rather than on first use. @default false */
  warm: boolean
  /** jobs this entry runs at once. @default 1 */
  capacity: number
  /** an external runner's base URL; absent for managed runners */
  url?: string
  /** Bearer token of the external runner */
  token?: string
  /** passed to the runner as environment (ai-runner convention), e.g. `{SFAST: true}` */
  optimizationFlags: Record<string, string | number | boolean>
  /** price of `pixelsPerUnit` units, as a non-negative decimal string, e.g. "4768371" or "0.5" */
  pricePerUnit: string
  /** units the price is quoted for, a positive decimal string. @default "1" */
  pixelsPerUnit: string
  /** the currency of `pricePerUnit`: WEI unless set, e.g. USD. @default "WEI" */
  currency: string
}

export type ModelsConfigErrorCode = 'MODELS_CONFIG_ERROR_INVALID' | 'MODELS_CONFIG_ERROR_READ'

export class ModelsConfigError extends ShoalError<ModelsConfigErrorCode> {
  static override readonly name = 'ModelsConfigError'
}

const FIELDS = new Set(['pipeline', 'model_id', 'warm', 'capacity', 'url', 'token', 'optimization_flags', 'price_per_unit', 'pixels_per_unit', 'currency'])
const MAX_ENTRIES = 1024
const MAX_CAPACITY = 1024
const MAX_MODEL_ID_LENGTH = 256
/** a decimal number as go-livepeer's JSONRat accepts it: integer, fraction or exponent */
const DECIMAL = /^[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/

function invalid (index: number | null, field: string | null, message: string): ModelsConfigError {
  const where = index === null ? 'aiModels.json' : `aiModels.json entry ${index}${field === null ? '' : ` field "${field}"`}`
  return new ModelsConfigError('MODELS_CONFIG_ERROR_INVALID', `${where}: ${message}`, { index, field })
}

function describe (value: unknown): string {
  const text = JSON.stringify(value)
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text
}

function decimal (index: number, field: string, value: unknown, positive: boolean): string {
  let text: string
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid(index, field, `must be a finite number (got ${describe(value)})`)
    text = String(value)
  } else if (typeof value === 'string') {
    text = value.trim()
  } else {
    throw invalid(index, field, `must be a number or a numeric string (got ${describe(value)})`)
  }
  if (!DECIMAL.test(text)) throw invalid(index, field, `must be a non-negative decimal number (got ${describe(value)})`)
  if (positive && Number(text) <= 0) throw invalid(index, field, `must be greater than 0 (got ${describe(value)})`)
  return text.replace(/^\+/, '')
}

function parseEntry (raw: unknown, index: number): ModelEntry {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid(index, null, `must be an object (got ${describe(raw)})`)
  const entry = raw as Record<string, unknown>
  for (const key of Object.keys(entry)) {
    if (!FIELDS.has(key)) throw invalid(index, key, `unknown field; fields are: ${[...FIELDS].join(', ')}`)
  }

  const pipeline = entry.pipeline
  if (pipeline === undefined) throw invalid(index, 'pipeline', 'is required')
  if (!isPipelineName(pipeline)) throw invalid(index, 'pipeline', `must be one of ${PIPELINES.join(', ')} (got ${describe(pipeline)})`)

  const modelId = entry.model_id
  if (modelId === undefined) throw invalid(index, 'model_id', 'is required')
  if (typeof modelId !== 'string' || modelId.trim() === '') throw invalid(index, 'model_id', `must be a non-empty string (got ${describe(modelId)})`)
  if (modelId.length > MAX_MODEL_ID_LENGTH || /[\s\u0000-\u001f]/.test(modelId)) {
    throw invalid(index, 'model_id', `must be at most ${MAX_MODEL_ID_LENGTH} characters without spaces or control characters`)
  }

  const warm = entry.warm ?? false
  if (typeof warm !== 'boolean') throw invalid(index, 'warm', `must be true or false (got ${describe(warm)})`)

  const capacity = entry.capacity ?? 1
  if (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) {
    throw invalid(index, 'capacity', `must be an integer from 1 to ${MAX_CAPACITY} (got ${describe(capacity)})`)
  }

  const result: ModelEntry = {
    pipeline,
    modelId,
    warm,
    capacity,
    optimizationFlags: {},
    pricePerUnit: '0',
    pixelsPerUnit: '1',
    currency: 'WEI'
  }

  if (entry.url !== undefined) {
    if (typeof entry.url !== 'string') throw invalid(index, 'url', `must be a string (got ${describe(entry.url)})`)
    let url: URL
    try {
      url = new URL(entry.url)
    } catch {
      throw invalid(index, 'url', `must be an absolute http(s) URL (got ${describe(entry.url)})`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(index, 'url', `must be an http(s) URL (got ${describe(entry.url)})`)
    if (url.search !== '' || url.hash !== '') throw invalid(index, 'url', 'must not have a query or fragment')
    result.url = entry.url.replace(/\/+$/, '')
  }
  if (entry.token !== undefined) {
    if (typeof entry.token !== 'string' || entry.token === '') throw invalid(index, 'token', 'must be a non-empty string')
    if (result.url === undefined) throw invalid(index, 'token', 'is only meaningful with "url" (an external runner)')
    result.token = entry.token
  }

  if (entry.optimization_flags !== undefined) {
    const flags = entry.optimization_flags
    if (typeof flags !== 'object' || flags === null || Array.isArray(flags)) throw invalid(index, 'optimization_flags', `must be an object (got ${describe(flags)})`)
    for (const [name, value] of Object.entries(flags)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw invalid(index, 'optimization_flags', `flag name ${describe(name)} must look like an environment variable name`)
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        throw invalid(index, 'optimization_flags', `flag ${name} must be a string, number or boolean (got ${describe(value)})`)
      }
      result.optimizationFlags[name] = value
    }
  }

  if (entry.price_per_unit !== undefined) result.pricePerUnit = decimal(index, 'price_per_unit', entry.price_per_unit, false)
  if (entry.pixels_per_unit !== undefined) result.pixelsPerUnit = decimal(index, 'pixels_per_unit', entry.pixels_per_unit, true)
  if (entry.currency !== undefined) {
    if (typeof entry.currency !== 'string' || !/^[A-Za-z]{3,5}$/.test(entry.currency)) {
      throw invalid(index, 'currency', `must be a currency code such as WEI, ETH or USD (got ${describe(entry.currency)})`)
    }
    result.currency = entry.currency.toUpperCase()
  }
  return result
}

/** Validates parsed `aiModels.json` content; throws `ModelsConfigError` naming the entry and field. */
export function parseModelsConfig (value: unknown): ModelEntry[] {
  if (!Array.isArray(value)) throw invalid(null, null, `must be a JSON array of model entries (got ${describe(value)})`)
  if (value.length > MAX_ENTRIES) throw invalid(null, null, `has ${value.length} entries; at most ${MAX_ENTRIES} are allowed`)
  const entries = value.map(parseEntry)
  const seen = new Map<string, number>()
  for (const [index, entry] of entries.entries()) {
    // one managed runner per (pipeline, model); several external URLs for one model are fine
    const key = `${entry.pipeline}\u0000${entry.modelId}\u0000${entry.url ?? ''}`
    const first = seen.get(key)
    if (first !== undefined) {
      throw invalid(index, entry.url === undefined ? 'model_id' : 'url', `duplicates entry ${first} (same pipeline, model_id${entry.url === undefined ? '' : ' and url'})`)
    }
    seen.set(key, index)
  }
  return entries
}

/** Parses `aiModels.json` text. */
export function parseModelsConfigText (text: string): ModelEntry[] {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw invalid(null, null, `is not valid JSON: ${(err as Error).message}`)
  }
  return parseModelsConfig(value)
}

/** Reads and validates an `aiModels.json` file. */
export async function loadModelsConfig (path: string, options: { signal?: AbortSignal } = {}): Promise<ModelEntry[]> {
  let text: string
  try {
    text = await readFile(path, { encoding: 'utf8', ...(options.signal === undefined ? {} : { signal: options.signal }) })
  } catch (err) {
    throw new ModelsConfigError('MODELS_CONFIG_ERROR_READ', `cannot read ${path}: ${(err as Error).message}`, { path }, { cause: err })
  }
  try {
    return parseModelsConfigText(text)
  } catch (err) {
    if (err instanceof ModelsConfigError) {
      throw new ModelsConfigError(err.code, err.message.replace(/^aiModels\.json/, path), { ...err.details, path })
    }
    throw err
  }
}
