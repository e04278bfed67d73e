/**
 * Custom capabilities ("bring your own container"): an operator's own HTTP apps, each
 * served under a name, declared in a JSON file beside `aiModels.json`
 * (`--custom-capabilities`, docs/custom-capabilities.md). Each entry names exactly one
 * runner: a container `image` (run through Docker), a `command` (run as a child process),
 * or a `url` someone else runs. Parsing is strict, as for `aiModels.json`: a TypeBox
 * schema, then what a schema cannot say (URLs, prices, the request schema compiling,
 * duplicates); every problem names the entry and the field.
 */
import { readFile } from 'node:fs/promises'
import { Type, type Static } from '@sinclair/typebox'
import { Ajv, type ValidateFunction } from 'ajv'
import { ShoalError } from '../../kernel/errors.js'
import { compileSchema } from '../../kernel/schema.js'
import { CUSTOM_DEFAULT_TIMEOUT_MS, CUSTOM_MAX_TIMEOUT_MS } from '../../kernel/pipelines/custom.js'

/** A capability name: it is the model id on the wire and a path segment of the gateway's routes. */
export const CAPABILITY_NAME_PATTERN = '^[a-z0-9][a-z0-9._-]{0,63}$'

export interface CustomCapability {
  name: string
  description: string
  runner:
  | { kind: 'image', image: string, port: number }
  | { kind: 'command', command: string[] }
  | { kind: 'url', url: string, token?: string }
  /** requests at once */
  capacity: number
  /** wei per second of compute, a non-negative decimal string */
  pricePerSecond: string
  /** wei per request on top of the compute time, a non-negative decimal string ('0': none) */
  pricePerRequest: string
  currency: string
  /** the longest one request may run; a request asking for more is cut to it */
  timeoutMs: number
  /** the longest a start may take until `healthPath` answers 2xx */
  startupTimeoutMs: number
  /** answered 2xx when the app takes requests */
  healthPath: string
  /** environment of the app (image and command runners) */
  env: Record<string, string>
  /** the JSON schema JSON request bodies must satisfy, compiled */
  requestSchema?: ValidateFunction
  /**
   * also serves stream sessions (`POST /process/stream/start` at a gateway): the app's
   * `POST /stream/start?stream_id=ID` answers a long-running body of data messages and
   * `POST /stream/update?stream_id=ID` takes new params (docs/custom-capabilities.md)
   */
  streaming: boolean
}

export type CustomCapabilitiesErrorCode = 'CUSTOM_CAPABILITIES_ERROR_INVALID' | 'CUSTOM_CAPABILITIES_ERROR_READ'

export class CustomCapabilitiesError extends ShoalError<CustomCapabilitiesErrorCode> {
  static override readonly name = 'CustomCapabilitiesError'
}

const MAX_ENTRIES = 64
const Decimal = Type.Union([Type.Number(), Type.String()])
const Seconds = (max: number): ReturnType<typeof Type.Number> => Type.Number({ exclusiveMinimum: 0, maximum: max })

/** One entry of the capabilities file as written. */
export const CustomCapabilityFile = Type.Object({
  name: Type.String({ pattern: CAPABILITY_NAME_PATTERN }),
  description: Type.Optional(Type.String({ maxLength: 256 })),
  image: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  command: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 64 })),
  url: Type.Optional(Type.String()),
  token: Type.Optional(Type.String({ minLength: 1 })),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65_535 })),
  capacity: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
  price_per_second: Type.Optional(Decimal),
  price_per_request: Type.Optional(Decimal),
  currency: Type.Optional(Type.String({ pattern: '^[A-Za-z]{3,5}$' })),
  timeout_seconds: Type.Optional(Seconds(CUSTOM_MAX_TIMEOUT_MS / 1000)),
  startup_timeout_seconds: Type.Optional(Seconds(3600)),
  health_path: Type.Optional(Type.String({ pattern: '^/[\\x21-\\x7e]{0,255}$' })),
  env: Type.Optional(Type.Record(Type.String(), Type.String(), { propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' } })),
  request_schema: Type.Optional(Type.Object({})),
  streaming: Type.Optional(Type.Boolean())
}, { additionalProperties: false })

export type CustomCapabilityEntry = Static<typeof CustomCapabilityFile>

const entrySchema = compileSchema(CustomCapabilityFile)
const FIELDS = Object.keys(CustomCapabilityFile.properties)
const DECIMAL = /^[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/
// request schemas are the operator's: compiled leniently (unknown keywords such as `example` allowed)
const requestAjv = new Ajv({ allErrors: false, strict: false })

function invalid (file: string, index: number | null, field: string | null, message: string): CustomCapabilitiesError {
  const where = index === null ? file : `${file} entry ${index}${field === null ? '' : ` field "${field}"`}`
  return new CustomCapabilitiesError('CUSTOM_CAPABILITIES_ERROR_INVALID', `${where}: ${message}`, { index, field })
}

function describe (value: unknown): string {
  const text = JSON.stringify(value)
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text
}

function parseEntry (file: string, raw: unknown, index: number): CustomCapability {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid(file, index, null, `must be an object (got ${describe(raw)})`)
  const checked = entrySchema.check(raw)
  if (!checked.ok) {
    const [field = null] = checked.problem.path
    const value = field === null ? undefined : (raw as Record<string, unknown>)[field]
    let message = `${checked.problem.message}${value === undefined ? '' : ` (got ${describe(value)})`}`
    if (checked.problem.message === 'is an unknown field') message = `unknown field; fields are: ${FIELDS.join(', ')}`
    else if (field === 'name') message = `must be 1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit (got ${describe(value)})`
    throw invalid(file, index, field, message)
  }
  const e = checked.value
  const kinds = (['image', 'command', 'url'] as const).filter(k => e[k] !== undefined)
  if (kinds.length !== 1) throw invalid(file, index, kinds[1] ?? 'image', `name exactly one runner: "image" (a container), "command" (a process) or "url" (an app someone else runs)${kinds.length > 1 ? `; got ${kinds.join(' and ')}` : ''}`)
  let runner: CustomCapability['runner']
  if (e.image !== undefined) {
    runner = { kind: 'image', image: e.image, port: e.port ?? 8000 }
  } else if (e.command !== undefined) {
    runner = { kind: 'command', command: [...e.command] }
  } else {
    let url: URL
    try {
      url = new URL(e.url ?? '')
    } catch {
      throw invalid(file, index, 'url', `must be an absolute http(s) URL (got ${describe(e.url)})`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(file, index, 'url', `must be an http(s) URL (got ${describe(e.url)})`)
    if (url.search !== '' || url.hash !== '') throw invalid(file, index, 'url', 'must not have a query or fragment')
    runner = { kind: 'url', url: (e.url ?? '').replace(/\/+$/, ''), ...(e.token === undefined ? {} : { token: e.token }) }
  }
  if (e.token !== undefined && runner.kind !== 'url') throw invalid(file, index, 'token', 'is the bearer token of an app someone else runs: only meaningful with "url"')
  if (e.port !== undefined && runner.kind !== 'image') throw invalid(file, index, 'port', 'is the container\'s port: only meaningful with "image"')
  if (e.env !== undefined && runner.kind === 'url') throw invalid(file, index, 'env', 'is the app\'s environment: not meaningful with "url"')
  const price = (field: 'price_per_second' | 'price_per_request'): string => {
    const value = e[field]
    if (value === undefined) return '0'
    const text = typeof value === 'number' ? String(value) : value.trim()
    if (!DECIMAL.test(text) || !Number.isFinite(Number(text))) throw invalid(file, index, field, `must be a non-negative decimal number (got ${describe(value)})`)
    return text.replace(/^\+/, '')
  }
  const pricePerSecond = price('price_per_second')
  const pricePerRequest = price('price_per_request')
  const currency = (e.currency ?? 'WEI').toUpperCase()
  // until Shoal has a price feed, as aiModels.json
  if (currency !== 'WEI') throw invalid(file, index, 'currency', `${currency} is not supported yet; price it in WEI`)
  let requestSchema: ValidateFunction | undefined
  if (e.request_schema !== undefined) {
    try {
      requestSchema = requestAjv.compile(e.request_schema)
    } catch (err) {
      throw invalid(file, index, 'request_schema', `is not a valid JSON schema: ${(err as Error).message}`)
    }
  }
  return {
    name: e.name,
    description: e.description ?? '',
    runner,
    capacity: e.capacity ?? 1,
    pricePerSecond,
    pricePerRequest,
    currency,
    timeoutMs: Math.ceil((e.timeout_seconds ?? CUSTOM_DEFAULT_TIMEOUT_MS / 1000) * 1000),
    startupTimeoutMs: Math.ceil((e.startup_timeout_seconds ?? 60) * 1000),
    healthPath: e.health_path ?? '/health',
    env: { ...e.env },
    streaming: e.streaming ?? false,
    ...(requestSchema === undefined ? {} : { requestSchema })
  }
}

/** Validates parsed capabilities-file content; throws `CustomCapabilitiesError` naming the entry and field. */
export function parseCustomCapabilities (value: unknown, file = 'custom capabilities'): CustomCapability[] {
  if (!Array.isArray(value)) throw invalid(file, null, null, `must be a JSON array of capabilities (got ${describe(value)})`)
  if (value.length > MAX_ENTRIES) throw invalid(file, null, null, `has ${value.length} entries; at most ${MAX_ENTRIES} are allowed`)
  const entries = value.map((raw, index) => parseEntry(file, raw, index))
  const seen = new Map<string, number>()
  for (const [index, entry] of entries.entries()) {
    const first = seen.get(entry.name)
    if (first !== undefined) throw invalid(file, index, 'name', `duplicates entry ${first} (${describe(entry.name)})`)
    seen.set(entry.name, index)
  }
  return entries
}

/** Reads and validates a capabilities file. */
export async function loadCustomCapabilities (path: string, options: { signal?: AbortSignal } = {}): Promise<CustomCapability[]> {
  let text: string
  try {
    text = await readFile(path, { encoding: 'utf8', ...(options.signal === undefined ? {} : { signal: options.signal }) })
  } catch (err) {
    throw new CustomCapabilitiesError('CUSTOM_CAPABILITIES_ERROR_READ', `cannot read ${path}: ${(err as Error).message}`, { path }, { cause: err })
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw invalid(path, null, null, `is not valid JSON: ${(err as Error).message}`)
  }
  return parseCustomCapabilities(value, path)
}

/** The capability's price as an aiModels.json-style entry: wei per second, as `compute-ms` units (1000 per second), and wei per request. */
export function capabilityPriceEntry (c: CustomCapability): { pipeline: 'custom', modelId: string, pricePerUnit: string, pixelsPerUnit: string, currency: string, pricePerRequest: string } {
  return { pipeline: 'custom', modelId: c.name, pricePerUnit: c.pricePerSecond, pixelsPerUnit: '1000', currency: c.currency, pricePerRequest: c.pricePerRequest }
}
