import type { Uint8ArrayList } from 'uint8arraylist'
import type { PipelineName } from './pipelines.js'

/** A JSON value as it travels in job parameters. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/**
 * An input whose bytes are still arriving (a custom capability's request body, relayed
 * to the orchestrator as the client sends it): its declared size, and its bytes from the
 * start, which can be read again only while `replayable` (the part read so far is still
 * held). Only the `/shoal/ai` client reads one; everything else meets whole inputs.
 */
export interface StreamedBytes {
  readonly streamed: true
  /** the declared size: exactly this many bytes are read */
  readonly byteLength: number
  /** whether `read` may start again from the first byte */
  readonly replayable: boolean
  /** the bytes from the first; one reader at a time */
  read: (signal?: AbortSignal) => AsyncIterable<Uint8Array>
}

export function isStreamed (data: JobInput['data']): data is StreamedBytes {
  return (data as Partial<StreamedBytes>).streamed === true
}

/** One binary input of a job (a multipart file field such as `image` or `audio`). */
export interface JobInput {
  /** the multipart field name the runner expects, e.g. `image` */
  field: string
  filename: string
  contentType: string
  /**
   * The file's bytes. An input that came over `/shoal/ai` is the list of the frames it
   * arrived in, never copied into one buffer (copying a 100 MiB input cost a fifth of
   * the protocol's throughput); one the gateway parsed from HTTP is a single Uint8Array.
   * Read it by `byteLength`, `subarray(start, end)` (copies only a range that spans
   * parts) or its parts (`inputParts`). At the gateway, a custom capability's large body
   * is `StreamedBytes`, read as it is sent.
   */
  data: Uint8Array | Uint8ArrayList | StreamedBytes
}

/** A whole input's bytes; a streamed one is refused (only the `/shoal/ai` client reads those, as they are sent). */
export function wholeInput (data: JobInput['data']): Uint8Array | Uint8ArrayList {
  if (isStreamed(data)) throw new TypeError('a streamed input is read once, as it is sent: it has no whole bytes here')
  return data
}

/** The buffers holding a whole input's bytes, in order (a Uint8Array iterates numbers, not parts). */
export function inputParts (data: JobInput['data']): Iterable<Uint8Array> {
  const whole = wholeInput(data)
  return whole instanceof Uint8Array ? [whole] : whole
}

/**
 * A validated inference job, independent of transport: the gateway builds it from an
 * HTTP request, the `/shoal/ai` protocol carries it, and a runner client turns it back
 * into the ai-runner HTTP request (`POST /<pipeline>`, JSON or multipart).
 */
export interface InferenceJob {
  pipeline: PipelineName
  modelId: string
  /** non-file fields with defaults applied, e.g. `{ prompt, seed, num_inference_steps }` */
  params: Record<string, JsonValue>
  inputs: JobInput[]
}

/**
 * What a runner answered: its HTTP status, content type and body. Bodies are
 * streamed so that LLM Server-Sent Events can be relayed chunk by chunk.
 */
export interface RunnerResponse {
  status: number
  contentType: string
  body: AsyncIterable<Uint8Array>
}
