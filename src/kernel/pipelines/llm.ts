import { Type } from '@sinclair/typebox'
import { definePipeline } from './definition.js'
import { positiveNumber, positiveParam } from './measure.js'
import { LLMResponse } from './responses.js'

const Message = Type.Object({ role: Type.String(), content: Type.String() }, { additionalProperties: false })

/**
 * Tokens really produced, from the runner's answer: `usage.completion_tokens`, or, in a
 * stream without usage, the number of chunks carrying choices.
 */
function deliveredTokens (contentType: string, body: Uint8Array): bigint | undefined {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')
  if (contentType.startsWith('text/event-stream')) {
    let usage: bigint | undefined
    let chunks = 0n
    for (const line of text.split('\n')) {
      if (!line.startsWith('data:')) continue
      const data = line.slice(5).trim()
      if (data === '[DONE]') continue
      try {
        const parsed = JSON.parse(data) as { usage?: { completion_tokens?: number }, choices?: unknown[] }
        if (typeof parsed.usage?.completion_tokens === 'number') usage = BigInt(parsed.usage.completion_tokens)
        if (Array.isArray(parsed.choices) && parsed.choices.length > 0) chunks++
      } catch { /* a partial line: not counted */ }
    }
    return usage ?? chunks
  }
  try {
    const parsed = JSON.parse(text) as { usage?: { completion_tokens?: number } }
    return typeof parsed.usage?.completion_tokens === 'number' ? BigInt(parsed.usage.completion_tokens) : undefined
  } catch {
    return undefined
  }
}

/**
 * Chat completion; billed per token: max_tokens before the job, the tokens really
 * produced after it. The model is named by `model`, not `model_id`.
 */
export default definePipeline({
  name: 'llm',
  operationId: 'genLLM',
  gateway: true,
  body: 'json',
  modelField: 'model',
  request: Type.Object({
    messages: Type.Array(Message, { minItems: 1 }),
    temperature: Type.Optional(Type.Number({ default: 0.7 })),
    max_tokens: Type.Optional(Type.Integer({ default: 256, minimum: 1 })),
    top_p: Type.Optional(Type.Number({ default: 1.0 })),
    top_k: Type.Optional(Type.Integer({ default: -1 })),
    stream: Type.Optional(Type.Boolean({ default: false }))
  }),
  response: LLMResponse,
  streaming: 'sse',
  defaultModel: 'meta-llama/llama-3.1-8B-Instruct',
  examples: [
    { model: 'meta-llama/Meta-Llama-3.1-8B-Instruct', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Why is the sky blue?' }], max_tokens: 64, stream: true },
    { messages: [{ role: 'user', content: 'hi' }], temperature: 0.2, top_k: 40 }
  ],
  unit: 'token',
  units: job => positiveParam(job.params.max_tokens, 256),
  admissionUnits: ({ params }) => positiveParam(params.max_tokens, 256),
  deliveredUnits: deliveredTokens,
  work: ({ params: p }) => positiveNumber(p.max_tokens, 1),
  testnetPrice: '100000000000'
})
