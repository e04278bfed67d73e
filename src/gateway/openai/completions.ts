import type { FastifyReply, FastifyRequest } from 'fastify'
import { invalidParam } from './errors.js'
import { countOf, jsonBody, requiredString } from './body.js'
import { collect, llmPieces, llmSampling, objectId, sendEventStream, type LlmPiece } from './llm.js'
import type { OpenAiContext } from './context.js'

/** The prompt as one user message: the llm pipeline is chat-shaped. */
function promptOf (value: unknown): string {
  if (typeof value === 'string') return value
  if (Array.isArray(value) && value.length === 1 && typeof value[0] === 'string') return value[0]
  throw invalidParam('prompt', "'prompt' must be a string (a list of prompts or of token ids is not supported)")
}

/** `POST /v1/completions` (the legacy text completion) on the llm pipeline. */
export async function completions (ctx: OpenAiContext, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const body = jsonBody(request)
  requiredString(body, 'model')
  countOf(body.n, 1)
  const prompt = promptOf(body.prompt)
  const result = await ctx.submit('llm', { json: { ...llmSampling(body), messages: [{ role: 'user', content: prompt }], stream: true } }, request, reply)
  const pieces = await llmPieces(result.response, ctx)
  const id = objectId('cmpl', request.id)
  const created = Math.floor(Date.now() / 1000)
  const model = String(body.model)
  const choice = (text: string, finishReason: string | null): Record<string, unknown> => ({ text, index: 0, logprobs: null, finish_reason: finishReason })

  if (body.stream !== true) {
    const { text, finishReason, usage } = await collect(pieces)
    return { id, object: 'text_completion', created, model, system_fingerprint: null, choices: [choice(text, finishReason)], usage }
  }
  const includeUsage = (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true
  async function * events (source: AsyncIterable<LlmPiece>): AsyncGenerator<unknown> {
    let usage: LlmPiece['usage']
    for await (const piece of source) {
      if (piece.error !== undefined) throw new Error(piece.error)
      if (piece.usage !== undefined) usage = piece.usage
      if (piece.content === '' && piece.finishReason === null) continue
      yield { id, object: 'text_completion', created, model, system_fingerprint: null, choices: [choice(piece.content, piece.finishReason)] }
    }
    if (includeUsage) yield { id, object: 'text_completion', created, model, system_fingerprint: null, choices: [], usage: usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } }
  }
  return await sendEventStream(request, reply, events(pieces))
}
