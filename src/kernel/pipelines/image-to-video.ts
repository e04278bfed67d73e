import { Type } from '@sinclair/typebox'
import { definePipeline, FileField } from './definition.js'
import { positiveNumber, positiveParam } from './measure.js'
import { VideoResponse } from './responses.js'

/** A short video from a still image; billed per output pixel of 25 frames. */
export default definePipeline({
  name: 'image-to-video',
  operationId: 'genImageToVideo',
  gateway: true,
  body: 'multipart',
  modelField: 'model_id',
  request: Type.Object({
    image: FileField('image'),
    height: Type.Optional(Type.Integer({ default: 576, minimum: 1 })),
    width: Type.Optional(Type.Integer({ default: 1024, minimum: 1 })),
    fps: Type.Optional(Type.Integer({ default: 6, minimum: 1 })),
    motion_bucket_id: Type.Optional(Type.Integer({ default: 127 })),
    noise_aug_strength: Type.Optional(Type.Number({ default: 0.02 })),
    safety_check: Type.Optional(Type.Boolean({ default: true })),
    seed: Type.Optional(Type.Integer()),
    num_inference_steps: Type.Optional(Type.Integer({ default: 25, minimum: 1 }))
  }),
  response: VideoResponse,
  streaming: 'none',
  defaultModel: 'stabilityai/stable-video-diffusion-img2vid-xt',
  examples: [
    { model_id: 'stabilityai/stable-video-diffusion-img2vid-xt-1-1', image: 'image', width: '512', height: '512', fps: '8', motion_bucket_id: '127' }
  ],
  unit: 'pixel',
  units: job => positiveParam(job.params.width, 1024) * positiveParam(job.params.height, 576) * 25n,
  admissionUnits: ({ params }) => positiveParam(params.width, 1024) * positiveParam(params.height, 576) * 25n,
  // output pixels x steps
  work: ({ params: p }) => positiveNumber(p.width, 1) * positiveNumber(p.height, 1) * positiveNumber(p.num_inference_steps, 1),
  testnetPrice: '1000000'
})
