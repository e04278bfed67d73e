import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ParsedForm } from '../http/index.js'
import { invalidParam } from './errors.js'
import { countOf, jsonBody, requiredString } from './body.js'
import { readOpenAiForm } from './form.js'
import { fromDataUrl, readJsonAnswer, upstream } from './runner-answer.js'
import type { OpenAiContext } from './context.js'

// what OpenAI's images/edits takes (the ones the pipeline cannot honour are read and ignored, or refused below)
const EDIT_FIELDS = {
  files: { image: 'one', 'image[]': 'many', mask: 'one' },
  texts: ['prompt', 'model', 'n', 'size', 'response_format', 'user', 'background', 'quality', 'output_format', 'output_compression', 'input_fidelity', 'stream', 'partial_images']
} as const

/** OpenAI's `size` ("1024x1024"; "auto" or none: the pipeline's default) as the pipeline's width and height. */
function sizeOf (value: unknown): { width: number, height: number } | undefined {
  if (value === undefined || value === null || value === 'auto') return undefined
  const match = typeof value === 'string' ? /^(\d{1,5})x(\d{1,5})$/.exec(value) : null
  if (match === null) throw invalidParam('size', "'size' must be WIDTHxHEIGHT, e.g. 1024x1024, or auto")
  return { width: Number(match[1]), height: Number(match[2]) }
}

function formatOf (value: unknown): 'url' | 'b64_json' {
  if (value === undefined || value === null) return 'url'
  if (value === 'url' || value === 'b64_json') return value
  throw invalidParam('response_format', "'response_format' must be url or b64_json")
}

/**
 * The pipeline's ImageResponse (`{images: [{url, seed, nsfw}]}`, data URLs) as OpenAI's
 * images response: `url` keeps the data URL (this gateway hosts no files), `b64_json`
 * its bytes in base64.
 */
function imagesResponse (value: unknown, format: 'url' | 'b64_json'): Record<string, unknown> {
  const images = (value as { images?: unknown } | null)?.images
  if (!Array.isArray(images) || images.length === 0) throw upstream('answered without images')
  return {
    created: Math.floor(Date.now() / 1000),
    data: images.map((image: unknown) => {
      const url = (image as { url?: unknown } | null)?.url
      const decoded = fromDataUrl(url)
      if (decoded === undefined) throw upstream('answered an image that is not a data URL')
      return format === 'url' ? { url, revised_prompt: null } : { b64_json: decoded.data.toString('base64'), revised_prompt: null }
    })
  }
}

/** The text-to-image and image-to-image fields as OpenAI calls them, for error `param`s. */
export const IMAGE_PARAMS: Readonly<Record<string, string>> = { model_id: 'model', num_images_per_prompt: 'n', width: 'size', height: 'size', prompt: 'prompt', image: 'image' }

/** `POST /v1/images/generations` on text-to-image. */
export async function imageGenerations (ctx: OpenAiContext, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const body = jsonBody(request)
  const prompt = requiredString(body, 'prompt')
  const format = formatOf(body.response_format)
  const size = sizeOf(body.size)
  const json = {
    prompt,
    ...(typeof body.model === 'string' ? { model_id: body.model } : {}),
    num_images_per_prompt: countOf(body.n, 10),
    ...(size ?? {})
  }
  const result = await ctx.submit('text-to-image', { json }, request, reply)
  return imagesResponse(await readJsonAnswer(result.response, ctx.limits.bodyLimitBytes), format)
}

/** `POST /v1/images/edits` (multipart) on image-to-image: the first image is edited; a mask is not supported by the pipeline and refused. */
export async function imageEdits (ctx: OpenAiContext, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const form = await readOpenAiForm(request, ctx.limits, EDIT_FIELDS)
  const image = (form.files.get('image') ?? form.files.get('image[]'))?.[0]
  if (image === undefined) throw invalidParam('image', "you must provide an 'image' file")
  if (form.files.has('mask')) throw invalidParam('mask', 'masks are not supported: the image-to-image pipeline edits the whole image')
  const prompt = form.fields.get('prompt')
  if (prompt === undefined) throw invalidParam('prompt', "you must provide 'prompt'")
  const format = formatOf(form.fields.get('response_format'))
  const n = form.fields.get('n')
  const fields = new Map<string, string>([['prompt', prompt], ['num_images_per_prompt', String(countOf(n === undefined ? undefined : Number(n), 10))]])
  const model = form.fields.get('model')
  if (model !== undefined) fields.set('model_id', model)
  const pipelineForm: ParsedForm = { fields, files: new Map([['image', image]]) }
  const result = await ctx.submit('image-to-image', { form: pipelineForm }, request, reply)
  return imagesResponse(await readJsonAnswer(result.response, ctx.limits.bodyLimitBytes), format)
}
