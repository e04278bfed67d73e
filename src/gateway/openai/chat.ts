import type { FastifyReply, FastifyRequest } from 'fastify'
import { invalidParam } from './errors.js'
import { jsonBody, countOf, requiredString } from './body.js'
import { collect, llmPieces, llmSampling, objectId, sendEventStream, type LlmPiece } from './llm.js'
import type { OpenAiContext } from './context.js'

/** OpenAI's roles as the llm pipeline knows them ('developer' is the newer name of 'system'). */
const ROLES: Readonly<Record<string, string>> = { system: 'system', developer: 'system', user: 'user', assistant: 'assistant' }

/** A message's text: a string, or the text parts of a list of parts (other parts are refused: the pipeline takes text). */
function textOf (content: unknown, index: number): string {
  if (typeof content === 'string') return content
  if (content === null || content === undefined) return ''
  if (Array.isArray(content)) {
    return content.map((part: unknown) => {
      const p = part as { type?: unknown, text?: unknown }
      if (p?.type === 'text' && typeof p.text === 'string') return p.text
      throw invalidParam(`messages[${index}].content`, `content parts of type ${JSON.stringify(p?.type)} are not supported: the llm pipeline takes text`)
    }).join('')
  }
  throw invalidParam(`messages[${index}].content`, 'content must be a string or a list of text parts')
}

/** The llm pipeline's `messages` from OpenAI's. */
function messagesOf (value: unknown): Array<{ role: string, content: string }> {
  if (!Array.isArray(value) || value.length === 0) throw invalidParam('messages', "'messages' must be a non-empty array")
  return value.map((m: unknown, i) => {
    const message = m as { role?: unknown, content?: unknown }
    const role = typeof message?.role === 'string' ? ROLES[message.role] : undefined
    if (role === undefined) throw invalidParam(`messages[${i}].role`, `role ${JSON.stringify(message?.role)} is not supported (system, developer, user, assistant)`)
    return { role, content: textOf(message.content, i) }
  })
}

/**
 * `POST /v1/chat/completions` on the llm pipeline. The pipeline is always asked to
 * stream; a client that did not ask for a stream gets the tokens joined into one
 * `chat.completion` with the runner's `usage`.
 */
export async function chatCompletions (ctx: OpenAiContext, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const body = jsonBody(request)
  requiredString(body, 'model')
  countOf(body.n, 1)
  const messages = messagesOf(body.messages)
  const stream = body.stream === true
  const includeUsage = (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true
  const result = await ctx.submit('llm', { json: { ...llmSampling(body), messages, stream: true } }, request, reply)
  const pieces = await llmPieces(result.response, ctx)
  const id = objectId('chatcmpl', request.id)
  const created = Math.floor(Date.now() / 1000)
  const model = String(body.model)

  if (!stream) {
    const { text, finishReason, usage } = await collect(pieces)
    return {
      id,
      object: 'chat.completion',
      created,
      model,
      system_fingerprint: null,
      choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: finishReason }],
      usage
    }
  }

  const chunk = (delta: Record<string, unknown>, finishReason: string | null): Record<string, unknown> => ({
    id, object: 'chat.completion.chunk', created, model, system_fingerprint: null, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }]
  })
  async function * events (source: AsyncIterable<LlmPiece>): AsyncGenerator<unknown> {
    let first = true
    let usage: LlmPiece['usage']
    for await (const piece of source) {
      if (piece.error !== undefined) throw new Error(piece.error)
      if (piece.usage !== undefined) usage = piece.usage
      if (piece.content === '' && piece.finishReason === null && !first) continue
      yield chunk(first ? { role: 'assistant', content: piece.content } : { content: piece.content }, piece.finishReason)
      first = false
    }
    if (includeUsage) yield { id, object: 'chat.completion.chunk', created, model, system_fingerprint: null, choices: [], usage: usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } }
  }
  return await sendEventStream(request, reply, events(pieces))
}
