import { Type } from '@sinclair/typebox'
import { definePipeline, JsonStringField } from './definition.js'
import { positiveNumber, positiveParam } from './measure.js'
import { ImageResponse } from './responses.js'

/** Images from a prompt; billed per output pixel: H x W x images. */
export default definePipeline({
  name: 'text-to-image',
  operationId: 'genTextToImage',
  gateway: true,
  body: 'json',
  modelField: 'model_id',
  request: Type.Object({
    prompt: Type.String(),
    loras: Type.Optional(JsonStringField('object', { default: '' })),
    height: Type.Optional(Type.Integer({ default: 576, minimum: 1 })),
    width: Type.Optional(Type.Integer({ default: 1024, minimum: 1 })),
    guidance_scale: Type.Optional(Type.Number({ default: 7.5 })),
    negative_prompt: Type.Optional(Type.String({ default: '' })),
    safety_check: Type.Optional(Type.Boolean({ default: true })),
    seed: Type.Optional(Type.Integer()),
    num_inference_steps: Type.Optional(Type.Integer({ default: 50, minimum: 1 })),
    num_images_per_prompt: Type.Optional(Type.Integer({ default: 1, minimum: 1 }))
  }),
  response: ImageResponse,
  streaming: 'none',
  defaultModel: 'stabilityai/sdxl-turbo',
  examples: [
    { model_id: 'stabilityai/sdxl-turbo', prompt: 'a cat wearing a hat', width: 512, height: 512, num_inference_steps: 4, guidance_scale: 0 },
    { prompt: 'a fox', loras: '{"latent-consistency/lcm-lora-sdxl": 1.0}', seed: 42, num_images_per_prompt: 2 }
  ],
  unit: 'pixel',
  units: job => positiveParam(job.params.width, 1024) * positiveParam(job.params.height, 576) * positiveParam(job.params.num_images_per_prompt, 1),
  admissionUnits: ({ params }) => positiveParam(params.width, 1024) * positiveParam(params.height, 576) * positiveParam(params.num_images_per_prompt, 1),
  // output pixels x steps
  work: ({ params: p }) => positiveNumber(p.width, 1) * positiveNumber(p.height, 1) * positiveNumber(p.num_images_per_prompt, 1) * positiveNumber(p.num_inference_steps, 1)
})
