/**
 * `image-to-video` without a neural network: a Ken Burns move (a slow zoom and pan
 * across the still) rendered by `ffmpeg` (Debian package `ffmpeg`, with libx264).
 * Model id `ffmpeg/ken-burns`. Nothing in the picture moves by itself: the camera does.
 *
 * Fields of the reference request it honours: `width`, `height` (the video size,
 * rounded down to even numbers), `fps`, `motion_bucket_id` (how far the camera moves,
 * 0-255), `seed` (which move: zoom in or out, and where to). It renders 25 frames, as
 * Stable Video Diffusion XT does, so the video lasts 25 / fps seconds.
 * `noise_aug_strength`, `num_inference_steps` and `safety_check` are accepted and
 * ignored. The answer is what the reference gateway returns for image-to-video: one
 * media entry holding the MP4 (`{images: [{url: 'data:video/mp4;base64,...', seed, nsfw: false}]}`).
 */
import { randomInt } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { ModelFailureError, ModelInputError } from '../errors.js'
import { aptInstallHint, findProgram, programMissingHint } from './extras.js'
import type { CpuModelFamily, FamilyModelOptions } from './family.js'
import { runBinary } from './subprocess.js'
import type { CpuModel } from './types.js'
import { seededRandom } from './seeded-random.js'

export const KEN_BURNS_MODEL_ID = 'ffmpeg/ken-burns'
/** frames per video, as Stable Video Diffusion XT generates */
export const KEN_BURNS_FRAMES = 25
/** the largest video accepted, width x height (400 above): 1920 x 1080 */
export const KEN_BURNS_MAX_PIXELS = 1920 * 1080
const MIN_SIDE = 16
const MAX_FPS = 60
const BINARY = 'ffmpeg'

/** One camera move: zoom from `zoomFrom` to `zoomTo`, centre from `from` to `to` (fractions of the image). */
export interface CameraMove {
  zoomFrom: number
  zoomTo: number
  from: [number, number]
  to: [number, number]
}

/**
 * The move for a seed and a motion amount (`motion_bucket_id`, 0-255; the reference's
 * default 127 zooms by about 20% and pans a little).
 */
export function cameraMove (seed: number, motionBucketId: number): CameraMove {
  const rand = seededRandom(seed)
  const motion = Math.min(255, Math.max(0, motionBucketId)) / 255
  const zoom = 1 + 0.4 * motion
  const zoomIn = rand() < 0.5
  // the zoomed-in end looks at a point off centre, at most a quarter of the image away
  const reach = 0.25 * motion
  const near: [number, number] = [0.5 + (rand() * 2 - 1) * reach, 0.5 + (rand() * 2 - 1) * reach]
  const centre: [number, number] = [0.5, 0.5]
  return zoomIn
    ? { zoomFrom: 1, zoomTo: zoom, from: centre, to: near }
    : { zoomFrom: zoom, zoomTo: 1, from: near, to: centre }
}

/** The ffmpeg `zoompan` filter for a move over `frames` frames into a `width` x `height` video. */
export function zoompanFilter (move: CameraMove, frames: number, width: number, height: number, fps: number): string {
  const last = Math.max(1, frames - 1)
  const f = (n: number): string => n.toFixed(5)
  const lerp = (a: number, b: number): string => `(${f(a)}+(${f(b - a)})*on/${last})`
  const z = lerp(move.zoomFrom, move.zoomTo)
  // the visible window is iw/zoom wide; keep it inside the image
  const x = `max(0,min(iw-iw/zoom,${lerp(move.from[0], move.to[0])}*iw-iw/zoom/2))`
  const y = `max(0,min(ih-ih/zoom,${lerp(move.from[1], move.to[1])}*ih-ih/zoom/2))`
  return `zoompan=z='${z}':x='${x}':y='${y}':d=1:s=${width}x${height}:fps=${fps},format=yuv420p`
}

function intParam (value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : fallback
}

function createKenBurnsModel (modelId: string, options: FamilyModelOptions): CpuModel {
  let binary = ''
  return {
    pipeline: 'image-to-video',
    modelId,
    concurrency: Math.max(1, options.workers),
    load: async ({ signal } = {}) => {
      const found = findProgram(BINARY, options.env)
      if (found === null) throw new ModelFailureError(programMissingHint(BINARY, 'ffmpeg'))
      const { stdout } = await runBinary(found, ['-hide_banner', '-encoders'], { signal: signal ?? AbortSignal.timeout(10_000), timeoutMs: 10_000 })
      if (!/\blibx264\b/.test(stdout.toString('utf8'))) throw new ModelFailureError(`${found} has no libx264 encoder: ${aptInstallHint('ffmpeg')} (Debian's build has it)`)
      binary = found
    },
    run: async (request, { signal }) => {
      const image = request.files.image
      if (image === undefined) throw new ModelInputError('no image')
      let width = intParam(request.params.width, 1024)
      let height = intParam(request.params.height, 576)
      const fps = intParam(request.params.fps, 6)
      width -= width % 2
      height -= height % 2
      if (width < MIN_SIDE || height < MIN_SIDE) throw new ModelInputError(`the video must be at least ${MIN_SIDE}x${MIN_SIDE}`)
      if (width * height > KEN_BURNS_MAX_PIXELS) throw new ModelInputError(`the video is ${width}x${height}; this runner makes at most ${KEN_BURNS_MAX_PIXELS} pixels a frame (1920x1080)`)
      if (fps < 1 || fps > MAX_FPS) throw new ModelInputError(`fps must be between 1 and ${MAX_FPS}`)
      const seed = typeof request.params.seed === 'number' ? request.params.seed : randomInt(0, 2 ** 32)
      const move = cameraMove(seed, intParam(request.params.motion_bucket_id, 127))

      // twice the output size, so the zoom moves in half-pixel steps instead of jumping
      let still: Buffer
      try {
        still = await sharp(image.data).rotate().resize(width * 2, height * 2, { fit: 'cover' }).removeAlpha().png({ compressionLevel: 1 }).toBuffer()
      } catch (err) {
        throw new ModelInputError('the image could not be decoded (send a PNG, JPEG, WebP, GIF, TIFF or AVIF file)', { cause: err })
      }
      signal.throwIfAborted()
      const dir = await mkdtemp(join(tmpdir(), 'shoal-ken-burns-'))
      try {
        const input = join(dir, 'still.png')
        const output = join(dir, 'video.mp4')
        await writeFile(input, still)
        await runBinary(binary, [
          '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
          '-loop', '1', '-framerate', String(fps), '-i', input,
          '-vf', zoompanFilter(move, KEN_BURNS_FRAMES, width, height, fps),
          '-frames:v', String(KEN_BURNS_FRAMES),
          '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p',
          '-movflags', '+faststart',
          output
        ], { signal, timeoutMs: 300_000 })
        const mp4 = await readFile(output)
        return { kind: 'json', body: { images: [{ url: `data:video/mp4;base64,${mp4.toString('base64')}`, seed, nsfw: false }] } }
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    },
    close: async () => {}
  }
}

export const kenBurnsFamily: CpuModelFamily = {
  pipeline: 'image-to-video',
  models: () => [{ modelId: KEN_BURNS_MODEL_ID, description: 'Ken Burns zoom/pan of the still rendered by ffmpeg + libx264 (not neural: the camera moves, the scene does not)' }],
  matches: (modelId) => modelId === KEN_BURNS_MODEL_ID,
  unavailable: (_modelId, env) => findProgram(BINARY, env) === null ? programMissingHint(BINARY, 'ffmpeg') : null,
  create: createKenBurnsModel
}
