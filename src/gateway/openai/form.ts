import type { FastifyRequest } from 'fastify'
import { ApiError, BadRequestError, PayloadTooLargeError } from '../http/errors.js'
import type { ReadLimits } from '../http/read-request.js'
import type { UploadedFile } from '../http/index.js'
import { OpenAiError } from './errors.js'

/** An OpenAI multipart form: its text fields, and its files by field (`image[]` holds several). */
export interface OpenAiForm {
  fields: Map<string, string>
  files: Map<string, UploadedFile[]>
}

// the same bounds as the pipeline routes' forms
const MAX_FILES = 8
const MAX_FIELDS = 64

/**
 * Reads a multipart body within the gateway's limits (413 naming the one crossed, at
 * once, as the pipeline routes do).
 */
export async function readOpenAiForm (request: FastifyRequest, limits: ReadLimits): Promise<OpenAiForm> {
  if (!request.isMultipart()) throw new OpenAiError(400, 'GATEWAY_ERROR_UNSUPPORTED_MEDIA_TYPE', 'this endpoint takes a multipart/form-data body')
  const form: OpenAiForm = { fields: new Map(), files: new Map() }
  let total = 0
  let files = 0
  let fields = 0
  try {
    for await (const part of request.parts({ limits: { fileSize: limits.bodyLimitBytes + 1, fieldSize: limits.maxFieldBytes + 1, files: MAX_FILES + 1, fields: MAX_FIELDS + 1, fieldNameSize: 201, headerPairs: 100 } })) {
      if (part.type === 'file') {
        if (++files > MAX_FILES) throw new PayloadTooLargeError(MAX_FILES, 'maxFiles')
        const chunks: Buffer[] = []
        for await (const chunk of part.file as AsyncIterable<Buffer>) {
          total += chunk.byteLength
          if (total > limits.bodyLimitBytes) throw new PayloadTooLargeError(limits.bodyLimitBytes, 'bodyLimitBytes')
          chunks.push(chunk)
        }
        const list = form.files.get(part.fieldname) ?? []
        list.push({ filename: part.filename, contentType: part.mimetype, data: Buffer.concat(chunks) })
        form.files.set(part.fieldname, list)
      } else {
        if (++fields > MAX_FIELDS) throw new PayloadTooLargeError(MAX_FIELDS, 'maxFields')
        const value = typeof part.value === 'string' ? part.value : JSON.stringify(part.value)
        if (part.valueTruncated || Buffer.byteLength(value) > limits.maxFieldBytes) throw new PayloadTooLargeError(limits.maxFieldBytes, 'maxFieldBytes', part.fieldname)
        total += Buffer.byteLength(value)
        if (total > limits.bodyLimitBytes) throw new PayloadTooLargeError(limits.bodyLimitBytes, 'bodyLimitBytes')
        form.fields.set(part.fieldname, value)
      }
    }
  } catch (err) {
    if (err instanceof ApiError) throw err
    throw new BadRequestError(`malformed multipart body: ${(err as Error).message}`, { cause: err })
  }
  return form
}
