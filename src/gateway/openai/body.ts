import { mediaType } from '../http/read-request.js'
import type { FastifyRequest } from 'fastify'
import { OpenAiError, invalidParam } from './errors.js'

/** The JSON object body of an OpenAI request (400 otherwise, as OpenAI answers). */
export function jsonBody (request: FastifyRequest): Record<string, unknown> {
  if (mediaType(request.headers['content-type']) !== 'application/json') {
    throw new OpenAiError(400, 'GATEWAY_ERROR_UNSUPPORTED_MEDIA_TYPE', 'this endpoint takes an application/json body')
  }
  const body = request.body
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new OpenAiError(400, 'GATEWAY_ERROR_BAD_REQUEST', 'the body must be a JSON object')
  return body as Record<string, unknown>
}

/** A required string field. */
export function requiredString (body: Record<string, unknown>, name: string): string {
  const value = body[name]
  if (value === undefined || value === null) throw invalidParam(name, `you must provide '${name}'`)
  if (typeof value !== 'string') throw invalidParam(name, `'${name}' must be a string`)
  return value
}

/** `n` (images, choices): an integer from 1 to `max`. */
export function countOf (value: unknown, max: number): number {
  if (value === undefined || value === null) return 1
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) throw invalidParam('n', `'n' must be an integer from 1 to ${max}`)
  return value
}
