import { Type } from '@sinclair/typebox'
import { definePipeline, FileField, JsonStringField, LiteralField } from './definition.js'
import { audioMsFromBytes, inputBytes } from './measure.js'
import { TextResponse } from './responses.js'

/** A transcript of speech; billed per millisecond of audio, estimated from its size. */
export default definePipeline({
  name: 'audio-to-text',
  operationId: 'genAudioToText',
  gateway: true,
  body: 'multipart',
  modelField: 'model_id',
  request: Type.Object({
    audio: FileField('audio'),
    return_timestamps: Type.Optional(LiteralField(['true', 'false', 'sentence', 'word'] as const, { default: 'true' })),
    // runner OpenAPI only; passed through to the runner
    metadata: Type.Optional(JsonStringField('object', { default: '{}' }))
  }),
  response: TextResponse,
  streaming: 'none',
  defaultModel: 'openai/whisper-large-v3',
  examples: [
    { model_id: 'openai/whisper-large-v3', audio: 'audio' },
    { audio: 'audio', return_timestamps: 'word' }
  ],
  unit: 'audio-ms',
  units: job => audioMsFromBytes(inputBytes(job)),
  admissionUnits: ({ inputBytes }) => audioMsFromBytes(inputBytes),
  // its duration is not known without decoding: input bytes
  work: job => Math.max(1, inputBytes(job))
})
