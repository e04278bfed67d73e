import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import sharp from 'sharp'
import { extraPackageDir, findBinary, missingExtras } from '../../../src/cpu-runner/models/extras.js'

const run = promisify(execFile)

/** Skips the current test or suite when optional npm packages are missing (`npm run install:extras`). */
export function skipWithoutExtras (ctx: Mocha.Context, packages: readonly string[]): void {
  const missing = missingExtras(packages)
  if (missing.length > 0) {
    // eslint-disable-next-line no-console
    console.log(`      skipped: ${missing.join(', ')} not installed (npm run install:extras)`)
    ctx.skip()
  }
}

/** Skips the current test or suite when a system binary is missing (`apt-get install -y <pkg>`). */
export function skipWithoutBinary (ctx: Mocha.Context, binary: string, aptPackage: string): void {
  if (findBinary(binary) === null) {
    // eslint-disable-next-line no-console
    console.log(`      skipped: ${binary} is not installed (apt-get install -y ${aptPackage})`)
    ctx.skip()
  }
}

/**
 * A real photograph of a person: a portrait cropped from a screenshot that ships in
 * `@vladmandic/human/assets` (a man in a white shirt, face and shoulders, 150x152).
 */
export async function portraitPhoto (): Promise<Buffer> {
  const dir = extraPackageDir('@vladmandic/human')
  if (dir === null) throw new Error('@vladmandic/human is not installed')
  return await sharp(join(dir, 'assets', 'screenshot-facedetect.jpg')).extract({ left: 8, top: 345, width: 150, height: 152 }).png().toBuffer()
}

/** Photos of people: a strip of portraits above a party photo of a dozen people (the same package's `samples.jpg`), 800 wide. */
export async function groupPhoto (): Promise<Buffer> {
  const dir = extraPackageDir('@vladmandic/human')
  if (dir === null) throw new Error('@vladmandic/human is not installed')
  return await sharp(join(dir, 'assets', 'samples.jpg')).resize({ width: 800 }).jpeg().toBuffer()
}

/** A white PNG with lines of black text rendered by librsvg (needs a system font). */
export async function textImage (lines: string[], width = 520): Promise<Buffer> {
  const height = 40 + lines.length * 56
  const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  const text = lines.map((line, i) => `<text x="20" y="${60 + i * 56}" font-size="36" font-family="DejaVu Sans, sans-serif" fill="black">${escape(line)}</text>`).join('')
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="white"/>${text}</svg>`
  return await sharp(Buffer.from(svg)).png().toBuffer()
}

/** The bytes of a `data:<type>;base64,...` URL, and its media type. */
export function fromDataUrl (url: string): { type: string, data: Buffer } {
  const match = /^data:([^;,]+);base64,(.*)$/s.exec(url)
  if (match === null) throw new Error(`not a base64 data URL: ${url.slice(0, 40)}`)
  return { type: match[1], data: Buffer.from(match[2], 'base64') }
}

export interface VideoInfo { codec: string, width: number, height: number, frames: number, fps: string, duration: number }

/** What ffprobe reads from an MP4 (frames counted by decoding). */
export async function probeVideo (path: string): Promise<VideoInfo> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,nb_read_frames,r_frame_rate,duration', '-of', 'json', path])
  const stream = (JSON.parse(stdout) as { streams: Array<Record<string, string | number>> }).streams[0]
  return { codec: String(stream.codec_name), width: Number(stream.width), height: Number(stream.height), frames: Number(stream.nb_read_frames), fps: String(stream.r_frame_rate), duration: Number(stream.duration) }
}

/** Frame `index` of a video as raw RGB at `width` x `height`. */
export async function videoFrame (path: string, index: number, width: number, height: number): Promise<Buffer> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', path, '-vf', `select=eq(n\\,${index})`, '-vframes', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-'], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 })
  return stdout as unknown as Buffer
}

/** Mean absolute difference of two equally long byte buffers. */
export function meanAbsDiff (a: Buffer, b: Buffer): number {
  let sum = 0
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i])
  return sum / a.length
}

/** Parses one Server-Sent Events body into its `data:` payloads. */
export function sseData (text: string): string[] {
  return text.split('\n\n').map((block) => block.trim()).filter((b) => b.startsWith('data:')).map((b) => b.slice(5).trim())
}
