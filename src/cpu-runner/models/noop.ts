/**
 * The `shoal/noop` model: FOR BENCHMARKS AND TESTS ONLY. It runs no inference; it
 * echoes its input with as little work as possible, so that the cost of everything
 * around a model (HTTP, protocol, selection, payments) can be measured.
 *
 * - `upscale`, `image-to-image`: an ImageResponse whose one image is the input image,
 *   unchanged, as a data URL (seed echoed, 0 when absent; nsfw false).
 * - `llm` with `stream: true`: Server-Sent Events echoing each message's content as a
 *   delta, then a final chunk and `[DONE]`.
 * - every other pipeline: the validated params (defaults applied) as JSON, plus a
 *   description of each uploaded file under `inputs`.
 */
import type { JsonValue } from '../../kernel/job.js'
import type { PipelineName } from '../../kernel/pipelines.js'
import type { ValidatedRequest } from '../schemas.js'
import type { CpuModel, ModelOutput } from './types.js'

export const NOOP_MODEL_ID = 'shoal/noop'

/**
 * Tests only: each job first blocks the runner's main thread this long (a busy loop),
 * as a model stuck in synchronous native code would (see the parent watchdog test).
 */
export const NOOP_BUSY_ENV = 'SHOAL_NOOP_BUSY_MS'

function blockMainThread (): void {
  const ms = Number(process.env[NOOP_BUSY_ENV] ?? 0)
  if (!(ms > 0)) return
  const end = Date.now() + ms
  while (Date.now() < end) { /* deliberately blocking */ }
}

function echoImage (request: ValidatedRequest): ModelOutput {
  const image = request.files.image
  const seed = typeof request.params.seed === 'number' ? request.params.seed : 0
  const contentType = image.contentType === '' ? 'application/octet-stream' : image.contentType
  return {
    kind: 'json',
    body: { images: [{ url: `data:${contentType};base64,${image.data.toString('base64')}`, seed, nsfw: false }] }
  }
}

async function * echoLlmStream (request: ValidatedRequest, modelId: string): AsyncIterable<JsonValue> {
  const id = `noop-${Date.now().toString(36)}`
  const created = Math.floor(Date.now() / 1000)
  const messages = request.params.messages as Array<{ role: string, content: string }>
  for (const message of messages) {
    yield { id, model: modelId, created, choices: [{ index: 0, delta: { role: 'assistant', content: message.content }, finish_reason: '' }] }
  }
  yield {
    id,
    model: modelId,
    created,
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: 'stop' }]
  }
}

export function createNoopModel (pipeline: PipelineName): CpuModel {
  return {
    pipeline,
    modelId: NOOP_MODEL_ID,
    concurrency: 64,
    load: async () => {},
    run: async (request) => {
      blockMainThread()
      if ((pipeline === 'upscale' || pipeline === 'image-to-image') && request.files.image !== undefined) return echoImage(request)
      if (pipeline === 'llm' && request.params.stream === true) return { kind: 'sse', events: echoLlmStream(request, NOOP_MODEL_ID) }
      const inputs = Object.entries(request.files).map(([field, f]) => ({ field, filename: f.filename, content_type: f.contentType, size: f.data.byteLength }))
      return { kind: 'json', body: inputs.length > 0 ? { ...request.params, inputs } : request.params }
    },
    close: async () => {}
  }
}
