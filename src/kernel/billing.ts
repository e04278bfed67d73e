import { imageSize } from 'image-size'
import type { InferenceJob, JobInput, JsonValue } from './job.js'

/**
 * Billable units of a job, as the reference network counts them (the unit of each
 * pipeline is `PIPELINE_UNIT`): text-to-image output H x W x images; image-to-image,
 * upscale, segment-anything-2 and image-to-text input H x W; image-to-video H x W x 25
 * frames; LLM tokens (max_tokens before the job, tokens really produced after it);
 * text-to-speech characters; audio-to-text milliseconds of audio, estimated from the
 * input size at 128 kbit/s until the runner reports the duration.
 *
 * Both sides compute it from the job itself: the gateway to pay, the orchestrator to
 * charge. Neither trusts the other's number.
 */
export function billableUnits (job: InferenceJob): bigint {
  const p = job.params
  switch (job.pipeline) {
    case 'text-to-image':
      return positive(p.width, 1024) * positive(p.height, 576) * positive(p.num_images_per_prompt, 1)
    case 'image-to-video':
      return positive(p.width, 1024) * positive(p.height, 576) * 25n
    case 'image-to-image':
    case 'upscale':
    case 'segment-anything-2':
    case 'image-to-text':
      return inputPixels(job)
    case 'llm':
      return positive(p.max_tokens, 256)
    case 'text-to-speech':
      return BigInt(Math.max(1, typeof p.text === 'string' ? [...p.text].length : 1))
    case 'audio-to-text':
      // 128 kbit/s = 16 bytes per ms
      return BigInt(Math.max(1, Math.ceil(job.inputs.reduce((sum, i) => sum + i.data.byteLength, 0) / 16)))
    default:
      return 1n
  }
}

/**
 * Units really delivered, from the runner's answer, where they differ from the
 * estimate: an LLM is charged for the tokens it produced (`usage.completion_tokens`,
 * or the streamed chunks), never for max_tokens. Returns undefined to keep the estimate.
 */
export function deliveredUnits (job: InferenceJob, contentType: string, body: Uint8Array | undefined): bigint | undefined {
  if (job.pipeline !== 'llm' || body === undefined) return undefined
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

function positive (value: JsonValue | undefined, fallback: number): bigint {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN
  return BigInt(Number.isSafeInteger(n) && n > 0 ? n : fallback)
}

/**
 * Image headers are read from the first bytes of an input, which may be a list of
 * frames of any size (see `JobInput.data`); the whole input only when its size is not
 * in them (a JPEG with large metadata segments before its frame header).
 */
const IMAGE_HEAD_BYTES = 64 * 1024

function inputPixels (job: InferenceJob): bigint {
  const image = job.inputs.find(i => i.field === 'image') ?? job.inputs[0]
  if (image === undefined) return 1n
  const { data } = image
  try {
    const head = imageSize(ownCopy(data, Math.min(IMAGE_HEAD_BYTES, data.byteLength)))
    const pixels = head.width * head.height
    if (Number.isSafeInteger(pixels) && pixels > 0) return BigInt(pixels)
  } catch {}
  if (data.byteLength <= IMAGE_HEAD_BYTES) return 1n
  try {
    const { width, height } = imageSize(ownCopy(data, data.byteLength))
    return BigInt(Math.max(1, width * height))
  } catch {
    // an input that does not decode is refused by the runner; price it as one unit
    return 1n
  }
}

/**
 * The first `n` bytes in a buffer of their own. image-size reads through a DataView
 * over the whole ArrayBuffer, so it could read past a view's end into whatever shares
 * it (the rest of a frame, a pooled buffer): the gateway (one Uint8Array) and the
 * orchestrator (a list of frames) must price the same bytes the same way.
 */
function ownCopy (data: JobInput['data'], n: number): Uint8Array {
  // a list spanning parts is joined into a new buffer already; a view is copied out
  const head = data.subarray(0, n)
  return head.byteOffset === 0 && head.buffer.byteLength === n ? head : head.slice()
}

/** price x units, rounded up: `pricePerUnit` wei per `pixelsPerUnit` units. */
export function feeFor (units: bigint, price: { pricePerUnit: bigint, pixelsPerUnit: bigint }): bigint {
  return (units * price.pricePerUnit + price.pixelsPerUnit - 1n) / price.pixelsPerUnit
}
