import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ApiError } from '../http/errors.js'
import type { GatewayPipeline } from '../http/index.js'
import { AUDIO_PARAMS, speech, transcriptions } from './audio.js'
import { chatCompletions } from './chat.js'
import { completions } from './completions.js'
import type { OpenAiContext } from './context.js'
import { OpenAiError, toOpenAiError } from './errors.js'
import { IMAGE_PARAMS, imageEdits, imageGenerations } from './images.js'
import { LLM_PARAMS } from './llm.js'
import { listModels, retrieveModel } from './models.js'

export type { OpenAiContext } from './context.js'
export { OpenAiError, toOpenAiError } from './errors.js'
export { meshModels, type MeshModel } from './models.js'

/** 404 in OpenAI's shape for a `/v1` route this gateway does not serve (embeddings, files, ...). */
export function openAiNotFound (method: string, path: string): OpenAiError {
  return new OpenAiError(404, 'GATEWAY_ERROR_NOT_FOUND', `${method} ${path} is not served by this gateway (it serves /v1/models, /v1/chat/completions, /v1/completions, /v1/images/generations, /v1/images/edits, /v1/audio/transcriptions, /v1/audio/speech)`, { openAiCode: 'unknown_url' })
}

type Handler = (ctx: OpenAiContext, request: FastifyRequest, reply: FastifyReply) => Promise<unknown>

/** Each route: its pipeline (metrics count it there), its translation, and its fields' OpenAI names. */
const ROUTES: Array<{ url: string, operationId: string, pipeline: GatewayPipeline, handler: Handler, params: Readonly<Record<string, string>> }> = [
  { url: '/v1/chat/completions', operationId: 'openaiChatCompletions', pipeline: 'llm', handler: chatCompletions, params: LLM_PARAMS },
  { url: '/v1/completions', operationId: 'openaiCompletions', pipeline: 'llm', handler: completions, params: { ...LLM_PARAMS, messages: 'prompt' } },
  { url: '/v1/images/generations', operationId: 'openaiImageGenerations', pipeline: 'text-to-image', handler: imageGenerations, params: IMAGE_PARAMS },
  { url: '/v1/images/edits', operationId: 'openaiImageEdits', pipeline: 'image-to-image', handler: imageEdits, params: IMAGE_PARAMS },
  { url: '/v1/audio/transcriptions', operationId: 'openaiAudioTranscriptions', pipeline: 'audio-to-text', handler: transcriptions, params: AUDIO_PARAMS },
  { url: '/v1/audio/speech', operationId: 'openaiAudioSpeech', pipeline: 'text-to-speech', handler: speech, params: AUDIO_PARAMS }
]

/**
 * The OpenAI-compatible routes: each translates the OpenAI request into its pipeline's
 * fields, goes through the pipeline routes' own path (`submit`: validation, selection,
 * retries, payment), and translates the answer back. Errors are in OpenAI's shape.
 */
export function registerOpenAiRoutes (ctx: OpenAiContext): void {
  const shape = (params: Readonly<Record<string, string>>) => (error: ApiError): ApiError => toOpenAiError(error, params)
  ctx.add('GET', '/v1/models', { operationId: 'openaiListModels', auth: true, errorShape: shape({}) }, async () => listModels(ctx.directory))
  ctx.add('GET', '/v1/models/*', { operationId: 'openaiRetrieveModel', auth: true, errorShape: shape({}) }, async (request) => {
    // model ids hold slashes ("espeak-ng/en-us"): the rest of the path is the id
    return retrieveModel(ctx.directory, (request.params as { '*': string })['*'])
  })
  for (const route of ROUTES) {
    ctx.add('POST', route.url, { operationId: route.operationId, pipeline: route.pipeline, auth: true, errorShape: shape(route.params) },
      async (request, reply) => await route.handler(ctx, request, reply))
  }
}
