import type { InferenceJob, JsonValue } from '../../kernel/job.js'

/** Dimensions of the job's input image, when it has one. */
export interface InputMedia {
  width: number
  height: number
}

function num (value: JsonValue | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback
}

/**
 * The amount of work in a job, the denominator of the latency score (seconds per
 * unit), so that a big job on a fast orchestrator does not look slower than a small
 * job on a slow one. Only ratios between orchestrators serving the same model matter.
 * Like the reference: image generation is output pixels x steps, image inputs count
 * input pixels, LLM counts max_tokens; audio counts input bytes (its duration is not
 * known without decoding), speech counts characters.
 */
export function estimateWorkUnits (job: InferenceJob, media?: InputMedia): number {
  const p = job.params
  const inputPixels = media !== undefined ? media.width * media.height : 1
  const steps = num(p.num_inference_steps, 1)
  const images = num(p.num_images_per_prompt, 1)
  switch (job.pipeline) {
    case 'text-to-image':
      return num(p.width, 1) * num(p.height, 1) * images * steps
    case 'image-to-image':
      return inputPixels * images * steps
    case 'image-to-video':
      return num(p.width, 1) * num(p.height, 1) * steps
    case 'upscale':
      return inputPixels * steps
    case 'segment-anything-2':
    case 'image-to-text':
      return inputPixels
    case 'audio-to-text':
      return Math.max(1, job.inputs.reduce((sum, i) => sum + i.data.byteLength, 0))
    case 'llm':
      return num(p.max_tokens, 1)
    case 'text-to-speech':
      return Math.max(1, typeof p.text === 'string' ? p.text.length : 1)
    default:
      return 1
  }
}
