/**
 * ESRGAN super-resolution on CPU: `upscaler` with the `@upscalerjs/esrgan-slim` and
 * `@upscalerjs/esrgan-medium` weights (MIT, shipped inside the npm packages), run by
 * tfjs on the WASM backend. This module runs the model in the calling thread; the
 * runner hosts it in a worker thread (`esrgan-worker.ts`) so HTTP stays responsive.
 */
import { createRequire } from 'node:module'
import sharp from 'sharp'
import { decodeImageToTensor, encodeTensorAsPng, installTfjsNodeStandIn, type Tf } from './tfjs-node-standin.js'
import { ModelInputError } from '../errors.js'

const require = createRequire(import.meta.url)

export type EsrganSize = 'slim' | 'medium'
export type EsrganScale = 2 | 3 | 4 | 8

export interface EsrganModelSpec {
  /** the model id served, naming what really runs, e.g. `upscalerjs/esrgan-slim-x2` */
  modelId: string
  size: EsrganSize
  scale: EsrganScale
}

const SIZES: EsrganSize[] = ['slim', 'medium']
// x8 exists in the packages but turns a 512x512 input into 16 Mpixels: too slow on CPU to serve
const SCALES: EsrganScale[] = [2, 3, 4]

/** Every ESRGAN model id this runner can really run. */
export const ESRGAN_MODELS: readonly EsrganModelSpec[] = SIZES.flatMap((size) =>
  SCALES.map((scale) => ({ modelId: `upscalerjs/esrgan-${size}-x${scale}`, size, scale })))

export function findEsrganModel (modelId: string): EsrganModelSpec | undefined {
  return ESRGAN_MODELS.find((m) => m.modelId === modelId)
}

export interface EsrganOptions {
  /**
   * Largest input accepted, in pixels (width x height); larger inputs are refused
   * with a 400 so one request cannot hold a CPU for minutes.
   * @default 262144 (512 x 512)
   */
  maxInputPixels?: number
  /**
   * The image is upscaled in square patches of this many input pixels a side, with
   * `patchPadding` pixels of overlap; smaller patches bound memory and let an abort
   * stop the work between patches. @default 128 (the size the models were trained on)
   */
  patchSize?: number
  /** @default 8 */
  patchPadding?: number
}

export const defaultEsrganOptions: Required<EsrganOptions> = {
  maxInputPixels: 512 * 512,
  patchSize: 128,
  patchPadding: 8
}

export interface UpscaleResult {
  png: Buffer
  width: number
  height: number
}

export interface EsrganUpscaler {
  readonly spec: EsrganModelSpec
  /** Upscales one image (any format sharp decodes) and returns a PNG. */
  upscale: (image: Uint8Array, options?: { signal?: AbortSignal }) => Promise<UpscaleResult>
  close: () => Promise<void>
}

interface UpscalerInstance {
  execute: (image: unknown, options: Record<string, unknown>) => Promise<unknown>
  warmup: (sizes?: unknown) => Promise<void>
  dispose: () => Promise<void>
}

/** Loads the model's weights from its npm package and warms it up. */
export async function loadEsrganUpscaler (spec: EsrganModelSpec, options: EsrganOptions = {}): Promise<EsrganUpscaler> {
  const opts = { ...defaultEsrganOptions, ...stripUndefined(options) }
  const tf: Tf = await installTfjsNodeStandIn()
  const Upscaler = require('upscaler/node') as new (args: { model: unknown }) => UpscalerInstance
  const modelDefinition = require(`@upscalerjs/esrgan-${spec.size}/${spec.scale}x`) as unknown
  const upscaler = new Upscaler({ model: modelDefinition })
  // warmup loads the weights and compiles the WASM kernels for the patch shape
  await upscaler.warmup([{ patchSize: opts.patchSize, padding: opts.patchPadding }])

  return {
    spec,
    upscale: async (image, { signal } = {}) => {
      signal?.throwIfAborted()
      let meta: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>
      try {
        meta = await sharp(image).metadata()
      } catch (err) {
        throw new ModelInputError('the image could not be decoded (send a PNG, JPEG, WebP, GIF, TIFF or AVIF file)', { cause: err })
      }
      const width = meta.width ?? 0
      const height = meta.height ?? 0
      if (width * height === 0) throw new ModelInputError('the image has no pixels')
      if (width * height > opts.maxInputPixels) {
        throw new ModelInputError(`the image is ${width}x${height} = ${width * height} pixels; this runner accepts at most ${opts.maxInputPixels}`)
      }
      let input
      try {
        input = await decodeImageToTensor(tf, image)
      } catch (err) {
        throw new ModelInputError('the image could not be decoded', { cause: err })
      }
      let output: import('@tensorflow/tfjs').Tensor3D | undefined
      try {
        output = await upscaler.execute(input, {
          output: 'tensor',
          patchSize: opts.patchSize,
          padding: opts.patchPadding,
          awaitNextFrame: true,
          signal
        }) as import('@tensorflow/tfjs').Tensor3D
        const png = await encodeTensorAsPng(tf, output)
        return { png, width: output.shape[1], height: output.shape[0] }
      } finally {
        input.dispose()
        output?.dispose()
      }
    },
    close: async () => { await upscaler.dispose() }
  }
}

function stripUndefined<T extends object> (value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}
