import { Type } from '@sinclair/typebox'
import { definePipeline, FileField, JsonStringField } from './definition.js'
import { inputPixels, mediaPixels, pixelsFromDeclaredBytes } from './measure.js'
import { MasksResponse } from './responses.js'

/** Segmentation masks of an image from points or a box; billed per input pixel. */
export default definePipeline({
  name: 'segment-anything-2',
  operationId: 'genSegmentAnything2',
  gateway: true,
  body: 'multipart',
  modelField: 'model_id',
  request: Type.Object({
    image: FileField('image'),
    point_coords: Type.Optional(JsonStringField('array')),
    point_labels: Type.Optional(JsonStringField('array')),
    box: Type.Optional(JsonStringField('array')),
    mask_input: Type.Optional(JsonStringField('array')),
    multimask_output: Type.Optional(Type.Boolean({ default: true })),
    return_logits: Type.Optional(Type.Boolean({ default: true })),
    normalize_coords: Type.Optional(Type.Boolean({ default: true }))
  }),
  response: MasksResponse,
  streaming: 'none',
  defaultModel: 'facebook/sam2-hiera-large',
  examples: [
    { model_id: 'facebook/sam2-hiera-large', image: 'image', point_coords: '[[120, 100]]', point_labels: '[1]' },
    { image: 'image', box: '[10, 10, 200, 200]', multimask_output: 'false' }
  ],
  unit: 'pixel',
  units: inputPixels,
  admissionUnits: ({ inputBytes }) => pixelsFromDeclaredBytes(inputBytes),
  work: (_job, media) => mediaPixels(media),
  testnetPrice: '100000000'
})
