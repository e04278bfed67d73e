import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import sharp from 'sharp'

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
