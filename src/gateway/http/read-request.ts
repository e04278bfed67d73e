import type { FastifyRequest } from 'fastify'
import { BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from './errors.js'
import { readMultipart, type ReadLimits } from './multipart.js'
import { parseJsonJob, parseMultipartJob, type ParseContext, type ParsedForm, type ParsedJob, type UploadedFile } from './schemas/parse.js'
import { pipelineDefinition, type GatewayPipeline } from '../../kernel/pipelines.js'
import { hasRequestField } from '../../kernel/pipelines/validate.js'

export type { ReadLimits }

/** The media type of a Content-Type header, lower case, without parameters. */
export function mediaType (header: string | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
}

/**
 * A pipeline's form: the files of the fields it takes, one each (a file of another field is
 * read and dropped, as the reference runner ignores it); text fields are all kept and the
 * pipeline's validation picks its own.
 */
async function readForm (request: FastifyRequest, pipeline: GatewayPipeline, limits: ReadLimits): Promise<ParsedForm> {
  const definition = pipelineDefinition(pipeline)
  const form = await readMultipart(request, limits, {
    file: name => hasRequestField(definition, name) ? 'one' : 'drop',
    text: () => 'keep',
    refuse: name => new BadRequestError(`field ${name} is not taken`)
  })
  const files = new Map<string, UploadedFile>()
  for (const [name, list] of form.files) {
    const last = list[list.length - 1]
    if (last !== undefined) files.set(name, last)
  }
  return { fields: form.fields, files }
}

/**
 * Reads and validates a pipeline request into a job. The body must be of the
 * pipeline's kind (JSON or multipart, else 415); a body that cannot be read is 400,
 * one over the limit 413, invalid fields 422.
 */
export async function readJobRequest (request: FastifyRequest, pipeline: GatewayPipeline, ctx: ParseContext, limits: ReadLimits): Promise<ParsedJob> {
  const kind = pipelineDefinition(pipeline).body
  const type = mediaType(request.headers['content-type'])
  if (kind === 'json') {
    if (type !== 'application/json') {
      throw new UnsupportedMediaTypeError(`/${pipeline} takes an application/json body${type === '' ? '' : `, not ${type}`}`)
    }
    // a text field has the same bound whether it came as JSON or as a form field
    const body = request.body
    if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
      for (const [name, value] of Object.entries(body)) {
        if (typeof value === 'string' && value.length > limits.maxFieldBytes / 4 && Buffer.byteLength(value) > limits.maxFieldBytes) {
          throw new PayloadTooLargeError(limits.maxFieldBytes, 'maxFieldBytes', name)
        }
      }
    }
    return parseJsonJob(pipeline, body, ctx)
  }
  if (type !== 'multipart/form-data' || !request.isMultipart()) {
    throw new UnsupportedMediaTypeError(`/${pipeline} takes a multipart/form-data body${type === '' ? '' : `, not ${type}`}`)
  }
  return await parseMultipartJob(pipeline, await readForm(request, pipeline, limits), ctx)
}
