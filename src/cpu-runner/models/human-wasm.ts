/**
 * `@vladmandic/human` (MIT) from the extras package, on its tfjs WASM build, with a
 * `file://` model loader (human fetches model files, which Node's fetch cannot do
 * for files). Used by the person-mask and object-label models. Only the few tfjs
 * calls those models make are typed here: the package's own types live in extras/,
 * outside the compiled tree.
 */
import { readFile } from 'node:fs/promises'
import { dirname, join, resolve as resolvePath } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { extraPackageDir, extrasRequire, INSTALL_EXTRAS_HINT } from './extras.js'

export interface Tensor {
  readonly shape: number[]
  data: () => Promise<Float32Array | Int32Array | Uint8Array>
  dispose: () => void
}

export interface GraphModel {
  readonly inputs: Array<{ shape?: number[] }>
  execute: (input: Tensor) => Tensor | Tensor[]
  dispose: () => void
}

interface ModelArtifacts { [key: string]: unknown }
interface WeightsGroup { paths: string[], weights: unknown[] }

/** The subset of tfjs (human's bundled 4.22 build) that these models use. */
export interface HumanTf {
  tensor3d: (values: Int32Array | Float32Array, shape: [number, number, number], dtype?: 'int32' | 'float32') => Tensor
  tidy: <T extends Tensor | Tensor[]>(fn: () => T) => T
  expandDims: (x: Tensor, axis?: number) => Tensor
  cast: (x: Tensor, dtype: 'int32' | 'float32') => Tensor
  div: (a: Tensor, b: Tensor | number) => Tensor
  sub: (a: Tensor | number, b: Tensor | number) => Tensor
  log: (x: Tensor) => Tensor
  clipByValue: (x: Tensor, min: number, max: number) => Tensor
  unstack: (x: Tensor, axis?: number) => Tensor[]
  squeeze: (x: Tensor, axis?: number[]) => Tensor
  zeros: (shape: number[]) => Tensor
  image: { resizeBilinear: (x: Tensor, size: [number, number], alignCorners?: boolean) => Tensor }
  loadGraphModel: (url: string) => Promise<GraphModel>
  getBackend: () => string
  engine: () => { startScope: () => void, endScope: () => void }
  io: {
    registerLoadRouter: (router: (url: string | string[]) => { load: () => Promise<ModelArtifacts> } | null) => void
    getLoadHandlers: (url: string) => unknown[]
    getModelArtifactsForJSON: (json: unknown, loadWeights: (manifest: WeightsGroup[]) => Promise<[unknown[], ArrayBuffer]>) => Promise<ModelArtifacts>
    concatenateArrayBuffers: (buffers: ArrayBuffer[]) => ArrayBuffer
  }
}

export interface HumanObject {
  label: string
  score: number
  /** [x, y, width, height] in pixels */
  box: [number, number, number, number]
}

export interface HumanInstance {
  readonly tf: HumanTf
  load: () => Promise<void>
  detect: (input: Tensor, config?: Record<string, unknown>) => Promise<{ object: HumanObject[], error?: string | null }>
}

type HumanConstructor = new (config: Record<string, unknown>) => HumanInstance

/** The extras packages human needs on WASM. */
export const HUMAN_PACKAGES = ['@vladmandic/human', '@tensorflow/tfjs-backend-wasm'] as const

const routed = new WeakSet<object>()

/** Lets `tf.loadGraphModel('file:///...json')` read a model and its weight shards from disk. */
function registerFileRouter (tf: HumanTf): void {
  // tf.io is not always the same object for one registry (a second Human in the same
  // process, such as the live runner's after the segmenter's): ask the registry itself,
  // since two routers for file:// make every load fail
  if (routed.has(tf.io) || tf.io.getLoadHandlers('file:///probe.json').length > 0) return
  routed.add(tf.io)
  tf.io.registerLoadRouter((url) => {
    if (typeof url !== 'string' || !url.startsWith('file://')) return null
    const path = fileURLToPath(url)
    return {
      load: async () => {
        const json = JSON.parse(await readFile(path, 'utf8')) as unknown
        return await tf.io.getModelArtifactsForJSON(json, async (manifest) => {
          const specs: unknown[] = []
          const buffers: ArrayBuffer[] = []
          for (const group of manifest) {
            specs.push(...group.weights)
            for (const shard of group.paths) {
              const bytes = await readFile(resolvePath(dirname(path), shard))
              buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer)
            }
          }
          return [specs, tf.io.concatenateArrayBuffers(buffers)]
        })
      }
    }
  })
}

/**
 * A Human instance on the WASM backend, its models read from `modelDir`. `config`
 * enables the modules wanted (everything else is off); `load()` has been awaited.
 */
export async function createHuman (modelDir: string, config: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = process.env): Promise<HumanInstance> {
  const humanDir = extraPackageDir('@vladmandic/human', env)
  const wasmDir = extraPackageDir('@tensorflow/tfjs-backend-wasm', env)
  if (humanDir === null || wasmDir === null) throw new Error(`@vladmandic/human is not installed: ${INSTALL_EXTRAS_HINT}`)
  // the package's "exports" map lacks the "./" prefixes Node needs, so its WASM build is required by path
  const { Human } = extrasRequire(env)(join(humanDir, 'dist', 'human.node-wasm.js')) as { Human: HumanConstructor }
  const off = { enabled: false }
  const human = new Human({
    backend: 'wasm',
    wasmPath: join(wasmDir, 'dist') + '/',
    modelBasePath: pathToFileURL(modelDir).href + '/',
    debug: false,
    cacheModels: false,
    face: off,
    body: off,
    hand: off,
    object: off,
    segmentation: off,
    gesture: off,
    filter: off,
    ...config
  })
  registerFileRouter(human.tf)
  await human.load()
  if (human.tf.getBackend() !== 'wasm') throw new Error(`human runs on the ${human.tf.getBackend()} backend, not wasm`)
  return human
}
