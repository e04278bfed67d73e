/**
 * One MPEG-TS segment to RGB frames and back, with ffmpeg. Each output segment is encoded
 * on its own (it starts with a key frame and decodes alone), H.264 for low latency:
 * `ultrafast`, `zerolatency`, no B-frames, one GOP per segment; its timestamps continue
 * the stream's (`-output_ts_offset`) so that segments played back to back are smooth.
 */
import { ModelInputError } from '../errors.js'
import { runBinary, BinaryFailedError } from '../models/subprocess.js'

export interface DecodedSegment {
  width: number
  height: number
  /** frames per second of the input stream (25 when ffmpeg does not say) */
  fps: number
  /** RGB24 frames, width x height x 3 bytes each */
  frames: Uint8Array[]
}

/** the largest frame decoded, width x height (the runner refuses bigger input) */
export const MAX_LIVE_PIXELS = 1920 * 1080

/** Parses the P6 PPM frames ffmpeg writes with `-f image2pipe -c:v ppm`. */
export function parsePpmFrames (data: Uint8Array): { width: number, height: number, frames: Uint8Array[] } {
  const frames: Uint8Array[] = []
  let width = 0
  let height = 0
  let pos = 0
  const token = (): string => {
    // skips whitespace, reads up to the next whitespace
    while (pos < data.length && (data[pos] === 0x20 || data[pos] === 0x0a || data[pos] === 0x0d || data[pos] === 0x09)) pos++
    const start = pos
    while (pos < data.length && !(data[pos] === 0x20 || data[pos] === 0x0a || data[pos] === 0x0d || data[pos] === 0x09)) pos++
    return Buffer.from(data.subarray(start, pos)).toString('latin1')
  }
  while (pos < data.length) {
    if (token() !== 'P6') break
    const w = Number(token())
    const h = Number(token())
    const max = Number(token())
    pos++ // the single whitespace after maxval
    if (!(w > 0 && h > 0 && max === 255)) throw new Error('unexpected PPM header')
    const size = w * h * 3
    if (pos + size > data.length) break
    frames.push(data.subarray(pos, pos + size))
    pos += size
    width = w
    height = h
  }
  return { width, height, frames }
}

/** The input video's frame rate from ffmpeg's stream line (`, 30 fps,`), or 25. */
export function fpsFromLog (stderr: string): number {
  const line = stderr.split('\n').find(l => /Stream #0:\d+.*Video:/.test(l)) ?? ''
  const match = /, (\d+(?:\.\d+)?) fps/.exec(line) ?? /, (\d+(?:\.\d+)?) tbr/.exec(line)
  const fps = match === null ? 25 : Number(match[1])
  return fps > 0 && fps <= 240 ? fps : 25
}

/** Decodes one segment's video (its first video stream) to RGB frames. Bad input: `ModelInputError`. */
export async function decodeSegment (ffmpeg: string, segment: Uint8Array, signal: AbortSignal): Promise<DecodedSegment> {
  let result
  try {
    result = await runBinary(ffmpeg, ['-hide_banner', '-nostats', '-loglevel', 'info', '-f', 'mpegts', '-i', 'pipe:0', '-map', '0:v:0', '-f', 'image2pipe', '-c:v', 'ppm', 'pipe:1'], {
      signal,
      input: Buffer.from(segment.buffer, segment.byteOffset, segment.byteLength),
      maxOutputBytes: 1024 * 1024 * 1024,
      timeoutMs: 30_000
    })
  } catch (err) {
    if (err instanceof BinaryFailedError) throw new ModelInputError(`the segment is not decodable video: ${err.stderr.trim().split('\n').slice(-1)[0] ?? ''}`)
    throw err
  }
  const { width, height, frames } = parsePpmFrames(result.stdout)
  if (frames.length === 0) throw new ModelInputError('the segment holds no video frame')
  if (width * height > MAX_LIVE_PIXELS) throw new ModelInputError(`frames of ${width}x${height} are larger than ${MAX_LIVE_PIXELS} pixels`)
  return { width, height, fps: fpsFromLog(result.stderr), frames }
}

/** Encodes RGB frames as one MPEG-TS segment of H.264 (low-latency settings), starting at `startSeconds`. */
export async function encodeSegment (ffmpeg: string, frames: readonly Uint8Array[], width: number, height: number, fps: number, startSeconds: number, signal: AbortSignal): Promise<Uint8Array> {
  const input = Buffer.concat(frames)
  // x264 needs even sizes for yuv420p: pad by one pixel where needed
  const pad = width % 2 === 1 || height % 2 === 1 ? ['-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2'] : []
  const { stdout } = await runBinary(ffmpeg, [
    '-hide_banner', '-nostats', '-loglevel', 'error',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(fps), '-i', 'pipe:0',
    ...pad,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-bf', '0', '-g', String(Math.max(1, frames.length)),
    '-pix_fmt', 'yuv420p', '-output_ts_offset', startSeconds.toFixed(6),
    '-f', 'mpegts', '-mpegts_flags', '+resend_headers', 'pipe:1'
  ], { signal, input, maxOutputBytes: 256 * 1024 * 1024, timeoutMs: 30_000 })
  return new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.byteLength)
}
