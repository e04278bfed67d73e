import { Type } from '@sinclair/typebox'
import { definePipeline, FileField } from './definition.js'
import { inputPixels, mediaPixels, pixelsFromDeclaredBytes, positiveNumber } from './measure.js'
import { ImageResponse } from './responses.js'

/** A larger image; billed per input pixel. */
export default definePipeline({
  name: 'upscale',
  operationId: 'genUpscale',
  gateway: true,
  body: 'multipart',
  modelField: 'model_id',
  request: Type.Object({
    prompt: Type.String(),
    image: FileField('image'),
    safety_check: Type.Optional(Type.Boolean({ default: true })),
    seed: Type.Optional(Type.Integer()),
    num_inference_steps: Type.Optional(Type.Integer({ default: 75, minimum: 1 }))
  }),
  response: ImageResponse,
  streaming: 'none',
  defaultModel: 'stabilityai/stable-diffusion-x4-upscaler',
  examples: [
    { model_id: 'stabilityai/stable-diffusion-x4-upscaler', prompt: 'a sharp photo', image: 'image' },
    { prompt: 'upscale', image: 'image', seed: '7', safety_check: 'false' }
  ],
  unit: 'pixel',
  units: inputPixels,
  admissionUnits: ({ inputBytes }) => pixelsFromDeclaredBytes(inputBytes),
  // input pixels x steps
  work: ({ params: p }, media) => mediaPixels(media) * positiveNumber(p.num_inference_steps, 1),
  testnetPrice: '1000000000'
})
