/**
 * The one validator of pipeline requests, used by the gateway's HTTP API and the CPU
 * runner: a pipeline's TypeBox request schema, compiled by Ajv field by field, with
 * FastAPI's semantics around it (absent or null takes the default; form values are text
 * to parse; unknown fields are dropped) and its 422 items `{loc, msg, type}`.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import type { TSchema } from '@sinclair/typebox'
import type { JsonValue } from '../job.js'
import { fileMedia, JSON_STRING, FILE_MEDIA, type FileMedia, type PipelineDefinition } from './definition.js'

/** One field problem, in the shape of FastAPI's 422 `detail` items. */
export interface ValidationIssue {
  loc: Array<string | number>
  msg: string
  type: string
}

/**
 * How values arrive: `json` is strict (a number is not a string, nor the reverse);
 * `form` values are text (numbers and booleans parsed, an empty value for a non-string
 * field means absent); `json-lax` parses text like a form but keeps JSON's absent rules
 * (pydantic's lax mode, what the ai-runner accepts).
 */
export type ValueSource = 'json' | 'form' | 'json-lax'

export interface FieldsResult {
  params: Record<string, JsonValue>
  issues: ValidationIssue[]
}

export interface ValidateOptions {
  /**
   * Apply the schemas' lower bounds (`minimum`, Shoal's own: a zero size or count cannot be
   * priced or run). The ai-runner declares none, and its models refuse such values with 400:
   * the CPU runner, answering as it does, turns them off. @default true
   */
  lowerBounds?: boolean
}

/** A file property of a request schema. */
export interface FileProperty {
  name: string
  media: FileMedia
  required: boolean
}

const ajv = new Ajv({ allErrors: false, removeAdditional: true, useDefaults: false, strict: true })
ajv.addKeyword({ keyword: FILE_MEDIA, schemaType: 'string' })
ajv.addKeyword({
  keyword: JSON_STRING,
  type: 'string',
  schemaType: 'string',
  errors: true,
  validate: function jsonString (kind: 'object' | 'array', data: string): boolean {
    const self = jsonString as unknown as { errors: Array<Partial<ErrorObject>> }
    if (data === '') return true
    let parsed: unknown
    try {
      parsed = JSON.parse(data)
    } catch {
      self.errors = [{ keyword: JSON_STRING, message: 'Invalid JSON', params: { type: 'json_invalid' } }]
      return false
    }
    if (kind === 'array' && !Array.isArray(parsed)) {
      self.errors = [{ keyword: JSON_STRING, message: 'Input should be a JSON array', params: { type: 'list_type' } }]
      return false
    }
    if (kind === 'object' && (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))) {
      self.errors = [{ keyword: JSON_STRING, message: 'Input should be a JSON object', params: { type: 'dict_type' } }]
      return false
    }
    return true
  }
})

interface CompiledField {
  name: string
  schema: TSchema & { type?: string, default?: unknown }
  required: boolean
  check: ValidateFunction
}

const compiled = new WeakMap<PipelineDefinition, CompiledField[]>()

/** The non-file properties of a pipeline's request, compiled once, in declaration order. */
function fieldsOf (definition: PipelineDefinition): CompiledField[] {
  let fields = compiled.get(definition)
  if (fields === undefined) {
    const required = new Set(definition.request.required ?? [])
    fields = Object.entries(definition.request.properties)
      .filter(([, schema]) => fileMedia(schema) === undefined)
      .map(([name, schema]) => ({ name, schema: schema as CompiledField['schema'], required: required.has(name), check: ajv.compile(schema) }))
    compiled.set(definition, fields)
  }
  return fields
}

/**
 * Compiles the validators of these pipelines now. Ajv compiles a schema on first use, and
 * the first compile also builds its meta-schema: left to the first request, that request
 * waited 76 ms here (quiet 2-core box; about 300 ms under load). A server calls this
 * before it listens, so the cost is part of its start-up and a schema Ajv refuses stops
 * the start instead of failing requests.
 */
export function prepareValidators (definitions: Iterable<PipelineDefinition>): void {
  for (const definition of definitions) fieldsOf(definition)
}

/** The file properties of a pipeline's request, in declaration order. */
export function fileProperties (definition: PipelineDefinition): FileProperty[] {
  const required = new Set(definition.request.required ?? [])
  const files: FileProperty[] = []
  for (const [name, schema] of Object.entries(definition.request.properties)) {
    const media = fileMedia(schema)
    if (media !== undefined) files.push({ name, media, required: required.has(name) })
  }
  return files
}

/** Whether a request of this pipeline has a field (file or not) of this name, the model field included. */
export function hasRequestField (definition: PipelineDefinition, name: string): boolean {
  return name === definition.modelField || Object.hasOwn(definition.request.properties, name)
}

const BOOL_TRUE = new Set(['true', '1', 'yes', 'on', 't', 'y'])
const BOOL_FALSE = new Set(['false', '0', 'no', 'off', 'f', 'n'])

type Parsed = { value: unknown } | { issue: Omit<ValidationIssue, 'loc'> }

/** A text value parsed into the schema's type, as FastAPI parses form fields. */
function parseText (type: string | undefined, text: string): Parsed {
  switch (type) {
    case 'integer': {
      const t = text.trim()
      const n = Number(t)
      return /^[+-]?\d+$/.test(t) && Number.isSafeInteger(n)
        ? { value: n }
        : { issue: { type: 'int_parsing', msg: 'Input should be a valid integer, unable to parse string as an integer' } }
    }
    case 'number': {
      const t = text.trim()
      const n = Number(t)
      return t !== '' && Number.isFinite(n) ? { value: n } : { issue: { type: 'float_parsing', msg: 'Input should be a valid number, unable to parse string as a number' } }
    }
    case 'boolean': {
      const t = text.trim().toLowerCase()
      if (BOOL_TRUE.has(t)) return { value: true }
      if (BOOL_FALSE.has(t)) return { value: false }
      return { issue: { type: 'bool_parsing', msg: 'Input should be a valid boolean, unable to interpret input' } }
    }
    case 'array':
    case 'object':
      try {
        return { value: JSON.parse(text) }
      } catch {
        return { issue: { type: 'json_invalid', msg: 'Invalid JSON' } }
      }
    default:
      return { value: text }
  }
}

const TYPE_ISSUES: Record<string, Omit<ValidationIssue, 'loc'>> = {
  string: { type: 'string_type', msg: 'Input should be a valid string' },
  integer: { type: 'int_type', msg: 'Input should be a valid integer' },
  number: { type: 'float_type', msg: 'Input should be a valid number' },
  boolean: { type: 'bool_type', msg: 'Input should be a valid boolean' },
  array: { type: 'list_type', msg: 'Input should be a valid list' },
  object: { type: 'dict_type', msg: 'Input should be a valid dictionary' }
}

/** An Ajv error as a FastAPI issue, located under `loc`. */
export function issueOf (error: ErrorObject, loc: Array<string | number>): ValidationIssue {
  const at = [...loc, ...error.instancePath.split('/').slice(1).map(s => /^\d+$/.test(s) ? Number(s) : s.replace(/~1/g, '/').replace(/~0/g, '~'))]
  const p = error.params as Record<string, unknown>
  switch (error.keyword) {
    case 'type': {
      const known = TYPE_ISSUES[String(p.type)]
      // an item of a list that should be an object is a model (pydantic: model_type)
      if (p.type === 'object' && at.length > loc.length) return { loc: at, type: 'model_type', msg: 'Input should be a valid dictionary' }
      return { loc: at, ...(known ?? { type: 'type_error', msg: `Input should be of type ${String(p.type)}` }) }
    }
    case 'required':
      return { loc: [...at, String(p.missingProperty)], type: 'missing', msg: 'Field required' }
    case 'minimum':
      return { loc: at, type: 'greater_than_equal', msg: `Input should be greater than or equal to ${String(p.limit)}` }
    case 'maximum':
      return { loc: at, type: 'less_than_equal', msg: `Input should be less than or equal to ${String(p.limit)}` }
    case 'minItems':
      return { loc: at, type: 'too_short', msg: `List should have at least ${String(p.limit)} item after validation` }
    case 'maxItems':
      return { loc: at, type: 'too_long', msg: `List should have at most ${String(p.limit)} items after validation` }
    case 'minLength':
      return { loc: at, type: 'string_too_short', msg: `String should have at least ${String(p.limit)} characters` }
    case 'maxLength':
      return { loc: at, type: 'string_too_long', msg: `String should have at most ${String(p.limit)} characters` }
    case 'pattern':
      return { loc: at, type: 'string_pattern_mismatch', msg: `String should match pattern '${String(p.pattern)}'` }
    case 'enum':
      return { loc: at, type: 'literal_error', msg: `Input should be ${(p.allowedValues as unknown[]).map(v => `'${String(v)}'`).join(', ')}` }
    case JSON_STRING:
      return { loc: at, type: String(p.type), msg: error.message ?? 'Invalid JSON' }
    default:
      return { loc: at, type: 'value_error', msg: `Value error, ${error.message ?? 'invalid'}` }
  }
}

/**
 * Validates the non-file fields of a request: every problem at once, in the schema's
 * order, each located at `['body', field, ...]`. Returns the typed params with defaults
 * applied; fields the schema does not name (and the model field) are left out. Objects
 * inside values lose the properties their schema closes (an LLM message keeps `role` and
 * `content`) in place: values are never copied, so a hostile nesting depth costs nothing.
 */
export function validateFields (definition: PipelineDefinition, values: Readonly<Record<string, unknown>>, source: ValueSource, options: ValidateOptions = {}): FieldsResult {
  const lowerBounds = options.lowerBounds ?? true
  const params: Record<string, JsonValue> = {}
  const issues: ValidationIssue[] = []
  for (const field of fieldsOf(definition)) {
    const loc = ['body', field.name]
    let value = Object.hasOwn(values, field.name) ? values[field.name] : undefined
    const text = typeof value === 'string'
    if (source === 'form' && text && field.schema.type !== 'string' && (value as string).trim() === '') value = undefined
    if (value === undefined || value === null) {
      if (field.schema.default !== undefined) params[field.name] = structuredClone(field.schema.default) as JsonValue
      else if (field.required) issues.push({ loc, type: 'missing', msg: 'Field required' })
      continue
    }
    if (text && source !== 'json') {
      const parsed = parseText(field.schema.type, value as string)
      if ('issue' in parsed) { issues.push({ loc, ...parsed.issue }); continue }
      value = parsed.value
    }
    if (field.schema.type === 'integer' && typeof value === 'number' && !Number.isSafeInteger(value)) {
      issues.push({ loc, ...(TYPE_ISSUES.integer as Omit<ValidationIssue, 'loc'>) })
      continue
    }
    if (!field.check(value)) {
      const error = field.check.errors?.[0]
      // a scalar that fails only its lower bound (the type passed first)
      if (!lowerBounds && error?.keyword === 'minimum' && error.instancePath === '') { params[field.name] = value as JsonValue; continue }
      issues.push(error === undefined ? { loc, type: 'value_error', msg: 'Value error' } : issueOf(error, loc))
      continue
    }
    params[field.name] = value as JsonValue
  }
  return { params, issues }
}

/**
 * The model a request names (its `modelField`), as a string field that may be absent:
 * `{ value }` ('' when absent) or the issue.
 */
export function requestedModel (definition: PipelineDefinition, values: Readonly<Record<string, unknown>>): { value: string } | { issue: ValidationIssue } {
  const raw = Object.hasOwn(values, definition.modelField) ? values[definition.modelField] : undefined
  if (raw === undefined || raw === null) return { value: '' }
  if (typeof raw !== 'string') return { issue: { loc: ['body', definition.modelField], ...(TYPE_ISSUES.string as Omit<ValidationIssue, 'loc'>) } }
  return { value: raw }
}
