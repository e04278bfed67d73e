import { Type } from '@sinclair/typebox'
import { definePipeline, FileField, JsonStringField } from './definition.js'
import { inputPixels, mediaPixels, pixelsFromDeclaredBytes, positiveNumber } from './measure.js'
import { ImageResponse } from './responses.js'

/** An image transformed by a prompt; billed per input pixel. */
export default definePipeline({
  name: 'image-to-image',
  operationId: 'genImageToImage',
  gateway: true,
  body: 'multipart',
  modelField: 'model_id',
  request: Type.Object({
    prompt: Type.String(),
    image: FileField('image'),
    loras: Type.Optional(JsonStringField('object', { default: '' })),
    strength: Type.Optional(Type.Number({ default: 0.8 })),
    guidance_scale: Type.Optional(Type.Number({ default: 7.5 })),
    image_guidance_scale: Type.Optional(Type.Number({ default: 1.5 })),
    negative_prompt: Type.Optional(Type.String({ default: '' })),
    safety_check: Type.Optional(Type.Boolean({ default: true })),
    seed: Type.Optional(Type.Integer()),
    num_inference_steps: Type.Optional(Type.Integer({ default: 100, minimum: 1 })),
    num_images_per_prompt: Type.Optional(Type.Integer({ default: 1, minimum: 1 }))
  }),
  response: ImageResponse,
  streaming: 'none',
  defaultModel: 'stabilityai/sdxl-turbo',
  examples: [
    { model_id: 'timbrooks/instruct-pix2pix', prompt: 'make it snow', image: 'image', strength: '0.5', num_inference_steps: '20' }
  ],
  unit: 'pixel',
  units: inputPixels,
  admissionUnits: ({ inputBytes }) => pixelsFromDeclaredBytes(inputBytes),
  // input pixels x images x steps
  work: ({ params: p }, media) => mediaPixels(media) * positiveNumber(p.num_images_per_prompt, 1) * positiveNumber(p.num_inference_steps, 1)
})
