/**
 * Request fields of each ai-runner route (v0.14.1), with their types and defaults,
 * and the validation the runner applies before a model sees a request. Validation
 * failures are reported as FastAPI does: HTTP 422 `{detail: [{loc, msg, type}]}`.
 */
import type { PipelineName } from '../kernel/pipelines.js'
import type { JsonValue } from '../kernel/job.js'

export type FieldType = 'string' | 'integer' | 'number' | 'boolean' | 'file' | 'object' | 'messages'

export interface FieldSpec {
  type: FieldType
  required?: boolean
  /** applied when the field is absent; absent and no default means the field stays absent */
  default?: JsonValue
}

export type RequestSchema = Readonly<Record<string, FieldSpec>>

const str = (def?: string): FieldSpec => def === undefined ? { type: 'string' } : { type: 'string', default: def }
const int = (def?: number): FieldSpec => def === undefined ? { type: 'integer' } : { type: 'integer', default: def }
const num = (def: number): FieldSpec => ({ type: 'number', default: def })
const bool = (def: boolean): FieldSpec => ({ type: 'boolean', default: def })
const file: FieldSpec = { type: 'file', required: true }
const required = (spec: FieldSpec): FieldSpec => ({ ...spec, required: true })

/** The body fields of `POST /<pipeline>`, per the ai-runner OpenAPI document. */
export const RUNNER_REQUEST_SCHEMAS: Readonly<Record<PipelineName, RequestSchema>> = {
  'text-to-image': {
    model_id: str(''),
    loras: str(''),
    prompt: required(str()),
    height: int(576),
    width: int(1024),
    guidance_scale: num(7.5),
    negative_prompt: str(''),
    safety_check: bool(true),
    seed: int(),
    num_inference_steps: int(50),
    num_images_per_prompt: int(1)
  },
  'image-to-image': {
    prompt: required(str()),
    image: file,
    model_id: str(''),
    loras: str(''),
    strength: num(0.8),
    guidance_scale: num(7.5),
    image_guidance_scale: num(1.5),
    negative_prompt: str(''),
    safety_check: bool(true),
    seed: int(),
    num_inference_steps: int(100),
    num_images_per_prompt: int(1)
  },
  'image-to-video': {
    image: file,
    model_id: str(''),
    height: int(576),
    width: int(1024),
    fps: int(6),
    motion_bucket_id: int(127),
    noise_aug_strength: num(0.02),
    safety_check: bool(true),
    seed: int(),
    num_inference_steps: int(25)
  },
  upscale: {
    prompt: required(str()),
    image: file,
    model_id: str(''),
    safety_check: bool(true),
    seed: int(),
    num_inference_steps: int(75)
  },
  'audio-to-text': {
    audio: file,
    model_id: str(''),
    return_timestamps: str('true'),
    metadata: str('{}')
  },
  'segment-anything-2': {
    image: file,
    model_id: str(''),
    point_coords: str(),
    point_labels: str(),
    box: str(),
    mask_input: str(),
    multimask_output: bool(true),
    return_logits: bool(true),
    normalize_coords: bool(true)
  },
  llm: {
    messages: { type: 'messages', required: true },
    model: str(''),
    temperature: num(0.7),
    max_tokens: int(256),
    top_p: num(1.0),
    top_k: int(-1),
    stream: bool(false)
  },
  'image-to-text': {
    image: file,
    prompt: str(''),
    model_id: str('')
  },
  'text-to-speech': {
    model_id: str(''),
    text: str(''),
    description: str('A male speaker delivers a slightly expressive and animated speech with a moderate speed and pitch.')
  },
  'live-video-to-video': {
    subscribe_url: required(str()),
    publish_url: required(str()),
    control_url: str(''),
    events_url: str(''),
    model_id: str(''),
    params: { type: 'object', default: {} },
    gateway_request_id: str(''),
    manifest_id: str(''),
    stream_id: str('')
  }
}

/** The field that names the model in a request: `model` for llm, `model_id` elsewhere. */
export function modelField (pipeline: PipelineName): string {
  return pipeline === 'llm' ? 'model' : 'model_id'
}

/** One uploaded file of a request. */
export interface RequestFile {
  filename: string
  contentType: string
  data: Buffer
}

/** A request as received: text/JSON fields and uploaded files. */
export interface RawRequest {
  fields: Record<string, unknown>
  files: Record<string, RequestFile>
  /** true when fields came from a form (all strings), false for a JSON body */
  form: boolean
}

/** A validated request: typed params with defaults applied, and its files. */
export interface ValidatedRequest {
  params: Record<string, JsonValue>
  files: Record<string, RequestFile>
}

/** One FastAPI/pydantic validation error item. */
export interface ValidationIssue {
  loc: Array<string | number>
  msg: string
  type: string
}

export type ValidationResult = { ok: true, value: ValidatedRequest } | { ok: false, issues: ValidationIssue[] }

const BOOL_TRUE = new Set(['true', '1', 'yes', 'on', 't', 'y'])
const BOOL_FALSE = new Set(['false', '0', 'no', 'off', 'f', 'n'])

function coerce (spec: FieldSpec, value: unknown, loc: Array<string | number>): { value: JsonValue } | { issue: ValidationIssue } {
  const issue = (type: string, msg: string): { issue: ValidationIssue } => ({ issue: { loc, msg, type } })
  switch (spec.type) {
    case 'string':
      return typeof value === 'string' ? { value } : issue('string_type', 'Input should be a valid string')
    case 'integer':
      if (typeof value === 'number') return Number.isSafeInteger(value) ? { value } : issue('int_from_float', 'Input should be a valid integer, got a number with a fractional part')
      if (typeof value === 'string') {
        const text = value.trim()
        return /^[+-]?\d{1,15}$/.test(text) ? { value: Number(text) } : issue('int_parsing', 'Input should be a valid integer, unable to parse string as an integer')
      }
      return issue('int_type', 'Input should be a valid integer')
    case 'number':
      if (typeof value === 'number') return { value }
      if (typeof value === 'string') {
        const text = value.trim()
        const parsed = Number(text)
        return text !== '' && Number.isFinite(parsed) ? { value: parsed } : issue('float_parsing', 'Input should be a valid number, unable to parse string as a number')
      }
      return issue('float_type', 'Input should be a valid number')
    case 'boolean':
      if (typeof value === 'boolean') return { value }
      if (typeof value === 'string') {
        const text = value.trim().toLowerCase()
        if (BOOL_TRUE.has(text)) return { value: true }
        if (BOOL_FALSE.has(text)) return { value: false }
        return issue('bool_parsing', 'Input should be a valid boolean, unable to interpret input')
      }
      return issue('bool_type', 'Input should be a valid boolean')
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value) ? { value: value as JsonValue } : issue('dict_type', 'Input should be a valid dictionary')
    case 'messages': {
      if (!Array.isArray(value)) return issue('list_type', 'Input should be a valid list')
      for (const [i, message] of value.entries()) {
        if (typeof message !== 'object' || message === null || Array.isArray(message)) {
          return { issue: { loc: [...loc, i], msg: 'Input should be a valid dictionary or instance of LLMMessage', type: 'model_type' } }
        }
        for (const key of ['role', 'content']) {
          const v = (message as Record<string, unknown>)[key]
          if (v === undefined) return { issue: { loc: [...loc, i, key], msg: 'Field required', type: 'missing' } }
          if (typeof v !== 'string') return { issue: { loc: [...loc, i, key], msg: 'Input should be a valid string', type: 'string_type' } }
        }
      }
      return { value: value as JsonValue }
    }
    case 'file':
      return issue('value_error', 'Value error, Expected UploadFile, received: str')
  }
}

/**
 * Validates a request against its pipeline's schema: required fields present, types
 * coerced as FastAPI does for forms (strings) and JSON, defaults applied. Fields the
 * schema does not name are ignored, as FastAPI ignores them.
 */
export function validateRunnerRequest (pipeline: PipelineName, request: RawRequest): ValidationResult {
  const schema = RUNNER_REQUEST_SCHEMAS[pipeline]
  const issues: ValidationIssue[] = []
  const params: Record<string, JsonValue> = {}
  const files: Record<string, RequestFile> = {}
  for (const [name, spec] of Object.entries(schema)) {
    const loc = ['body', name]
    if (spec.type === 'file') {
      const upload = request.files[name]
      if (upload !== undefined) files[name] = upload
      else if (request.fields[name] !== undefined) issues.push((coerce(spec, request.fields[name], loc) as { issue: ValidationIssue }).issue)
      else if (spec.required === true) issues.push({ loc, msg: 'Field required', type: 'missing' })
      continue
    }
    const value = request.fields[name]
    // an empty form value for an optional field means "not given" (FastAPI treats it so)
    if (value === undefined || value === null || (request.form && value === '' && spec.type !== 'string')) {
      if (spec.required === true) issues.push({ loc, msg: 'Field required', type: 'missing' })
      else if (spec.default !== undefined) params[name] = spec.default
      continue
    }
    if (request.form && spec.type === 'object' && typeof value === 'string') {
      try {
        const parsed: unknown = JSON.parse(value)
        const result = coerce(spec, parsed, loc)
        if ('issue' in result) issues.push(result.issue)
        else params[name] = result.value
      } catch {
        issues.push({ loc, msg: 'Input should be a valid dictionary', type: 'dict_type' })
      }
      continue
    }
    const result = coerce(spec, value, loc)
    if ('issue' in result) issues.push(result.issue)
    else params[name] = result.value
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value: { params, files } }
}
