import { Type } from '@sinclair/typebox'
import { definePipeline } from './definition.js'
import { characters } from './measure.js'
import { AudioResponse } from './responses.js'

/** Speech from text; billed per character. */
export default definePipeline({
  name: 'text-to-speech',
  operationId: 'genTextToSpeech',
  gateway: true,
  body: 'json',
  modelField: 'model_id',
  request: Type.Object({
    text: Type.Optional(Type.String({ default: '' })),
    description: Type.Optional(Type.String({ default: 'A male speaker delivers a slightly expressive and animated speech with a moderate speed and pitch.' }))
  }),
  response: AudioResponse,
  streaming: 'none',
  defaultModel: 'parler-tts/parler-tts-large-v1',
  examples: [
    { model_id: 'parler-tts/parler-tts-large-v1', text: 'Hello from the network.', description: 'A calm female voice.' },
    { text: 'hello' }
  ],
  unit: 'character',
  units: job => BigInt(characters(job.params.text)),
  admissionUnits: ({ params }) => BigInt(characters(params.text)),
  work: ({ params: p }) => Math.max(1, typeof p.text === 'string' ? p.text.length : 1),
  testnetPrice: '100000000000'
})
