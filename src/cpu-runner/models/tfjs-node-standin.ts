/**
 * A small stand-in for `@tensorflow/tfjs-node`, which cannot be installed here (its
 * install script downloads libtensorflow). `upscaler/node` requires that package for
 * three things only: the tfjs API, loading `file://` model paths, and
 * `tf.node.decodeImage`. This module gives it the pure-JS `@tensorflow/tfjs` on the
 * WASM backend, a file-system model loader, and image decoding through `sharp`.
 *
 * `installTfjsNodeStandIn()` makes `require('@tensorflow/tfjs-node')` resolve to it;
 * nothing else in the process is affected.
 */
import { createRequire } from 'node:module'
import { readFile } from 'node:fs/promises'
import { dirname, resolve as resolvePath } from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import type * as TfModule from '@tensorflow/tfjs'

const require = createRequire(import.meta.url)

/** The CommonJS tfjs instance: the same one `upscaler/node` and its models see. */
export type Tf = typeof TfModule

let tfPromise: Promise<Tf> | null = null

/**
 * Loads tfjs and selects the WASM backend once per process (or worker thread).
 * `@tensorflow/tfjs` is required through CommonJS so that there is one tfjs-core
 * instance shared with `upscaler` (which checks `instanceof tf.Tensor`).
 */
export async function loadTf (): Promise<Tf> {
  tfPromise ??= (async () => {
    const tf = require('@tensorflow/tfjs') as Tf
    require('@tensorflow/tfjs-backend-wasm')
    // quiet tfjs' "Hi there 👋. Looks like you are running TensorFlow.js in Node.js" banner
    tf.env().set('IS_NODE', true)
    tf.env().set('PROD', true)
    if (!await tf.setBackend('wasm')) throw new Error('the tfjs WASM backend failed to initialise')
    await tf.ready()
    return tf
  })()
  return await tfPromise
}

/** An IOHandler that reads a tfjs `model.json` and its weight shards from disk. */
function fileModelHandler (tf: Tf, path: string): TfModule.io.IOHandler {
  const modelPath = path.startsWith('file://') ? fileURLToPath(path) : path
  return {
    load: async () => {
      const modelJSON = JSON.parse(await readFile(modelPath, 'utf8')) as TfModule.io.ModelJSON
      return await tf.io.getModelArtifactsForJSON(modelJSON, async (manifest) => {
        const specs: TfModule.io.WeightsManifestEntry[] = []
        const buffers: ArrayBuffer[] = []
        for (const group of manifest) {
          specs.push(...group.weights)
          for (const shard of group.paths) {
            const bytes = await readFile(resolvePath(dirname(modelPath), shard))
            buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
          }
        }
        return [specs, tf.io.concatenateArrayBuffers(buffers)]
      })
    }
  }
}

/** Decodes PNG/JPEG/WebP/... bytes into an int32 `[height, width, 3]` tensor. */
export async function decodeImageToTensor (tf: Tf, bytes: Uint8Array): Promise<TfModule.Tensor3D> {
  const { data, info } = await sharp(bytes).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true })
  return tf.tensor3d(new Int32Array(data), [info.height, info.width, 3], 'int32')
}

/** Encodes a `[height, width, 3]` tensor of 0..255 values as PNG bytes. */
export async function encodeTensorAsPng (tf: Tf, tensor: TfModule.Tensor3D): Promise<Buffer> {
  const [height, width] = tensor.shape
  const clamped = tf.tidy(() => tf.clipByValue(tf.round(tensor), 0, 255).toInt())
  try {
    const pixels = Uint8Array.from(await clamped.data())
    return await sharp(pixels, { raw: { width, height, channels: 3 } }).png().toBuffer()
  } finally {
    clamped.dispose()
  }
}

function createStandIn (tf: Tf): Record<string, unknown> {
  return {
    ...tf,
    loadLayersModel: async (path: string | TfModule.io.IOHandler, options?: TfModule.io.LoadOptions) =>
      await tf.loadLayersModel(typeof path === 'string' ? fileModelHandler(tf, path) : path, options),
    loadGraphModel: async (path: string | TfModule.io.IOHandler, options?: TfModule.io.LoadOptions) =>
      await tf.loadGraphModel(typeof path === 'string' ? fileModelHandler(tf, path) : path, options),
    node: {
      decodeImage: () => {
        // sharp decodes asynchronously; callers here always pass decoded tensors
        throw new Error('tfjs-node stand-in: pass a decoded tensor (see decodeImageToTensor)')
      }
    }
  }
}

const STAND_IN_ID = '@tensorflow/tfjs-node'
const STAND_IN_KEY = '\0shoal-tfjs-node-stand-in'
let installed = false

/**
 * Makes `require('@tensorflow/tfjs-node')` return the stand-in. Idempotent. Must run
 * (awaited) before `upscaler/node` is first required.
 */
export async function installTfjsNodeStandIn (): Promise<Tf> {
  const tf = await loadTf()
  if (installed) return tf
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const Module = require('node:module') as any
  const standIn = new Module(STAND_IN_KEY)
  standIn.filename = STAND_IN_KEY
  standIn.loaded = true
  standIn.exports = createStandIn(tf)
  Module._cache[STAND_IN_KEY] = standIn
  const resolveFilename = Module._resolveFilename as (...args: unknown[]) => string
  Module._resolveFilename = function (request: unknown, ...rest: unknown[]): string {
    if (request === STAND_IN_ID) return STAND_IN_KEY
    return resolveFilename.call(this, request, ...rest)
  }
  installed = true
  return tf
}
