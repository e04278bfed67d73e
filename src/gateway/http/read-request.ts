import type { FastifyRequest } from 'fastify'
import { ApiError, BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from './errors.js'
import { parseJsonJob, parseMultipartJob, type ParseContext, type ParsedForm, type ParsedJob } from './schemas/parse.js'
import { PIPELINE_SCHEMAS, type GatewayPipeline } from './schemas/pipelines.js'

export interface ReadLimits {
  bodyLimitBytes: number
  maxFieldBytes: number
}

/** The media type of a Content-Type header, lower case, without parameters. */
export function mediaType (header: string | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
}

// busboy's limits: enough for every pipeline's fields, few enough to bound the work
const MAX_FILES = 8
const MAX_FIELDS = 64
const MAX_PARTS = 80

/** Multipart errors from @fastify/multipart and busboy that mean "too much". */
const TOO_LARGE_CODES = new Set(['FST_REQ_FILE_TOO_LARGE', 'FST_PARTS_LIMIT', 'FST_FILES_LIMIT', 'FST_FIELDS_LIMIT'])

async function readForm (request: FastifyRequest, pipeline: GatewayPipeline, limits: ReadLimits): Promise<ParsedForm> {
  const schema = PIPELINE_SCHEMAS[pipeline]
  const form: ParsedForm = { fields: new Map(), files: new Map() }
  let total = 0
  let parts = 0
  try {
    const iterator = request.parts({
      limits: {
        fieldNameSize: 200,
        fieldSize: Math.min(limits.maxFieldBytes, limits.bodyLimitBytes),
        fileSize: limits.bodyLimitBytes,
        files: MAX_FILES,
        fields: MAX_FIELDS,
        parts: MAX_PARTS,
        headerPairs: 100
      }
    })
    for await (const part of iterator) {
      parts++
      if (part.type === 'file') {
        const chunks: Buffer[] = []
        for await (const chunk of part.file as AsyncIterable<Buffer>) {
          total += chunk.byteLength
          if (total > limits.bodyLimitBytes) throw new PayloadTooLargeError(limits.bodyLimitBytes)
          chunks.push(chunk)
        }
        if (part.file.truncated) throw new PayloadTooLargeError(limits.bodyLimitBytes)
        // files of fields the pipeline does not take are read (to reach the next part) and dropped
        const spec = schema.fields[part.fieldname]
        if (spec !== undefined || part.fieldname === schema.modelField) {
          form.files.set(part.fieldname, {
            filename: part.filename,
            contentType: part.mimetype,
            data: chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks)
          })
          form.fields.delete(part.fieldname)
        }
      } else {
        if (part.valueTruncated || part.fieldnameTruncated) throw new PayloadTooLargeError(limits.bodyLimitBytes)
        const value = typeof part.value === 'string' ? part.value : JSON.stringify(part.value)
        total += Buffer.byteLength(value)
        if (total > limits.bodyLimitBytes) throw new PayloadTooLargeError(limits.bodyLimitBytes)
        form.fields.set(part.fieldname, value)
        form.files.delete(part.fieldname)
      }
    }
  } catch (err) {
    if (err instanceof ApiError) throw err
    const code = (err as { code?: unknown }).code
    if (typeof code === 'string' && TOO_LARGE_CODES.has(code)) throw new PayloadTooLargeError(limits.bodyLimitBytes)
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
  const kind = PIPELINE_SCHEMAS[pipeline].body
  const type = mediaType(request.headers['content-type'])
  if (kind === 'json') {
    if (type !== 'application/json') {
      throw new UnsupportedMediaTypeError(`/${pipeline} takes an application/json body${type === '' ? '' : `, not ${type}`}`)
    }
    return parseJsonJob(pipeline, request.body, ctx)
  }
  if (type !== 'multipart/form-data' || !request.isMultipart()) {
    throw new UnsupportedMediaTypeError(`/${pipeline} takes a multipart/form-data body${type === '' ? '' : `, not ${type}`}`)
  }
  return await parseMultipartJob(pipeline, await readForm(request, pipeline, limits), ctx)
}
