/**
 * `aiModels.json`: the models an orchestrator serves, in go-livepeer's format: an array
 * of `{pipeline, model_id, warm, capacity, url, token, optimization_flags,
 * price_per_unit, pixels_per_unit, currency}`. An entry with `url` (and optional
 * `token`) points at an external runner; the others get managed runners.
 *
 * Parsing is strict (a TypeBox schema, then what a schema cannot say: URLs, prices,
 * duplicates): unknown fields, wrong types and impossible values are errors that name
 * the entry index and the field. Model ids follow the one rule of `kernel/identifiers`.
 */
import { readFile } from 'node:fs/promises'
import { Type } from '@sinclair/typebox'
import { ShoalError } from '../kernel/errors.js'
import { MODEL_ID_PATTERN, modelIdProblem } from '../kernel/identifiers.js'
import { modelKey } from '../kernel/model-key.js'
import { PIPELINES, type PipelineName } from '../kernel/pipelines.js'
import { compileSchema } from '../kernel/schema.js'

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

const MAX_ENTRIES = 1024
const MAX_CAPACITY = 1024
const Decimal = Type.Union([Type.Number(), Type.String()])

/** One entry of `aiModels.json` as written (go-livepeer's field names). */
const ModelEntryFile = Type.Object({
  // custom capabilities have their own file (--custom-capabilities)
  pipeline: Type.Unsafe<PipelineName>({ type: 'string', enum: PIPELINES.filter(p => p !== 'custom') }),
  model_id: Type.String({ pattern: MODEL_ID_PATTERN }),
  warm: Type.Optional(Type.Boolean()),
  capacity: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_CAPACITY })),
  url: Type.Optional(Type.String()),
  token: Type.Optional(Type.String({ minLength: 1 })),
  // passed to the runner as environment variables: names must be ones
  optimization_flags: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
    propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }
  })),
  price_per_unit: Type.Optional(Decimal),
  pixels_per_unit: Type.Optional(Decimal),
  currency: Type.Optional(Type.String({ pattern: '^[A-Za-z]{3,5}$' }))
}, { additionalProperties: false })

const entrySchema = compileSchema(ModelEntryFile)
const FIELDS = Object.keys(ModelEntryFile.properties)

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
  const checked = entrySchema.check(raw)
  if (!checked.ok) {
    const [field = null] = checked.problem.path
    const value = field === null ? undefined : (raw as Record<string, unknown>)[field]
    let message = `${checked.problem.message}${value === undefined || field === 'model_id' ? '' : ` (got ${describe(value)})`}`
    if (checked.problem.message === 'is an unknown field') message = `unknown field; fields are: ${FIELDS.join(', ')}`
    else if (field === 'model_id') message = `${modelIdProblem(value) ?? checked.problem.message} (got ${describe(value)})`
    else if (field === 'optimization_flags' && checked.problem.path.length > 1) message = `flag ${describe(checked.problem.path[1])} ${checked.problem.message === 'is not an allowed name' ? 'must look like an environment variable name' : 'must be a string, number or boolean'}`
    throw invalid(index, field, message)
  }
  const entry = checked.value
  const { pipeline, model_id: modelId } = entry
  const warm = entry.warm ?? false
  const capacity = entry.capacity ?? 1

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
    if (result.url === undefined) throw invalid(index, 'token', 'is only meaningful with "url" (an external runner)')
    result.token = entry.token
  }

  if (entry.optimization_flags !== undefined) result.optimizationFlags = { ...entry.optimization_flags }

  if (entry.price_per_unit !== undefined) result.pricePerUnit = decimal(index, 'price_per_unit', entry.price_per_unit, false)
  if (entry.pixels_per_unit !== undefined) result.pixelsPerUnit = decimal(index, 'pixels_per_unit', entry.pixels_per_unit, true)
  if (entry.currency !== undefined) result.currency = entry.currency.toUpperCase()
  return result
}

/** Validates parsed `aiModels.json` content; throws `ModelsConfigError` naming the entry and field. */
export function parseModelsConfig (value: unknown): ModelEntry[] {
  if (!Array.isArray(value)) throw invalid(null, null, `must be a JSON array of model entries (got ${describe(value)})`)
  if (value.length > MAX_ENTRIES) throw invalid(null, null, `has ${value.length} entries; at most ${MAX_ENTRIES} are allowed`)
  const entries = value.map(parseEntry)
  // (pipeline, model) and the url, which holds no space
  const seen = new Map<string, number>()
  for (const [index, entry] of entries.entries()) {
    // one managed runner per (pipeline, model); several external URLs for one model are fine
    const key = `${modelKey(entry)} ${entry.url ?? ''}`
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
