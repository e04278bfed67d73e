import type { FastifyRequest } from 'fastify'
import { readMultipart, type MultipartForm, type ReadLimits } from '../http/multipart.js'
import { OpenAiError } from './errors.js'

/** An OpenAI multipart form: its text fields, and its files by field (`image[]` holds several). */
export type OpenAiForm = MultipartForm

/** The fields an OpenAI multipart route takes: its file fields (one file or several) and its text fields. */
export interface OpenAiFormFields {
  files: Readonly<Record<string, 'one' | 'many'>>
  texts: readonly string[]
}

/**
 * Reads an OpenAI multipart body within the gateway's limits and bounds (413 naming the
 * one crossed, at once, as the pipeline routes do). A field the route does not take is
 * refused with 400, as OpenAI's API refuses an unrecognized argument.
 */
export async function readOpenAiForm (request: FastifyRequest, limits: ReadLimits, taken: OpenAiFormFields): Promise<OpenAiForm> {
  if (!request.isMultipart()) throw new OpenAiError(400, 'GATEWAY_ERROR_UNSUPPORTED_MEDIA_TYPE', 'this endpoint takes a multipart/form-data body')
  return await readMultipart(request, limits, {
    file: name => taken.files[name] ?? 'refuse',
    text: name => taken.texts.includes(name) ? 'keep' : 'refuse',
    refuse: (name, kind) => new OpenAiError(400, 'GATEWAY_ERROR_VALIDATION', kind === 'file' && taken.texts.includes(name)
      ? `'${name}' must be a text field, not a file`
      : `Unrecognized request argument supplied: ${name}`, { param: name, openAiCode: 'unknown_parameter' })
  })
}
