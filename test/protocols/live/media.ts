/**
 * Test media for live video: a short clip of a real person (a portrait from
 * `@vladmandic/human/assets`, panned so that every frame differs) cut into MPEG-TS
 * segments of H.264 by ffmpeg, and helpers to decode segments back to RGB frames.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { extraPackageDir, findProgram } from '../../../src/cpu-runner/models/extras.js'
import { decodeSegment } from '../../../src/cpu-runner/live/segment-codec.js'

const run = promisify(execFile)

export function ffmpegPath (): string {
  const found = findProgram('ffmpeg')
  if (found === null) throw new Error('ffmpeg is not installed')
  return found
}

export function portraitPath (): string {
  const dir = extraPackageDir('@vladmandic/human')
  if (dir === null) throw new Error('@vladmandic/human is not installed')
  return join(dir, 'assets', 'screenshot-facedetect.jpg')
}

/**
 * `seconds` of video at `size` x `size` and `fps`, one MPEG-TS segment per second
 * (a key frame at each), H.264 baseline-like (no B-frames).
 */
export async function personSegments (options: { size: number, fps: number, seconds: number }): Promise<Uint8Array[]> {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-live-media-'))
  try {
    const { size, fps, seconds } = options
    // the portrait (face and shoulders) panned slowly left and right
    const filter = `crop=150:152:8:345,scale=${size + 32}:${size + 32},crop=${size}:${size}:'16+15*sin(t*3)':16,format=yuv420p`
    await run(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-loop', '1', '-framerate', String(fps), '-i', portraitPath(), '-vf', filter, '-t', String(seconds), '-r', String(fps),
      '-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '0', '-g', String(fps), '-keyint_min', String(fps), '-sc_threshold', '0',
      '-f', 'segment', '-segment_time', '1', '-segment_format', 'mpegts', '-reset_timestamps', '0', join(dir, 'seg%03d.ts')])
    const names = (await readdir(dir)).filter(n => n.endsWith('.ts')).sort()
    return await Promise.all(names.map(async n => new Uint8Array(await readFile(join(dir, n)))))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

export async function decodeFrames (segment: Uint8Array): Promise<{ width: number, height: number, frames: Uint8Array[] }> {
  return await decodeSegment(ffmpegPath(), segment, AbortSignal.timeout(30_000))
}

/** Peak signal-to-noise ratio of two RGB frames, dB. */
export function psnr (a: Uint8Array, b: Uint8Array): number {
  let sum = 0
  for (let i = 0; i < a.length; i++) { const d = a[i] - b[i]; sum += d * d }
  const mse = sum / a.length
  return mse === 0 ? 99 : 10 * Math.log10(255 * 255 / mse)
}
