import type { InferenceJob, JobInput, JsonValue } from '../../../kernel/job.js'
import { estimateWorkUnits, type InputMedia } from '../../selection/work.js'
import { UnsupportedMediaTypeError, ValidationError, type ValidationIssue } from '../errors.js'
import { coerceFormField, coerceJsonField, type FieldResult } from './fields.js'
import { probeImage, sniffAudio } from './media.js'
import { PIPELINE_SCHEMAS, type GatewayPipeline } from './pipelines.js'

export interface ParseContext {
  /** the model used when a request names none; a pipeline without one requires the field */
  defaultModels: Partial<Record<GatewayPipeline, string>>
  /** images declaring more pixels than this are refused (decompression bombs) */
  maxImagePixels: number
}

/** A validated job plus what the gateway learnt while validating it. */
export interface ParsedJob {
  job: InferenceJob
  /** the job's amount of work for the latency score (`estimateWorkUnits`) */
  workUnits: number
  /** the input image's dimensions, for pipelines that take one */
  media?: InputMedia
}

/** An uploaded file of a multipart form. */
export interface UploadedFile {
  filename: string
  contentType: string
  data: Uint8Array
}

/** A multipart form as read: the last value of each text field, the last file of each file field. */
export interface ParsedForm {
  fields: Map<string, string>
  files: Map<string, UploadedFile>
}

// model ids travel in headers, logs and DHT keys: printable, no spaces, bounded
const MODEL_ID = /^[\x21-\x7e]{1,256}$/

function resolveModel (pipeline: GatewayPipeline, raw: FieldResult, ctx: ParseContext, issues: ValidationIssue[]): string {
  const field = PIPELINE_SCHEMAS[pipeline].modelField
  if (!raw.ok) { issues.push(raw.issue); return '' }
  const given = typeof raw.value === 'string' ? raw.value : ''
  const modelId = given !== '' ? given : (ctx.defaultModels[pipeline] ?? '')
  if (modelId === '') {
    issues.push({ loc: ['body', field], msg: 'Field required (this gateway has no default model for the pipeline)', type: 'missing' })
  } else if (!MODEL_ID.test(modelId)) {
    issues.push({ loc: ['body', field], msg: 'Input should be a model id of 1 to 256 printable characters without spaces', type: 'string_pattern_mismatch' })
  }
  return modelId
}

function build (pipeline: GatewayPipeline, modelId: string, params: Record<string, JsonValue>, inputs: JobInput[], media: InputMedia | undefined): ParsedJob {
  const job: InferenceJob = { pipeline, modelId, params, inputs }
  return { job, workUnits: estimateWorkUnits(job, media), ...(media !== undefined ? { media } : {}) }
}

/** a text field's value; a small file sent for a text field (curl -F name=@file) counts as its UTF-8 text */
function textOf (form: ParsedForm, name: string): string | undefined {
  const text = form.fields.get(name)
  if (text !== undefined) return text
  const file = form.files.get(name)
  return file === undefined ? undefined : Buffer.from(file.data.buffer, file.data.byteOffset, file.data.byteLength).toString('utf8')
}

/**
 * Validates the parsed JSON body of a JSON pipeline (text-to-image, llm,
 * text-to-speech) into a job. Unknown fields are dropped, as the reference does.
 * Throws `ValidationError` (422) listing every problem.
 */
export function parseJsonJob (pipeline: GatewayPipeline, body: unknown, ctx: ParseContext): ParsedJob {
  const schema = PIPELINE_SCHEMAS[pipeline]
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationError([{ loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', type: 'model_attributes_type' }])
  }
  const record = body as Record<string, unknown>
  const issues: ValidationIssue[] = []
  const modelId = resolveModel(pipeline, coerceJsonField({ type: 'string' }, record[schema.modelField], ['body', schema.modelField]), ctx, issues)
  const params: Record<string, JsonValue> = {}
  for (const [name, spec] of Object.entries(schema.fields)) {
    const result = coerceJsonField(spec, Object.hasOwn(record, name) ? record[name] : undefined, ['body', name])
    if (!result.ok) issues.push(result.issue)
    else if (result.value !== undefined) params[name] = result.value
  }
  if (issues.length > 0) throw new ValidationError(issues)
  return build(pipeline, modelId, params, [], undefined)
}

/**
 * Validates a multipart form of a multipart pipeline into a job: text fields are typed
 * and defaulted, files become `inputs`. Images must decode (sharp reads their header)
 * and stay within `maxImagePixels`, else 422; audio must be a known container, else
 * 415 like the reference runner.
 */
export async function parseMultipartJob (pipeline: GatewayPipeline, form: ParsedForm, ctx: ParseContext): Promise<ParsedJob> {
  const schema = PIPELINE_SCHEMAS[pipeline]
  const issues: ValidationIssue[] = []
  const modelField = textOf(form, schema.modelField)
  const modelId = resolveModel(pipeline, coerceFormField({ type: 'string' }, modelField, ['body', schema.modelField]), ctx, issues)
  const params: Record<string, JsonValue> = {}
  const inputs: JobInput[] = []
  let media: InputMedia | undefined
  let unsupportedAudio: string | undefined

  for (const [name, spec] of Object.entries(schema.fields)) {
    const loc = ['body', name]
    if (spec.type !== 'file') {
      const text = textOf(form, name)
      const result = coerceFormField(spec, text, loc)
      if (!result.ok) issues.push(result.issue)
      else if (result.value !== undefined) params[name] = result.value
      continue
    }
    const file = form.files.get(name)
    if (file === undefined) {
      if (form.fields.has(name)) issues.push({ loc, msg: 'Expected a file upload, received a text field', type: 'file_type' })
      else if (spec.required === true) issues.push({ loc, msg: 'Field required', type: 'missing' })
      continue
    }
    if (file.data.byteLength === 0) {
      issues.push({ loc, msg: 'The uploaded file is empty', type: 'file_empty' })
      continue
    }
    if (spec.media === 'image') {
      const info = await probeImage(file.data)
      if (info === undefined) {
        issues.push({ loc, msg: 'The uploaded file is not an image that can be decoded', type: 'image_invalid' })
        continue
      }
      if (info.width * info.height > ctx.maxImagePixels) {
        issues.push({ loc, msg: `The image has ${info.width}x${info.height} pixels, more than the limit of ${ctx.maxImagePixels}`, type: 'image_too_large' })
        continue
      }
      media ??= { width: info.width, height: info.height }
    } else if (sniffAudio(file.data) === undefined) {
      unsupportedAudio = name
      continue
    }
    inputs.push({ field: name, filename: file.filename, contentType: file.contentType, data: file.data })
  }
  if (issues.length > 0) throw new ValidationError(issues)
  if (unsupportedAudio !== undefined) {
    throw new UnsupportedMediaTypeError(`the uploaded ${unsupportedAudio} file is not in a supported audio or video format`)
  }
  return build(pipeline, modelId, params, inputs, media)
}
