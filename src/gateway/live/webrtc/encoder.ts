/**
 * The WHIP side's encoder: frames as the browser sent them (VP8 or H.264, depacketized),
 * re-encoded by one ffmpeg into self-contained H.264 MPEG-TS segments of about
 * `segmentSeconds` each (a forced keyframe opens each one; no B-frames, x264's
 * zerolatency tune, constrained baseline so any decoder takes them).
 *
 * ffmpeg reads IVF on stdin, writes each segment to a file in a private directory and
 * names it on stdout once complete (the segment muxer's list); the file is read, removed,
 * and queued. The queue is bounded: past `maxQueuedSegments` the oldest is dropped.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm, stat, unlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Logger } from '../../../observability/logger.js'
import { ivfFrameHeader, ivfHeader, type IvfCodec } from './ivf.js'
import type { LiveWebRtcOptions } from './options.js'
import { SegmentQueue } from './queue.js'

export interface EncodedFrame {
  data: Buffer
  /** 90 kHz ticks from the first frame, increasing */
  pts: number
  keyframe: boolean
}

export interface SegmentEncoderCounts {
  segments: number
  droppedSegments: number
  droppedFrames: number
}

export interface SegmentEncoder {
  readonly pid: number | undefined
  /** Queues a frame for ffmpeg; false when it was dropped (encoder backlog): the caller asks for a keyframe. */
  write: (frame: EncodedFrame) => boolean
  /** complete segments in order; ends when the encoder closes or ffmpeg exits */
  readonly segments: AsyncIterable<Uint8Array>
  readonly counts: SegmentEncoderCounts
  /** resolves when ffmpeg has exited, with its last stderr line when it failed */
  readonly exited: Promise<string | undefined>
  /** ends ffmpeg's input, waits briefly for it, kills it otherwise, removes the files */
  close: () => Promise<void>
}

export type EncoderOptions = Pick<LiveWebRtcOptions, 'segmentSeconds' | 'maxQueuedSegments' | 'maxSegmentBytes' | 'maxEncoderBacklogBytes' | 'maxWidth' | 'x264Preset'>

/** The ffmpeg arguments, apart from the input and output paths. */
export function encoderArgs (options: EncoderOptions, listPath: string, pattern: string): string[] {
  const gop = options.segmentSeconds
  return [
    '-hide_banner', '-loglevel', 'error', '-nostats',
    '-f', 'ivf', '-i', 'pipe:0',
    '-an', '-sn', '-dn',
    // the browser's timestamps, frame for frame (no duplicated or dropped frames)
    '-vsync', 'passthrough',
    '-vf', `scale='min(${options.maxWidth},iw)':-2:flags=bilinear,format=yuv420p`,
    '-c:v', 'libx264', '-preset', options.x264Preset, '-tune', 'zerolatency', '-profile:v', 'baseline',
    '-bf', '0', '-sc_threshold', '0', '-g', '600',
    '-force_key_frames', `expr:gte(t,n_forced*${gop})`,
    '-f', 'segment', '-segment_format', 'mpegts', '-segment_time', String(gop),
    '-segment_list', listPath, '-segment_list_type', 'flat',
    pattern
  ]
}

export async function startSegmentEncoder (init: { ffmpeg: string, codec: IvfCodec, options: EncoderOptions, logger: Logger, onDrop?: () => void }): Promise<SegmentEncoder> {
  const { options, logger } = init
  const dir = await mkdtemp(join(tmpdir(), 'shoal-whip-'))
  // the list goes to stdout: one file name per completed segment, flushed as it is written
  const child: ChildProcess = spawn(init.ffmpeg, encoderArgs(options, 'pipe:1', join(dir, '%06d.ts')), { stdio: ['pipe', 'pipe', 'pipe'] })
  const counts: SegmentEncoderCounts = { segments: 0, droppedSegments: 0, droppedFrames: 0 }
  const dropped = (): void => { counts.droppedSegments++; init.onDrop?.() }
  const queue = new SegmentQueue(options.maxQueuedSegments, dropped)
  let lastError: string | undefined
  let closing = false
  let dropping = false
  let headerWritten = false

  const stdin = child.stdin
  const stdout = child.stdout
  const stderr = child.stderr
  if (stdin === null || stdout === null || stderr === null) throw new Error('ffmpeg started without pipes')
  // a write after ffmpeg died: the exit handler reports it
  stdin.on('error', () => {})
  createInterface({ input: stderr }).on('line', (line) => {
    if (line.trim() !== '') lastError = line.trim().slice(0, 500)
  })
  // reading each segment in turn keeps them in order
  let reading: Promise<void> = Promise.resolve()
  createInterface({ input: stdout }).on('line', (line) => {
    const name = line.trim()
    if (name === '' || name.includes('/')) return
    const path = join(dir, name)
    reading = reading.then(async () => {
      try {
        const size = (await stat(path)).size
        if (size > options.maxSegmentBytes) {
          dropped()
          logger.warn({ size, limit: options.maxSegmentBytes }, 'live WHIP: input segment over maxSegmentBytes dropped')
        } else {
          counts.segments++
          queue.push(new Uint8Array(await readFile(path)))
        }
      } catch (err) {
        if (!closing) logger.warn({ err }, 'live WHIP: could not read a segment')
      } finally {
        await unlink(path).catch(() => {})
      }
    })
  })
  const exited = new Promise<string | undefined>((resolve) => {
    let done = false
    const finish = (reason: string | undefined): void => {
      if (done) return
      done = true
      void reading.then(() => {
        queue.end()
        resolve(closing ? undefined : reason)
      })
    }
    // a spawn failure (no such binary) may come without 'close'
    child.once('error', (err) => { finish(`ffmpeg failed: ${err.message}`) })
    child.once('close', (code, signal) => {
      finish(code === 0 ? undefined : `ffmpeg exited (${code ?? signal ?? '?'}): ${lastError ?? 'no message'}`)
    })
  })

  return {
    get pid () { return child.pid },
    counts,
    segments: queue,
    exited,
    write (frame) {
      if (closing || stdin.destroyed) return false
      if (stdin.writableLength > options.maxEncoderBacklogBytes) dropping = true
      // once dropping, only a keyframe starts the stream again: frames after a gap would not decode
      if (dropping) {
        if (!frame.keyframe || stdin.writableLength > options.maxEncoderBacklogBytes / 2) { counts.droppedFrames++; return false }
        dropping = false
      }
      if (!headerWritten) {
        stdin.write(ivfHeader(init.codec, 90_000))
        headerWritten = true
      }
      stdin.write(ivfFrameHeader(frame.data.byteLength, frame.pts))
      stdin.write(frame.data)
      return true
    },
    async close () {
      if (!closing) {
        closing = true
        stdin.end()
        const killer = setTimeout(() => { child.kill('SIGKILL') }, 2_000)
        // the last, partial segment is left: a stream that stopped mid-segment is over
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
        await exited
        clearTimeout(killer)
        await rm(dir, { recursive: true, force: true })
      }
      await exited
    }
  }
}
