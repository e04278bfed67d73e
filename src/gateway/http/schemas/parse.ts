import type { InferenceJob, JobInput, JsonValue } from '../../../kernel/job.js'
import { modelIdProblem } from '../../../kernel/identifiers.js'
import { pipelineDefinition, type GatewayPipeline, type InputMedia, type PipelineDefinition } from '../../../kernel/pipelines.js'
import { fileProperties, requestedModel, validateFields, type ValidationIssue } from '../../../kernel/pipelines/validate.js'
import { UnsupportedMediaTypeError, ValidationError } from '../errors.js'
import { probeImage, sniffAudio } from './media.js'

export interface ParseContext {
  /** the model used when a request names none; a pipeline without one requires the field */
  defaultModels: Partial<Record<GatewayPipeline, string>>
  /** images declaring more pixels than this are refused (decompression bombs) */
  maxImagePixels: number
}

/** A validated job plus what the gateway learnt while validating it. */
export interface ParsedJob {
  job: InferenceJob
  /** the job's amount of work for the latency score (the pipeline's `work`) */
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

/** The model a request names, else the gateway's default for the pipeline; checked by the shared model id rule. */
function resolveModel (pipeline: GatewayPipeline, definition: PipelineDefinition, values: Readonly<Record<string, unknown>>, ctx: ParseContext, issues: ValidationIssue[]): string {
  const field = definition.modelField
  const given = requestedModel(definition, values)
  if ('issue' in given) { issues.push(given.issue); return '' }
  const modelId = given.value !== '' ? given.value : (ctx.defaultModels[pipeline] ?? '')
  if (modelId === '') {
    issues.push({ loc: ['body', field], msg: 'Field required (this gateway has no default model for the pipeline)', type: 'missing' })
  } else {
    const problem = modelIdProblem(modelId)
    if (problem !== undefined) issues.push({ loc: ['body', field], msg: `Input should be a model id: it ${problem}`, type: 'string_pattern_mismatch' })
  }
  return modelId
}

function build (definition: PipelineDefinition, pipeline: GatewayPipeline, modelId: string, params: Record<string, JsonValue>, inputs: JobInput[], media: InputMedia | undefined): ParsedJob {
  const job: InferenceJob = { pipeline, modelId, params, inputs }
  return { job, workUnits: definition.work(job, media), ...(media !== undefined ? { media } : {}) }
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
  const definition = pipelineDefinition(pipeline)
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationError([{ loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', type: 'model_attributes_type' }])
  }
  const record = body as Record<string, unknown>
  const issues: ValidationIssue[] = []
  const modelId = resolveModel(pipeline, definition, record, ctx, issues)
  const { params, issues: fieldIssues } = validateFields(definition, record, 'json')
  issues.push(...fieldIssues)
  if (issues.length > 0) throw new ValidationError(issues)
  return build(definition, pipeline, modelId, params, [], undefined)
}

/**
 * Validates a multipart form of a multipart pipeline into a job: text fields are typed
 * and defaulted, files become `inputs`. Images must decode (sharp reads their header)
 * and stay within `maxImagePixels`, else 422; audio must be a known container, else
 * 415 like the reference runner.
 */
export async function parseMultipartJob (pipeline: GatewayPipeline, form: ParsedForm, ctx: ParseContext): Promise<ParsedJob> {
  const definition = pipelineDefinition(pipeline)
  const issues: ValidationIssue[] = []
  const texts: Record<string, string> = {}
  const files = fileProperties(definition)
  // text fields only: an uploaded image is not decoded as text
  const textFields = [definition.modelField, ...Object.keys(definition.request.properties).filter(name => !files.some(f => f.name === name))]
  for (const name of textFields) {
    const text = textOf(form, name)
    if (text !== undefined) texts[name] = text
  }
  const modelId = resolveModel(pipeline, definition, texts, ctx, issues)
  const inputs: JobInput[] = []
  let media: InputMedia | undefined
  let unsupportedAudio: string | undefined

  // problems are listed in the schema's order, file fields among the others
  const order = Object.keys(definition.request.properties)
  const located: Array<{ at: number, issue: ValidationIssue }> = []
  const { params, issues: fieldIssues } = validateFields(definition, texts, 'form')
  for (const issue of fieldIssues) located.push({ at: order.indexOf(String(issue.loc[1])), issue })

  for (const { name, media: kind, required } of files) {
    const loc = ['body', name]
    const problem = (issue: ValidationIssue): void => { located.push({ at: order.indexOf(name), issue }) }
    const file = form.files.get(name)
    if (file === undefined) {
      if (form.fields.has(name)) problem({ loc, msg: 'Expected a file upload, received a text field', type: 'file_type' })
      else if (required) problem({ loc, msg: 'Field required', type: 'missing' })
      continue
    }
    if (file.data.byteLength === 0) {
      problem({ loc, msg: 'The uploaded file is empty', type: 'file_empty' })
      continue
    }
    if (kind === 'image') {
      const info = await probeImage(file.data)
      if (info === undefined) {
        problem({ loc, msg: 'The uploaded file is not an image that can be decoded', type: 'image_invalid' })
        continue
      }
      if (info.width * info.height > ctx.maxImagePixels) {
        problem({ loc, msg: `The image has ${info.width}x${info.height} pixels, more than the limit of ${ctx.maxImagePixels}`, type: 'image_too_large' })
        continue
      }
      media ??= { width: info.width, height: info.height }
    } else if (sniffAudio(file.data) === undefined) {
      unsupportedAudio = name
      continue
    }
    inputs.push({ field: name, filename: file.filename, contentType: file.contentType, data: file.data })
  }
  located.sort((a, b) => a.at - b.at)
  issues.push(...located.map(l => l.issue))
  if (issues.length > 0) throw new ValidationError(issues)
  if (unsupportedAudio !== undefined) {
    throw new UnsupportedMediaTypeError(`the uploaded ${unsupportedAudio} file is not in a supported audio or video format`)
  }
  return build(definition, pipeline, modelId, params, inputs, media)
}
