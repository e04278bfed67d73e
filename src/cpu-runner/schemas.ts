/**
 * The request validation the runner applies before a model sees a request: the
 * pipeline's schema from the registry (`src/kernel/pipelines/`), with ai-runner's
 * (pydantic's lax) coercion. Failures are reported as FastAPI does: HTTP 422
 * `{detail: [{loc, msg, type}]}`.
 */
import type { JsonValue } from '../kernel/job.js'
import { pipelineDefinition, type PipelineName } from '../kernel/pipelines.js'
import { fileProperties, requestedModel, validateFields, type ValidationIssue } from '../kernel/pipelines/validate.js'

export type { ValidationIssue } from '../kernel/pipelines/validate.js'

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

/** A validated request: typed params with defaults applied, the model it names ('' for none), and its files. */
export interface ValidatedRequest {
  params: Record<string, JsonValue>
  model: string
  files: Record<string, RequestFile>
}

export type ValidationResult = { ok: true, value: ValidatedRequest } | { ok: false, issues: ValidationIssue[] }

/**
 * Validates a request against its pipeline's schema: required fields present, types
 * coerced as FastAPI does for forms (strings) and JSON, defaults applied. Fields the
 * schema does not name are ignored, as FastAPI ignores them.
 */
export function validateRunnerRequest (pipeline: PipelineName, request: RawRequest): ValidationResult {
  const definition = pipelineDefinition(pipeline)
  const order = Object.keys(definition.request.properties)
  const located: Array<{ at: number, issue: ValidationIssue }> = []
  const model = requestedModel(definition, request.fields)
  if ('issue' in model) located.push({ at: -1, issue: model.issue })
  // the ai-runner declares no lower bounds: its models refuse a zero size or fps (400)
  const { params, issues } = validateFields(definition, request.fields, request.form ? 'form' : 'json-lax', { lowerBounds: false })
  for (const issue of issues) located.push({ at: order.indexOf(String(issue.loc[1])), issue })
  const files: Record<string, RequestFile> = {}
  for (const { name, required } of fileProperties(definition)) {
    const loc = ['body', name]
    const upload = request.files[name]
    if (upload !== undefined) files[name] = upload
    else if (request.fields[name] !== undefined) located.push({ at: order.indexOf(name), issue: { loc, msg: 'Expected a file upload, received a text field', type: 'file_type' } })
    else if (required) located.push({ at: order.indexOf(name), issue: { loc, msg: 'Field required', type: 'missing' } })
  }
  if (located.length > 0) return { ok: false, issues: located.sort((a, b) => a.at - b.at).map(l => l.issue) }
  const modelId = 'value' in model ? model.value : ''
  // the runner's request models carry the model field too (default ''); models may read it
  return { ok: true, value: { params: { [definition.modelField]: modelId, ...params }, model: modelId, files } }
}
