import type { RunnerResponse } from '../../kernel/job.js'
import { mediaType } from '../http/read-request.js'
import { OpenAiError } from './errors.js'

/** An answer read whole: results of these routes are small (text, a few images, a clip of audio) next to the body limit. */
export async function readAnswer (response: RunnerResponse, limitBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of response.body) {
    size += chunk.byteLength
    if (size > limitBytes) throw new OpenAiError(502, 'GATEWAY_ERROR_RESULT_TOO_LARGE', `the orchestrator's answer is larger than ${limitBytes} bytes`)
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
  }
  return Buffer.concat(chunks)
}

/** The message of a runner's error body (`{"detail":{"msg"}}`, `{"error":{"message"}}`, or text). */
function messageOf (body: Buffer): string {
  try {
    const value = JSON.parse(body.toString('utf8')) as { detail?: unknown, error?: { message?: unknown } }
    if (typeof value.error?.message === 'string') return value.error.message
    const detail = value.detail
    if (typeof detail === 'string') return detail
    if (detail !== null && typeof detail === 'object' && typeof (detail as { msg?: unknown }).msg === 'string') return (detail as { msg: string }).msg
    if (Array.isArray(detail)) return detail.map(d => String((d as { msg?: unknown }).msg ?? JSON.stringify(d))).join('; ')
  } catch {}
  return body.toString('utf8').slice(0, 500)
}

/**
 * The runner's JSON answer. A 4xx the dispatcher relayed (the client's fault) becomes an
 * OpenAI error with that status; anything not JSON is the orchestrator's fault (502).
 */
export async function readJsonAnswer (response: RunnerResponse, limitBytes: number): Promise<unknown> {
  const body = await readAnswer(response, limitBytes)
  if (response.status >= 400) {
    throw new OpenAiError(response.status, 'GATEWAY_ERROR_JOB_REJECTED', `the model refused the request: ${messageOf(body)}`)
  }
  if (mediaType(response.contentType) !== 'application/json') throw upstream(`answered ${response.contentType || 'no content type'}, not JSON`)
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    throw upstream('answered malformed JSON')
  }
}

/** 502: the orchestrator answered, but not in its pipeline's response shape. */
export function upstream (what: string): OpenAiError {
  return new OpenAiError(502, 'GATEWAY_ERROR_INTERNAL', `the orchestrator's runner ${what}`, { type: 'server_error', openAiCode: 'bad_upstream_response' })
}

/** The bytes and media type of a `data:` URL (how runners return images and audio). */
export function fromDataUrl (url: unknown): { contentType: string, data: Buffer } | undefined {
  if (typeof url !== 'string' || !url.startsWith('data:')) return undefined
  const comma = url.indexOf(',')
  if (comma < 0) return undefined
  const meta = url.slice(5, comma)
  const base64 = meta.endsWith(';base64')
  const contentType = (base64 ? meta.slice(0, -7) : meta).split(';')[0] ?? ''
  const payload = url.slice(comma + 1)
  return { contentType: contentType === '' ? 'application/octet-stream' : contentType, data: base64 ? Buffer.from(payload, 'base64') : Buffer.from(decodeURIComponent(payload)) }
}
