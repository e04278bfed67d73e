import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import sharp from 'sharp'
import { anySignal } from '../signals/any-signal.js'

export interface DemoResult {
  inputPath: string
  outputPath: string
  input: { width: number, height: number }
  output: { width: number, height: number }
  orchestrator: string
  ms: number
}

/** A test card: colour gradients and sharp edges, so the upscale is visible. */
async function testCard (width: number, height: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3
      const checker = ((x >> 3) + (y >> 3)) % 2 === 0
      raw[i] = Math.round((x / width) * 255)
      raw[i + 1] = Math.round((y / height) * 255)
      raw[i + 2] = checker ? 200 : 40
    }
  }
  return await sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer()
}

/**
 * The main job, end to end: posts a real image to the gateway's `/upscale` exactly as a
 * Livepeer AI client would, and writes the upscaled result to a file.
 */
export async function runUpscaleDemo (gatewayUrl: string, dir: string, options: { signal?: AbortSignal } = {}): Promise<DemoResult> {
  const input = { width: 128, height: 96 }
  const image = await testCard(input.width, input.height)
  const inputPath = join(dir, 'demo-input.png')
  await writeFile(inputPath, image)
  const form = new FormData()
  form.set('prompt', 'a sharper test card')
  form.set('image', new Blob([image], { type: 'image/png' }), 'demo-input.png')
  const started = performance.now()
  const res = await fetch(`${gatewayUrl}/upscale`, { method: 'POST', body: form, signal: options.signal ?? AbortSignal.timeout(120_000) })
  const ms = performance.now() - started
  const text = await res.text()
  if (!res.ok) throw new Error(`the gateway answered ${res.status}: ${text.slice(0, 300)}`)
  const body = JSON.parse(text) as { images?: Array<{ url?: string }> }
  const url = body.images?.[0]?.url
  if (typeof url !== 'string' || !url.startsWith('data:image/')) throw new Error('the gateway answered without an image')
  const output = Buffer.from(url.slice(url.indexOf(',') + 1), 'base64')
  const meta = await sharp(output).metadata()
  const outputPath = join(dir, 'demo-upscaled.png')
  await writeFile(outputPath, output)
  return { inputPath, outputPath, input, output: { width: meta.width ?? 0, height: meta.height ?? 0 }, orchestrator: res.headers.get('x-shoal-orchestrator') ?? 'unknown', ms }
}

/** The inputs the pipeline demos and printed curls use, written to the data directory. */
export interface DemoInputs {
  /** the test card (also the upscale demo's input) */
  card: string
  /** a photo of a person (from the extras' @vladmandic/human assets), else the test card */
  portrait: string
}

export async function writeDemoInputs (dir: string, portraitSource: string | null): Promise<DemoInputs> {
  const card = join(dir, 'demo-input.png')
  await writeFile(card, await testCard(128, 96))
  let portrait = card
  if (portraitSource !== null) {
    portrait = join(dir, 'demo-portrait.png')
    // face and shoulders, as person-mask and object models expect
    await writeFile(portrait, await sharp(portraitSource).extract({ left: 8, top: 345, width: 150, height: 152 }).png().toBuffer())
  }
  return { card, portrait }
}

/** One request per pipeline: what `curl` sends, and how the demo sends it. */
export interface PipelineRequest {
  pipeline: string
  /** the curl command line, for people */
  curl: string
  /** the same request for fetch */
  init: () => Promise<RequestInit>
}

const jsonInit = (body: unknown): () => Promise<RequestInit> => async () => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

async function formInit (fields: Record<string, string>, file: { name: string, path: string }): Promise<RequestInit> {
  const form = new FormData()
  for (const [k, v] of Object.entries(fields)) form.set(k, v)
  const { readFile } = await import('node:fs/promises')
  form.set(file.name, new Blob([await readFile(file.path)], { type: 'image/png' }), 'input.png')
  return { method: 'POST', body: form }
}

/**
 * A request a Livepeer client would send for each pipeline the testnet serves, with no
 * model id: the gateway's default (the reference's) applies, and its alias picks the
 * model the mesh runs.
 */
export function pipelineRequests (url: string, inputs: DemoInputs): Record<string, PipelineRequest> {
  const form = (pipeline: string, fields: Record<string, string>, path: string): PipelineRequest => ({
    pipeline,
    curl: ['curl', ...Object.entries(fields).map(([k, v]) => `-F ${k}=${v}`), `-F image=@${path}`, `${url}/${pipeline}`].join(' '),
    init: async () => await formInit(fields, { name: 'image', path })
  })
  const json = (pipeline: string, body: unknown): PipelineRequest => ({
    pipeline,
    curl: `curl -H 'content-type: application/json' -d '${JSON.stringify(body)}' ${url}/${pipeline}`,
    init: jsonInit(body)
  })
  return {
    upscale: form('upscale', { prompt: 'upscale' }, inputs.card),
    'segment-anything-2': form('segment-anything-2', { return_logits: 'false' }, inputs.portrait),
    'image-to-text': form('image-to-text', {}, inputs.portrait),
    'image-to-video': form('image-to-video', { width: '256', height: '192' }, inputs.card),
    'text-to-speech': json('text-to-speech', { text: 'Hello from the Shoal testnet.' }),
    llm: json('llm', { messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 16 })
  }
}

export interface PipelineDemoResult {
  pipeline: string
  status: number
  ms: number
  /** the model that ran (X-Shoal-Model) */
  model: string | null
  /** a short account of the answer, or the error */
  summary: string
}

function summarise (pipeline: string, body: string): string {
  try {
    const json = JSON.parse(body) as Record<string, unknown>
    if (pipeline === 'image-to-text') return `text ${JSON.stringify(String(json.text ?? '')).slice(0, 60)}`
    if (pipeline === 'llm') return `reply ${JSON.stringify(String((json.choices as Array<{ message?: { content?: string } }> | undefined)?.[0]?.message?.content ?? '')).slice(0, 50)}`
    if (pipeline === 'text-to-speech') return `WAV of ${Math.round(String((json.audio as { url?: string } | undefined)?.url ?? '').length * 0.75 / 1024)} KiB`
    if (pipeline === 'segment-anything-2') return `mask string of ${Math.round(String(json.masks ?? '').length / 1024)} KiB`
    if (pipeline === 'image-to-video') return `MP4 of ${Math.round(String((json.images as Array<{ url?: string }> | undefined)?.[0]?.url ?? '').length * 0.75 / 1024)} KiB`
    if (pipeline === 'upscale') return `PNG of ${Math.round(String((json.images as Array<{ url?: string }> | undefined)?.[0]?.url ?? '').length * 0.75 / 1024)} KiB`
    const detail = (json.detail as { msg?: string } | undefined)?.msg
    return detail ?? body.slice(0, 80)
  } catch {
    return body.slice(0, 80)
  }
}

/** Sends one request per pipeline, all at once (the first one of a model starts its runner). */
export async function runPipelineDemos (url: string, requests: PipelineRequest[], options: { signal?: AbortSignal, timeoutMs?: number } = {}): Promise<PipelineDemoResult[]> {
  return await Promise.all(requests.map(async (request) => {
    const started = performance.now()
    try {
      const signal = anySignal([AbortSignal.timeout(options.timeoutMs ?? 180_000), ...(options.signal !== undefined ? [options.signal] : [])])
      const res = await fetch(`${url}/${request.pipeline}`, { ...(await request.init()), signal })
      const body = await res.text()
      const summary = res.ok ? summarise(request.pipeline, body) : summarise('', body)
      return { pipeline: request.pipeline, status: res.status, ms: performance.now() - started, model: res.headers.get('x-shoal-model'), summary }
    } catch (err) {
      return { pipeline: request.pipeline, status: 0, ms: performance.now() - started, model: null, summary: (err as Error).message }
    }
  }))
}
