import sharp from 'sharp'
export { waitForValue as waitFor } from '../helpers/wait-for.js'

export async function pngOf (width: number, height: number): Promise<Buffer> {
  // a gradient-ish noise image: ESRGAN does real work on it
  const raw = Buffer.alloc(width * height * 3)
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 37 + (i >> 5) * 11) & 0xff
  return await sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer()
}

export function upscaleForm (image: Buffer, fields: Record<string, string> = {}): FormData {
  const form = new FormData()
  form.set('prompt', 'sharper')
  for (const [k, v] of Object.entries(fields)) form.set(k, v)
  form.set('image', new Blob([image], { type: 'image/png' }), 'in.png')
  return form
}

export async function decodeFirstImage (body: { images: Array<{ url: string }> }): Promise<{ width: number, height: number }> {
  const url = body.images[0].url
  const data = Buffer.from(url.slice(url.indexOf(',') + 1), 'base64')
  const meta = await sharp(data).metadata()
  return { width: meta.width ?? 0, height: meta.height ?? 0 }
}

export interface DirectoryModel { pipeline: string, modelId: string, load: 'available' | 'saturated', capacity: number }
export interface DirectoryRow { peerId: string, models: DirectoryModel[] }

export async function directory (url: string): Promise<DirectoryRow[]> {
  const res = await fetch(`${url}/network/orchestrators`)
  return await res.json() as DirectoryRow[]
}
