import type { FastifyReply, FastifyRequest } from 'fastify'
import { Readable } from 'node:stream'
import type { RunnerResponse } from '../../kernel/job.js'
import { mediaType } from '../http/read-request.js'
import { readJsonAnswer, upstream } from './runner-answer.js'
import { sseData, sseEvent } from './sse.js'
import type { OpenAiContext } from './context.js'

export interface Usage { prompt_tokens: number, completion_tokens: number, total_tokens: number }

/** One piece of an LLM answer, whichever way the runner sent it. */
export interface LlmPiece {
  content: string
  finishReason: string | null
  usage?: Usage
  /** the runner's stream broke off with this message */
  error?: string
}

/** The llm pipeline's fields from the OpenAI request's common sampling fields (the translation of both LLM routes). */
export function llmSampling (body: Record<string, unknown>): Record<string, unknown> {
  const maxTokens = body.max_completion_tokens ?? body.max_tokens
  return {
    ...(typeof body.model === 'string' ? { model: body.model } : {}),
    ...(body.temperature !== undefined && body.temperature !== null ? { temperature: body.temperature } : {}),
    ...(body.top_p !== undefined && body.top_p !== null ? { top_p: body.top_p } : {}),
    ...(maxTokens !== undefined && maxTokens !== null ? { max_tokens: maxTokens } : {})
  }
}

/** The llm pipeline's field names as the OpenAI request calls them, for error `param`s. */
export const LLM_PARAMS: Readonly<Record<string, string>> = { model: 'model', temperature: 'temperature', top_p: 'top_p', max_tokens: 'max_tokens', messages: 'messages' }

function usageOf (value: unknown): Usage | undefined {
  if (value === null || typeof value !== 'object') return undefined
  const u = value as Record<string, unknown>
  const n = (x: unknown): number => typeof x === 'number' && Number.isFinite(x) ? x : 0
  const prompt = n(u.prompt_tokens)
  const completion = n(u.completion_tokens)
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: typeof u.total_tokens === 'number' ? u.total_tokens : prompt + completion }
}

function pieceOf (value: unknown): LlmPiece | undefined {
  if (value === null || typeof value !== 'object') return undefined
  const chunk = value as { choices?: unknown, usage?: unknown, error?: { message?: unknown } }
  if (chunk.error !== undefined) return { content: '', finishReason: null, error: typeof chunk.error?.message === 'string' ? chunk.error.message : 'the runner stream failed' }
  const choice = Array.isArray(chunk.choices) ? chunk.choices[0] as Record<string, unknown> | undefined : undefined
  const delta = (choice?.delta ?? choice?.message) as { content?: unknown } | undefined
  const finish = choice?.finish_reason
  const usage = usageOf(chunk.usage)
  return {
    content: typeof delta?.content === 'string' ? delta.content : '',
    // the reference runner sends '' for "not finished"
    finishReason: typeof finish === 'string' && finish !== '' ? finish : null,
    ...(usage !== undefined ? { usage } : {})
  }
}

/**
 * The pieces of the runner's answer: its Server-Sent Events (the gateway always asks
 * for a stream, so that both streamed and whole OpenAI answers are built from the same
 * tokens), or a whole LLMResponse from a runner that does not stream.
 */
export async function llmPieces (response: RunnerResponse, ctx: OpenAiContext): Promise<AsyncGenerator<LlmPiece>> {
  if (response.status >= 400 || mediaType(response.contentType) !== 'text/event-stream') {
    const whole = pieceOf(await readJsonAnswer(response, ctx.limits.bodyLimitBytes))
    if (whole === undefined) throw upstream('answered an LLM request without choices')
    return (async function * () { yield whole })()
  }
  return (async function * () {
    try {
      for await (const data of sseData(response.body)) {
        if (data.trim() === '[DONE]') return
        let value: unknown
        try { value = JSON.parse(data) } catch { yield { content: '', finishReason: null, error: 'the runner sent a malformed event' }; return }
        const piece = pieceOf(value)
        if (piece !== undefined) yield piece
        if (piece?.error !== undefined) return
      }
    } catch (err) {
      yield { content: '', finishReason: null, error: `the runner stream failed: ${(err as Error).message}` }
    }
  })()
}

/** All pieces joined: the text, the last finish reason, the runner's usage (zeros when it sent none). */
export async function collect (pieces: AsyncIterable<LlmPiece>): Promise<{ text: string, finishReason: string, usage: Usage }> {
  let text = ''
  let finishReason = 'stop'
  let usage: Usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }
  for await (const piece of pieces) {
    if (piece.error !== undefined) throw upstream(`stream broke off: ${piece.error}`)
    text += piece.content
    if (piece.finishReason !== null) finishReason = piece.finishReason
    if (piece.usage !== undefined) usage = piece.usage
  }
  return { text, finishReason, usage }
}

/** Streams `events` to the client as OpenAI does: `data: {...}` per event, then `data: [DONE]`. */
export async function sendEventStream (request: FastifyRequest, reply: FastifyReply, events: AsyncIterable<unknown>): Promise<FastifyReply> {
  async function * body (): AsyncGenerator<string> {
    try {
      for await (const event of events) yield sseEvent(event)
    } catch (err) {
      if (reply.raw.destroyed) return
      request.log.warn({ err }, 'OpenAI stream failed mid-way')
      yield sseEvent({ error: { message: 'stream interrupted', type: 'server_error', param: null, code: 'stream_interrupted' } })
    }
    yield sseEvent('[DONE]')
  }
  void reply.code(200).header('content-type', 'text/event-stream; charset=utf-8').header('cache-control', 'no-cache').header('x-accel-buffering', 'no')
  return await reply.send(Readable.from(body(), { objectMode: false }))
}

/** The id OpenAI's objects carry, from the gateway's request id. */
export function objectId (prefix: string, requestId: string): string {
  return `${prefix}-${requestId.replace(/-/g, '')}`
}
