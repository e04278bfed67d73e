import { Type } from '@sinclair/typebox'
import { definePipeline, FileField } from './definition.js'
import { inputPixels, mediaPixels, pixelsFromDeclaredBytes } from './measure.js'
import { ImageToTextResponse } from './responses.js'

/** A caption of an image; billed per input pixel. */
export default definePipeline({
  name: 'image-to-text',
  operationId: 'genImageToText',
  gateway: true,
  body: 'multipart',
  modelField: 'model_id',
  request: Type.Object({
    image: FileField('image'),
    prompt: Type.Optional(Type.String({ default: '' }))
  }),
  response: ImageToTextResponse,
  streaming: 'none',
  defaultModel: 'Salesforce/blip-image-captioning-large',
  examples: [
    { model_id: 'Salesforce/blip-image-captioning-large', image: 'image', prompt: 'a picture of' },
    { image: 'image' }
  ],
  unit: 'pixel',
  units: inputPixels,
  admissionUnits: ({ inputBytes }) => pixelsFromDeclaredBytes(inputBytes),
  work: (_job, media) => mediaPixels(media),
  testnetPrice: '100000000'
})
