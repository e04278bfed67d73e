/**
 * Measures of a job that pipelines count their units and work in: a positive integer
 * param with a fallback, input pixels from an image header, input bytes.
 */
import { imageSize } from 'image-size'
import { wholeInput, type InferenceJob, type JobInput, type JsonValue } from '../job.js'
import type { InputMedia } from './definition.js'

/** A positive integer param, or the fallback when it is absent or not one. */
export function positiveParam (value: JsonValue | undefined, fallback: number): bigint {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN
  return BigInt(Number.isSafeInteger(n) && n > 0 ? n : fallback)
}

/** A positive number param for work estimates, or the fallback. */
export function positiveNumber (value: JsonValue | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback
}

/** Characters of a text param (code points), at least one. */
export function characters (value: JsonValue | undefined): number {
  return Math.max(1, typeof value === 'string' ? [...value].length : 1)
}

/** Total bytes of a job's file inputs. */
export function inputBytes (job: InferenceJob): number {
  return job.inputs.reduce((sum, i) => sum + i.data.byteLength, 0)
}

/** Input pixels from the media the gateway measured, else 1. */
export function mediaPixels (media: InputMedia | undefined): number {
  return media !== undefined ? media.width * media.height : 1
}

/** Audio milliseconds estimated from a size in bytes at 128 kbit/s (16 bytes per ms), until the runner reports the duration. */
export function audioMsFromBytes (bytes: number): bigint {
  return BigInt(Math.max(1, Math.ceil(bytes / 16)))
}

/**
 * Pricing a job from its header alone, before its input arrives: image inputs are
 * counted as at least one pixel per this many bytes (16-bit RGBA, the most an
 * uncompressed pixel takes) beyond a free allowance (the head where an image states its
 * size; small jobs are not held to a bound looser than their real price).
 */
const MAX_BYTES_PER_PIXEL = 8
const FREE_INPUT_BYTES = 64 * 1024

/** A lower bound of an image input's pixels from its declared size. */
export function pixelsFromDeclaredBytes (bytes: number): bigint {
  return BigInt(Math.max(1, Math.floor((bytes - FREE_INPUT_BYTES) / MAX_BYTES_PER_PIXEL)))
}

/**
 * Image headers are read from the first bytes of an input, which may be a list of
 * frames of any size (see `JobInput.data`); the whole input only when its size is not
 * in them (a JPEG with large metadata segments before its frame header).
 */
const IMAGE_HEAD_BYTES = 64 * 1024

/** Pixels (H x W) of the job's `image` input (or its first input), 1 when it does not decode. */
export function inputPixels (job: InferenceJob): bigint {
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
  const head = wholeInput(data).subarray(0, n)
  return head.byteOffset === 0 && head.buffer.byteLength === n ? head : head.slice()
}
