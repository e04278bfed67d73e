import type { FastifyRequest } from 'fastify'
import { ApiError, BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from './errors.js'
import { parseJsonJob, parseMultipartJob, type ParseContext, type ParsedForm, type ParsedJob } from './schemas/parse.js'
import { pipelineDefinition, type GatewayPipeline } from '../../kernel/pipelines.js'
import { hasRequestField } from '../../kernel/pipelines/validate.js'

export interface ReadLimits {
  bodyLimitBytes: number
  maxFieldBytes: number
}

/** The media type of a Content-Type header, lower case, without parameters. */
export function mediaType (header: string | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
}

// multipart bounds: enough for every pipeline's fields, few enough to bound the work
const MAX_FILES = 8
const MAX_FIELDS = 64
const MAX_PARTS = 80
const MAX_FIELD_NAME_BYTES = 200

/** Multipart errors from @fastify/multipart and busboy that mean "too much" (should ours not trip first). */
const TOO_LARGE_CODES: Record<string, (limits: ReadLimits) => PayloadTooLargeError> = {
  FST_REQ_FILE_TOO_LARGE: (l) => new PayloadTooLargeError(l.bodyLimitBytes, 'bodyLimitBytes'),
  FST_PARTS_LIMIT: () => new PayloadTooLargeError(MAX_PARTS, 'maxParts'),
  FST_FILES_LIMIT: () => new PayloadTooLargeError(MAX_FILES, 'maxFiles'),
  FST_FIELDS_LIMIT: () => new PayloadTooLargeError(MAX_FIELDS, 'maxFields')
}

/**
 * Reads a multipart body part by part, refusing it (413, naming the limit) as soon as a
 * bound is crossed: the gateway counts fields, files and bytes itself, because busboy
 * only reports its own limits when the body ends, which a hostile client never lets happen.
 */
async function readForm (request: FastifyRequest, pipeline: GatewayPipeline, limits: ReadLimits): Promise<ParsedForm> {
  const definition = pipelineDefinition(pipeline)
  const form: ParsedForm = { fields: new Map(), files: new Map() }
  const fieldLimit = Math.min(limits.maxFieldBytes, limits.bodyLimitBytes)
  let total = 0
  let parts = 0
  let fields = 0
  let files = 0
  try {
    const iterator = request.parts({
      limits: {
        // one over ours, so that ours are the ones that trip
        fieldNameSize: MAX_FIELD_NAME_BYTES + 1,
        fieldSize: fieldLimit + 1,
        fileSize: limits.bodyLimitBytes + 1,
        files: MAX_FILES + 1,
        fields: MAX_FIELDS + 1,
        parts: MAX_PARTS + 1,
        headerPairs: 100
      }
    })
    for await (const part of iterator) {
      if (++parts > MAX_PARTS) throw new PayloadTooLargeError(MAX_PARTS, 'maxParts')
      if (Buffer.byteLength(part.fieldname) > MAX_FIELD_NAME_BYTES) throw new PayloadTooLargeError(MAX_FIELD_NAME_BYTES, 'maxFieldNameBytes')
      if (part.type === 'file') {
        if (++files > MAX_FILES) throw new PayloadTooLargeError(MAX_FILES, 'maxFiles')
        const chunks: Buffer[] = []
        for await (const chunk of part.file as AsyncIterable<Buffer>) {
          total += chunk.byteLength
          if (total > limits.bodyLimitBytes) throw new PayloadTooLargeError(limits.bodyLimitBytes, 'bodyLimitBytes')
          chunks.push(chunk)
        }
        if (part.file.truncated) throw new PayloadTooLargeError(limits.bodyLimitBytes, 'bodyLimitBytes')
        // files of fields the pipeline does not take are read (to reach the next part) and dropped
        if (hasRequestField(definition, part.fieldname)) {
          form.files.set(part.fieldname, {
            filename: part.filename,
            contentType: part.mimetype,
            data: chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks)
          })
          form.fields.delete(part.fieldname)
        }
      } else {
        if (++fields > MAX_FIELDS) throw new PayloadTooLargeError(MAX_FIELDS, 'maxFields')
        if (part.fieldnameTruncated) throw new PayloadTooLargeError(MAX_FIELD_NAME_BYTES, 'maxFieldNameBytes')
        const value = typeof part.value === 'string' ? part.value : JSON.stringify(part.value)
        if (part.valueTruncated || Buffer.byteLength(value) > fieldLimit) {
          throw fieldLimit === limits.bodyLimitBytes
            ? new PayloadTooLargeError(limits.bodyLimitBytes, 'bodyLimitBytes')
            : new PayloadTooLargeError(limits.maxFieldBytes, 'maxFieldBytes', part.fieldname)
        }
        total += Buffer.byteLength(value)
        if (total > limits.bodyLimitBytes) throw new PayloadTooLargeError(limits.bodyLimitBytes, 'bodyLimitBytes')
        form.fields.set(part.fieldname, value)
        form.files.delete(part.fieldname)
      }
    }
  } catch (err) {
    if (err instanceof ApiError) throw err
    const code = (err as { code?: unknown }).code
    if (typeof code === 'string' && TOO_LARGE_CODES[code] !== undefined) throw TOO_LARGE_CODES[code](limits)
    throw new BadRequestError(`malformed multipart body: ${(err as Error).message}`, { cause: err })
  }
  if (parts === 0) throw new BadRequestError('malformed multipart body: no parts')
  return form
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
