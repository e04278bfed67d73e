import type { JsonValue } from '../../../kernel/job.js'
import type { ValidationIssue } from '../errors.js'

/**
 * One request field, as the reference OpenAPI declares it. Defaults are applied when
 * the field is absent (or null in JSON, or empty in a form for non-string fields, as
 * FastAPI does). `json` marks string fields that carry JSON (loras, point_coords, ...):
 * they stay strings for the runner but must parse.
 */
export type FieldSpec =
  | { type: 'string', required?: boolean, default?: string, enum?: readonly string[], json?: 'object' | 'array' }
  | { type: 'integer', required?: boolean, default?: number, min?: number }
  | { type: 'number', required?: boolean, default?: number, min?: number }
  | { type: 'boolean', required?: boolean, default?: boolean }
  | { type: 'messages', required?: boolean }
  | { type: 'file', required?: boolean, media: 'image' | 'audio' }

export type FieldResult = { ok: true, value: JsonValue | undefined } | { ok: false, issue: ValidationIssue }

const BOOL_TRUE = new Set(['true', '1', 'yes', 'on', 't', 'y'])
const BOOL_FALSE = new Set(['false', '0', 'no', 'off', 'f', 'n'])

function fail (loc: Array<string | number>, type: string, msg: string): FieldResult {
  return { ok: false, issue: { loc, msg, type } }
}

function checkJsonString (spec: { json?: 'object' | 'array' }, text: string, loc: Array<string | number>): FieldResult | undefined {
  if (spec.json === undefined || text === '') return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return fail(loc, 'json_invalid', 'Invalid JSON')
  }
  if (spec.json === 'array' && !Array.isArray(parsed)) return fail(loc, 'list_type', 'Input should be a JSON array')
  if (spec.json === 'object' && (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))) {
    return fail(loc, 'dict_type', 'Input should be a JSON object')
  }
  return undefined
}

/** Range and enum checks shared by the JSON and form paths. */
function finish (spec: FieldSpec, value: JsonValue, loc: Array<string | number>): FieldResult {
  if ((spec.type === 'integer' || spec.type === 'number') && spec.min !== undefined && (value as number) < spec.min) {
    return fail(loc, 'greater_than_equal', `Input should be greater than or equal to ${spec.min}`)
  }
  if (spec.type === 'string') {
    if (spec.enum !== undefined && !spec.enum.includes(value as string)) {
      return fail(loc, 'literal_error', `Input should be ${spec.enum.map(v => `'${v}'`).join(', ')}`)
    }
    const bad = checkJsonString(spec, value as string, loc)
    if (bad !== undefined) return bad
  }
  return { ok: true, value }
}

function absent (spec: FieldSpec, loc: Array<string | number>): FieldResult {
  if ('default' in spec && spec.default !== undefined) return { ok: true, value: spec.default }
  if (spec.required === true) return fail(loc, 'missing', 'Field required')
  return { ok: true, value: undefined }
}

function validateMessages (value: unknown, loc: Array<string | number>): FieldResult {
  if (!Array.isArray(value)) return fail(loc, 'list_type', 'Input should be a valid list')
  if (value.length === 0) return fail(loc, 'too_short', 'List should have at least 1 item after validation')
  const out: JsonValue[] = []
  for (let i = 0; i < value.length; i++) {
    const m: unknown = value[i]
    if (m === null || typeof m !== 'object' || Array.isArray(m)) return fail([...loc, i], 'model_type', 'Input should be a valid dictionary')
    const { role, content } = m as Record<string, unknown>
    if (role === undefined || role === null) return fail([...loc, i, 'role'], 'missing', 'Field required')
    if (typeof role !== 'string') return fail([...loc, i, 'role'], 'string_type', 'Input should be a valid string')
    if (content === undefined || content === null) return fail([...loc, i, 'content'], 'missing', 'Field required')
    if (typeof content !== 'string') return fail([...loc, i, 'content'], 'string_type', 'Input should be a valid string')
    out.push({ role, content })
  }
  return { ok: true, value: out }
}

/** A field of a JSON body: types are strict (a number is not a string, nor the reverse). */
export function coerceJsonField (spec: FieldSpec, raw: unknown, loc: Array<string | number>): FieldResult {
  if (raw === undefined || raw === null) return absent(spec, loc)
  switch (spec.type) {
    case 'string':
      if (typeof raw !== 'string') return fail(loc, 'string_type', 'Input should be a valid string')
      return finish(spec, raw, loc)
    case 'integer':
      if (typeof raw !== 'number' || !Number.isSafeInteger(raw)) return fail(loc, 'int_type', 'Input should be a valid integer')
      return finish(spec, raw, loc)
    case 'number':
      if (typeof raw !== 'number' || !Number.isFinite(raw)) return fail(loc, 'float_type', 'Input should be a valid number')
      return finish(spec, raw, loc)
    case 'boolean':
      if (typeof raw !== 'boolean') return fail(loc, 'bool_type', 'Input should be a valid boolean')
      return finish(spec, raw, loc)
    case 'messages':
      return validateMessages(raw, loc)
    case 'file':
      return fail(loc, 'file_type', 'Expected a file upload')
  }
}

/** A text field of a multipart form: numbers and booleans are parsed from text. */
export function coerceFormField (spec: FieldSpec, raw: string | undefined, loc: Array<string | number>): FieldResult {
  if (raw === undefined) return absent(spec, loc)
  switch (spec.type) {
    case 'string':
      return finish(spec, raw, loc)
    case 'integer': {
      const text = raw.trim()
      if (text === '') return absent(spec, loc)
      if (!/^[+-]?\d+$/.test(text)) return fail(loc, 'int_parsing', 'Input should be a valid integer, unable to parse string as an integer')
      const n = Number(text)
      if (!Number.isSafeInteger(n)) return fail(loc, 'int_parsing', 'Input should be a valid integer, unable to parse string as an integer')
      return finish(spec, n, loc)
    }
    case 'number': {
      const text = raw.trim()
      if (text === '') return absent(spec, loc)
      const n = Number(text)
      if (!Number.isFinite(n)) return fail(loc, 'float_parsing', 'Input should be a valid number, unable to parse string as a number')
      return finish(spec, n, loc)
    }
    case 'boolean': {
      const text = raw.trim().toLowerCase()
      if (text === '') return absent(spec, loc)
      if (BOOL_TRUE.has(text)) return { ok: true, value: true }
      if (BOOL_FALSE.has(text)) return { ok: true, value: false }
      return fail(loc, 'bool_parsing', 'Input should be a valid boolean, unable to interpret input')
    }
    case 'messages': {
      let parsed: unknown
      try {
        parsed = JSON.parse(raw)
      } catch {
        return fail(loc, 'json_invalid', 'Invalid JSON')
      }
      return validateMessages(parsed, loc)
    }
    case 'file':
      return fail(loc, 'file_type', 'Expected a file upload, received a text field')
  }
}
