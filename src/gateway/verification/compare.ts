/**
 * Whether two orchestrators' answers to the same job agree. Equal bytes always agree.
 * Otherwise, by the pipeline's mode:
 * - `bytes`: the pipeline is deterministic for a model and seed: any difference disagrees;
 * - `image`: the images of an ImageResponse (data URLs) must have the same count and
 *   sizes, and each pair a similarity at or above the threshold: the lower of
 *   1 - mean absolute difference and the correlation of 32x32 greyscale thumbnails (a
 *   blank image of the right size has no correlation with a real one whatever its colour);
 * - `text`: the answer's text (LLM message, deltas of a stream, `text`) split into
 *   whitespace tokens; the share of positions where both have the same token, over the
 *   longer, must reach the threshold. Sampled LLM outputs differ legitimately: this suits
 *   greedy or seeded decoding (a logit-level check such as TOPLOC needs the runner to
 *   expose top-k logits, which the ai-runner API does not).
 * An answer that cannot be read in its mode is `inconclusive`, never a disagreement.
 */
import sharp from 'sharp'
import type { CompareMode } from './options.js'

export interface Answer {
  status: number
  contentType: string
  body: Buffer
}

export type Verdict =
  | { result: 'agree' | 'disagree', method: CompareMode, similarity: number }
  | { result: 'inconclusive', method: CompareMode, reason: string }

export interface CompareThresholds { imageThreshold: number, textThreshold: number }

const THUMB = 32

export async function compareAnswers (mode: CompareMode, a: Answer, b: Answer, thresholds: CompareThresholds): Promise<Verdict> {
  if (a.status !== b.status) return { result: 'disagree', method: mode, similarity: 0 }
  if (a.body.equals(b.body)) return { result: 'agree', method: mode, similarity: 1 }
  if (mode === 'bytes') return { result: 'disagree', method: mode, similarity: 0 }
  if (mode === 'image') {
    const left = imagesOf(a)
    const right = imagesOf(b)
    if (left === undefined || right === undefined) return { result: 'inconclusive', method: mode, reason: 'not an image response with data URLs' }
    if (left.length !== right.length) return { result: 'disagree', method: mode, similarity: 0 }
    let lowest = 1
    for (let i = 0; i < left.length; i++) {
      const s = await imageSimilarity(left[i] as Buffer, right[i] as Buffer)
      if (s === undefined) return { result: 'inconclusive', method: mode, reason: 'an image could not be decoded' }
      lowest = Math.min(lowest, s)
    }
    return { result: lowest >= thresholds.imageThreshold ? 'agree' : 'disagree', method: mode, similarity: lowest }
  }
  const left = textOf(a)
  const right = textOf(b)
  if (left === undefined || right === undefined) return { result: 'inconclusive', method: mode, reason: 'no text in the answer' }
  const s = tokenAgreement(left, right)
  return { result: s >= thresholds.textThreshold ? 'agree' : 'disagree', method: mode, similarity: s }
}

/** The decoded bytes of each `images[].url` data URL, or undefined when the answer has none such. */
function imagesOf (answer: Answer): Buffer[] | undefined {
  const json = parseJson(answer.body)
  const images = (json as { images?: unknown } | undefined)?.images
  if (!Array.isArray(images)) return undefined
  const out: Buffer[] = []
  for (const image of images) {
    const url = (image as { url?: unknown } | null)?.url
    if (typeof url !== 'string') return undefined
    const match = /^data:[^;,]*;base64,(.*)$/s.exec(url)
    if (match === null) return undefined
    out.push(Buffer.from(match[1] ?? '', 'base64'))
  }
  return out
}

/** 0..1; undefined when either does not decode. Different sizes: 0. */
export async function imageSimilarity (a: Buffer, b: Buffer): Promise<number | undefined> {
  try {
    const [ma, mb] = await Promise.all([sharp(a).metadata(), sharp(b).metadata()])
    if (ma.width !== mb.width || ma.height !== mb.height) return 0
    const thumb = async (img: Buffer): Promise<Buffer> => await sharp(img).removeAlpha().greyscale().resize(THUMB, THUMB, { fit: 'fill' }).raw().toBuffer()
    const [ta, tb] = await Promise.all([thumb(a), thumb(b)])
    const n = Math.min(ta.length, tb.length)
    if (n === 0) return undefined
    let diff = 0; let sa = 0; let sb = 0
    for (let i = 0; i < n; i++) { diff += Math.abs((ta[i] ?? 0) - (tb[i] ?? 0)); sa += ta[i] ?? 0; sb += tb[i] ?? 0 }
    const closeness = 1 - diff / n / 255
    const mean = [sa / n, sb / n]
    let cov = 0; let va = 0; let vb = 0
    for (let i = 0; i < n; i++) {
      const da = (ta[i] ?? 0) - (mean[0] ?? 0)
      const db = (tb[i] ?? 0) - (mean[1] ?? 0)
      cov += da * db; va += da * da; vb += db * db
    }
    // two flat images correlate when they are alike; one flat and one not do not
    const FLAT = 1e-6 * n
    const correlation = va < FLAT && vb < FLAT ? closeness : (va < FLAT || vb < FLAT ? 0 : cov / Math.sqrt(va * vb))
    return Math.max(0, Math.min(closeness, correlation))
  } catch {
    return undefined
  }
}

/** The text of an answer: an LLM message or stream, or a `text` field; undefined when none. */
export function textOf (answer: Answer): string | undefined {
  const raw = answer.body.toString('utf8')
  if (answer.contentType.startsWith('text/event-stream') || raw.startsWith('data:')) {
    let text = ''
    for (const line of raw.split('\n')) {
      if (!line.startsWith('data:')) continue
      const data = line.slice(5).trim()
      if (data === '[DONE]') continue
      const event = parseJson(Buffer.from(data)) as { choices?: Array<{ delta?: { content?: unknown }, text?: unknown }> } | undefined
      for (const choice of event?.choices ?? []) {
        const part = choice.delta?.content ?? choice.text
        if (typeof part === 'string') text += part
      }
    }
    return text
  }
  const json = parseJson(answer.body) as { text?: unknown, choices?: Array<{ message?: { content?: unknown }, text?: unknown }> } | undefined
  if (json === undefined) return undefined
  if (typeof json.text === 'string') return json.text
  if (Array.isArray(json.choices)) {
    return json.choices.map(c => typeof c.message?.content === 'string' ? c.message.content : typeof c.text === 'string' ? c.text : '').join('\n')
  }
  return undefined
}

/** The share of positions holding the same whitespace token, over the longer text (1 for two empty texts). */
export function tokenAgreement (a: string, b: string): number {
  const ta = a.split(/\s+/).filter(Boolean)
  const tb = b.split(/\s+/).filter(Boolean)
  const longest = Math.max(ta.length, tb.length)
  if (longest === 0) return 1
  let same = 0
  for (let i = 0; i < Math.min(ta.length, tb.length); i++) if (ta[i] === tb[i]) same++
  return same / longest
}

function parseJson (body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    return undefined
  }
}
