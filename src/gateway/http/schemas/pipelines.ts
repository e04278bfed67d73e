import { PIPELINE_BODY, PIPELINES, type PipelineName } from '../../../kernel/pipelines.js'
import type { FieldSpec } from './fields.js'

/** The pipelines the gateway's HTTP API serves: all but live video, which has its own flow. */
export type GatewayPipeline = Exclude<PipelineName, 'live-video-to-video'>

export const GATEWAY_PIPELINES: readonly GatewayPipeline[] = PIPELINES.filter((p): p is GatewayPipeline => p !== 'live-video-to-video')

export function isGatewayPipeline (value: unknown): value is GatewayPipeline {
  return typeof value === 'string' && (GATEWAY_PIPELINES as readonly string[]).includes(value)
}

export interface PipelineSchema {
  body: 'json' | 'multipart'
  /** the field naming the model: `model_id`, or `model` for the LLM */
  modelField: 'model_id' | 'model'
  /** every other field, with its type, default and required-ness */
  fields: Record<string, FieldSpec>
}

/**
 * Request fields per pipeline, from the reference gateway and runner OpenAPI
 * (`ai-runner-gateway-openapi.yaml`, `ai-runner-openapi.yaml`). The model field is
 * optional here: a missing one falls back to the gateway's default model for the
 * pipeline, as the reference gateway does. Lower bounds (`min`) are Shoal's own: a
 * zero or negative size or count cannot be priced or run.
 */
export const PIPELINE_SCHEMAS: Record<GatewayPipeline, PipelineSchema> = {
  'text-to-image': {
    body: PIPELINE_BODY['text-to-image'],
    modelField: 'model_id',
    fields: {
      prompt: { type: 'string', required: true },
      loras: { type: 'string', default: '', json: 'object' },
      height: { type: 'integer', default: 576, min: 1 },
      width: { type: 'integer', default: 1024, min: 1 },
      guidance_scale: { type: 'number', default: 7.5 },
      negative_prompt: { type: 'string', default: '' },
      safety_check: { type: 'boolean', default: true },
      seed: { type: 'integer' },
      num_inference_steps: { type: 'integer', default: 50, min: 1 },
      num_images_per_prompt: { type: 'integer', default: 1, min: 1 }
    }
  },
  'image-to-image': {
    body: PIPELINE_BODY['image-to-image'],
    modelField: 'model_id',
    fields: {
      prompt: { type: 'string', required: true },
      image: { type: 'file', required: true, media: 'image' },
      loras: { type: 'string', default: '', json: 'object' },
      strength: { type: 'number', default: 0.8 },
      guidance_scale: { type: 'number', default: 7.5 },
      image_guidance_scale: { type: 'number', default: 1.5 },
      negative_prompt: { type: 'string', default: '' },
      safety_check: { type: 'boolean', default: true },
      seed: { type: 'integer' },
      num_inference_steps: { type: 'integer', default: 100, min: 1 },
      num_images_per_prompt: { type: 'integer', default: 1, min: 1 }
    }
  },
  'image-to-video': {
    body: PIPELINE_BODY['image-to-video'],
    modelField: 'model_id',
    fields: {
      image: { type: 'file', required: true, media: 'image' },
      height: { type: 'integer', default: 576, min: 1 },
      width: { type: 'integer', default: 1024, min: 1 },
      fps: { type: 'integer', default: 6, min: 1 },
      motion_bucket_id: { type: 'integer', default: 127 },
      noise_aug_strength: { type: 'number', default: 0.02 },
      safety_check: { type: 'boolean', default: true },
      seed: { type: 'integer' },
      num_inference_steps: { type: 'integer', default: 25, min: 1 }
    }
  },
  upscale: {
    body: PIPELINE_BODY.upscale,
    modelField: 'model_id',
    fields: {
      prompt: { type: 'string', required: true },
      image: { type: 'file', required: true, media: 'image' },
      safety_check: { type: 'boolean', default: true },
      seed: { type: 'integer' },
      num_inference_steps: { type: 'integer', default: 75, min: 1 }
    }
  },
  'audio-to-text': {
    body: PIPELINE_BODY['audio-to-text'],
    modelField: 'model_id',
    fields: {
      audio: { type: 'file', required: true, media: 'audio' },
      return_timestamps: { type: 'string', default: 'true', enum: ['true', 'false', 'sentence', 'word'] },
      // runner OpenAPI only; passed through to the runner
      metadata: { type: 'string', default: '{}', json: 'object' }
    }
  },
  'segment-anything-2': {
    body: PIPELINE_BODY['segment-anything-2'],
    modelField: 'model_id',
    fields: {
      image: { type: 'file', required: true, media: 'image' },
      point_coords: { type: 'string', json: 'array' },
      point_labels: { type: 'string', json: 'array' },
      box: { type: 'string', json: 'array' },
      mask_input: { type: 'string', json: 'array' },
      multimask_output: { type: 'boolean', default: true },
      return_logits: { type: 'boolean', default: true },
      normalize_coords: { type: 'boolean', default: true }
    }
  },
  llm: {
    body: PIPELINE_BODY.llm,
    modelField: 'model',
    fields: {
      messages: { type: 'messages', required: true },
      temperature: { type: 'number', default: 0.7 },
      max_tokens: { type: 'integer', default: 256, min: 1 },
      top_p: { type: 'number', default: 1.0 },
      top_k: { type: 'integer', default: -1 },
      stream: { type: 'boolean', default: false }
    }
  },
  'image-to-text': {
    body: PIPELINE_BODY['image-to-text'],
    modelField: 'model_id',
    fields: {
      image: { type: 'file', required: true, media: 'image' },
      prompt: { type: 'string', default: '' }
    }
  },
  'text-to-speech': {
    body: PIPELINE_BODY['text-to-speech'],
    modelField: 'model_id',
    fields: {
      text: { type: 'string', default: '' },
      description: {
        type: 'string',
        default: 'A male speaker delivers a slightly expressive and animated speech with a moderate speed and pitch.'
      }
    }
  }
}

/**
 * The default model per pipeline when a request names none: the reference gateway's
 * defaults. Operators override them (`defaultModels` option).
 */
export const REFERENCE_DEFAULT_MODELS: Record<GatewayPipeline, string> = {
  'text-to-image': 'stabilityai/sdxl-turbo',
  'image-to-image': 'stabilityai/sdxl-turbo',
  'image-to-video': 'stabilityai/stable-video-diffusion-img2vid-xt',
  upscale: 'stabilityai/stable-diffusion-x4-upscaler',
  'audio-to-text': 'openai/whisper-large-v3',
  'segment-anything-2': 'facebook/sam2-hiera-large',
  llm: 'meta-llama/llama-3.1-8B-Instruct',
  'image-to-text': 'Salesforce/blip-image-captioning-large',
  'text-to-speech': 'parler-tts/parler-tts-large-v1'
}
