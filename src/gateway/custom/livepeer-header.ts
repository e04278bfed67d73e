/**
 * The reference's BYOC `Livepeer` request header: base64 of a JSON object
 * `{"capability": "<name>", "request": "<JSON string>", "timeout_seconds": N,
 * "parameters": {...}}` (`parameters`: a stream start's options; other members are
 * ignored). Parsed strictly: every problem is a 400 that says what is wrong.
 */
import { CUSTOM_MAX_TIMEOUT_MS } from '../../kernel/pipelines/custom.js'
import { BadRequestError } from '../http/errors.js'

export interface LivepeerHeader {
  capability: string
  /** passed to the app as `Livepeer-Request` */
  request?: string
  timeoutMs?: number
  /** a stream start's options (`enable_data_output`, `enable_video_ingress`, ...) */
  parameters?: Record<string, unknown>
}

/** The most header text decoded (the HTTP server bounds all headers anyway). */
const MAX_HEADER_CHARS = 96 * 1024

export function parseLivepeerHeader (value: string | string[] | undefined): LivepeerHeader {
  if (value === undefined) throw new BadRequestError('missing Livepeer header: base64 of {"capability": "<name>", "request": "<JSON string>", "timeout_seconds": N}; or call POST /capability/<name>/<path>, which needs none')
  if (Array.isArray(value)) throw new BadRequestError('more than one Livepeer header')
  const text = value.trim()
  if (text.length > MAX_HEADER_CHARS) throw new BadRequestError(`Livepeer header longer than ${MAX_HEADER_CHARS} characters`)
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text) || text === '') throw new BadRequestError('Livepeer header is not base64')
  let json: unknown
  try {
    json = JSON.parse(Buffer.from(text, 'base64').toString('utf8'))
  } catch {
    throw new BadRequestError('Livepeer header is not base64 of a JSON object')
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new BadRequestError('Livepeer header is not base64 of a JSON object')
  const h = json as Record<string, unknown>
  if (typeof h.capability !== 'string' || h.capability === '') throw new BadRequestError('Livepeer header: "capability" must be a non-empty string')
  const header: LivepeerHeader = { capability: h.capability }
  if (h.request !== undefined && h.request !== null) {
    if (typeof h.request !== 'string') throw new BadRequestError('Livepeer header: "request" must be a string (JSON text)')
    header.request = h.request
  }
  if (h.timeout_seconds !== undefined && h.timeout_seconds !== null) {
    header.timeoutMs = timeoutMsOf(h.timeout_seconds, 'Livepeer header: "timeout_seconds"')
  }
  if (h.parameters !== undefined && h.parameters !== null) {
    if (typeof h.parameters !== 'object' || Array.isArray(h.parameters)) throw new BadRequestError('Livepeer header: "parameters" must be a JSON object')
    header.parameters = h.parameters as Record<string, unknown>
  }
  return header
}

/** Seconds as given by a client (header member or `X-Shoal-Timeout`), as whole ms within Shoal's limit. */
export function timeoutMsOf (value: unknown, what: string): number {
  const seconds = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0 || seconds * 1000 > CUSTOM_MAX_TIMEOUT_MS) {
    throw new BadRequestError(`${what} must be a number of seconds in (0, ${CUSTOM_MAX_TIMEOUT_MS / 1000}] (got ${JSON.stringify(value)})`)
  }
  return Math.ceil(seconds * 1000)
}
