import type { FastifyRequest } from 'fastify'
import { ApiError, BadRequestError, PayloadTooLargeError } from './errors.js'
import type { UploadedFile } from './schemas/parse.js'

export interface ReadLimits {
  bodyLimitBytes: number
  maxFieldBytes: number
}

// multipart bounds: enough for every pipeline's and OpenAI route's fields, few enough to bound the
// work; the part count bounds fields and files together (64 fields plus 8 files is over it)
export const MAX_FILES = 8
export const MAX_FIELDS = 64
export const MAX_PARTS = 64
export const MAX_FIELD_NAME_BYTES = 200

/**
 * What a route takes of each field name. A file field keeps `one` file (the last sent)
 * or `many` (OpenAI's `image[]`); `drop` reads the part (to reach the next) and forgets
 * it; `refuse` ends the read with `refuse`'s error. A text field and a file of the same
 * name replace each other, the last sent winning.
 */
export interface MultipartPolicy {
  file: (name: string) => 'one' | 'many' | 'drop' | 'refuse'
  text: (name: string) => 'keep' | 'drop' | 'refuse'
  /** the error for a refused field, in the route's shape */
  refuse: (name: string, kind: 'file' | 'text') => ApiError
}

/** A multipart form as read: the last value of each text field, the files of each file field. */
export interface MultipartForm {
  fields: Map<string, string>
  files: Map<string, UploadedFile[]>
}

/** Multipart errors from @fastify/multipart and busboy that mean "too much" (should ours not trip first). */
const TOO_LARGE_CODES: Record<string, (limits: ReadLimits) => PayloadTooLargeError> = {
  FST_REQ_FILE_TOO_LARGE: (l) => new PayloadTooLargeError(l.bodyLimitBytes, 'bodyLimitBytes'),
  FST_PARTS_LIMIT: () => new PayloadTooLargeError(MAX_PARTS, 'maxParts'),
  FST_FILES_LIMIT: () => new PayloadTooLargeError(MAX_FILES, 'maxFiles'),
  FST_FIELDS_LIMIT: () => new PayloadTooLargeError(MAX_FIELDS, 'maxFields')
}

/**
 * Reads a multipart body part by part, refusing it (413, naming the limit) as soon as a
 * bound is crossed: the gateway counts parts, fields, files, name sizes and bytes itself,
 * because busboy only reports its own limits when the body ends, which a hostile client
 * never lets happen. The caller checks that the request is multipart.
 */
export async function readMultipart (request: FastifyRequest, limits: ReadLimits, policy: MultipartPolicy): Promise<MultipartForm> {
  const form: MultipartForm = { fields: new Map(), files: new Map() }
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
      // the bound of the part's own kind is named first, then the one on both together
      if (part.type === 'file' ? ++files > MAX_FILES : ++fields > MAX_FIELDS) {
        throw part.type === 'file' ? new PayloadTooLargeError(MAX_FILES, 'maxFiles') : new PayloadTooLargeError(MAX_FIELDS, 'maxFields')
      }
      if (++parts > MAX_PARTS) throw new PayloadTooLargeError(MAX_PARTS, 'maxParts')
      if (Buffer.byteLength(part.fieldname) > MAX_FIELD_NAME_BYTES || (part.type === 'field' && part.fieldnameTruncated)) {
        throw new PayloadTooLargeError(MAX_FIELD_NAME_BYTES, 'maxFieldNameBytes')
      }
      if (part.type === 'file') {
        const rule = policy.file(part.fieldname)
        // refused before its bytes are read: the connection is closed with the answer
        if (rule === 'refuse') throw policy.refuse(part.fieldname, 'file')
        const chunks: Buffer[] = []
        for await (const chunk of part.file as AsyncIterable<Buffer>) {
          total += chunk.byteLength
          if (total > limits.bodyLimitBytes) throw new PayloadTooLargeError(limits.bodyLimitBytes, 'bodyLimitBytes')
          if (rule !== 'drop') chunks.push(chunk)
        }
        if (part.file.truncated) throw new PayloadTooLargeError(limits.bodyLimitBytes, 'bodyLimitBytes')
        if (rule === 'drop') continue
        const file: UploadedFile = {
          filename: part.filename,
          contentType: part.mimetype,
          data: chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks)
        }
        const list = rule === 'many' ? form.files.get(part.fieldname) ?? [] : []
        list.push(file)
        form.files.set(part.fieldname, list)
        form.fields.delete(part.fieldname)
      } else {
        const value = typeof part.value === 'string' ? part.value : JSON.stringify(part.value)
        if (part.valueTruncated || Buffer.byteLength(value) > fieldLimit) {
          throw fieldLimit === limits.bodyLimitBytes
            ? new PayloadTooLargeError(limits.bodyLimitBytes, 'bodyLimitBytes')
            : new PayloadTooLargeError(limits.maxFieldBytes, 'maxFieldBytes', part.fieldname)
        }
        total += Buffer.byteLength(value)
        if (total > limits.bodyLimitBytes) throw new PayloadTooLargeError(limits.bodyLimitBytes, 'bodyLimitBytes')
        const rule = policy.text(part.fieldname)
        if (rule === 'refuse') throw policy.refuse(part.fieldname, 'text')
        if (rule === 'drop') continue
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
