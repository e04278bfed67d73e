import sharp from 'sharp'
import type { ModelEntry } from '../../src/inference/models-config.js'
import { waitFor } from '../helpers/wait-for.js'

/** A PNG with some structure (gradient + shapes), so an upscaler has edges to work on. */
export async function makePng (width: number, height: number): Promise<Buffer> {
  const svg = `<svg width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">
    <defs><linearGradient id="g"><stop offset="0" stop-color="#204080"/><stop offset="1" stop-color="#e0a040"/></linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)"/>
    <circle cx="${width / 2}" cy="${height / 2}" r="${Math.min(width, height) / 4}" fill="#10c060"/>
    <rect x="${width / 8}" y="${height / 8}" width="${width / 6}" height="${height / 3}" fill="#ffffff"/>
  </svg>`
  return await sharp(Buffer.from(svg)).png().toBuffer()
}

/** Decodes a `data:image/png;base64,...` URL. */
export function dataUrlBytes (url: string): Buffer {
  const match = /^data:([^;,]+);base64,(.*)$/s.exec(url)
  if (match === null) throw new Error(`not a base64 data URL: ${url.slice(0, 40)}`)
  return Buffer.from(match[2], 'base64')
}

/** Mean absolute difference (0..255) between two images after resizing `b` to `a`'s size. */
export async function meanAbsDiff (a: Buffer, b: Buffer): Promise<number> {
  const ia = await sharp(a).removeAlpha().raw().toBuffer({ resolveWithObject: true })
  const ib = await sharp(b).removeAlpha().resize(ia.info.width, ia.info.height).raw().toBuffer()
  let sum = 0
  for (let i = 0; i < ia.data.length; i++) sum += Math.abs(ia.data[i] - ib[i])
  return sum / ia.data.length
}

export function form (fields: Record<string, string>, files: Record<string, { data: Buffer, type: string, name?: string }> = {}): FormData {
  const fd = new FormData()
  for (const [k, v] of Object.entries(fields)) fd.set(k, v)
  for (const [k, f] of Object.entries(files)) fd.set(k, new Blob([f.data], { type: f.type }), f.name ?? `${k}.bin`)
  return fd
}

/** An `aiModels.json` entry as `parseModelsConfig` returns it. */
export function entry (fields: Partial<ModelEntry> & Pick<ModelEntry, 'pipeline' | 'modelId'>): ModelEntry {
  return { warm: false, capacity: 1, optimizationFlags: {}, pricePerUnit: '0', pixelsPerUnit: '1', currency: 'WEI', ...fields }
}

/** `waitFor` with the subject first, as these tests read. */
export async function until (what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> { await waitFor(check, ms, what) }
