import { randomBytes } from 'node:crypto'
import { inputParts, type JobInput, type JsonValue } from '../../kernel/job.js'

export interface EncodedBody {
  contentType: string
  /** the body in pieces, so that a large file is never copied into one buffer */
  chunks: Uint8Array[]
  length: number
}

/** Form values are text: numbers and booleans as FastAPI parses them, objects as JSON. */
function formValue (value: JsonValue): string | null {
  if (value === null) return null
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return JSON.stringify(value)
}

/** Quotes a name as browsers do in Content-Disposition (`"` and line breaks percent-encoded). */
function quote (name: string): string {
  return `"${name.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A')}"`
}

/** Encodes params and files as `multipart/form-data` (RFC 7578). */
export function encodeMultipart (params: Record<string, JsonValue>, inputs: readonly JobInput[]): EncodedBody {
  const boundary = `----shoal${randomBytes(12).toString('hex')}`
  const chunks: Uint8Array[] = []
  for (const [name, value] of Object.entries(params)) {
    const text = formValue(value)
    if (text === null) continue
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name=${quote(name)}\r\n\r\n${text}\r\n`))
  }
  for (const input of inputs) {
    const contentType = input.contentType === '' ? 'application/octet-stream' : input.contentType
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name=${quote(input.field)}; filename=${quote(input.filename)}\r\nContent-Type: ${contentType.replace(/[\r\n]/g, '')}\r\n\r\n`))
    for (const part of inputParts(input.data)) chunks.push(part)
    chunks.push(Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return { contentType: `multipart/form-data; boundary=${boundary}`, chunks, length: chunks.reduce((n, c) => n + c.byteLength, 0) }
}
