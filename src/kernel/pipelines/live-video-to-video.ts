import { Type } from '@sinclair/typebox'
import { definePipeline } from './definition.js'
import { LiveVideoToVideoResponse } from './responses.js'

/**
 * Live video through a model, billed per second of stream. Runners accept it; the
 * gateway's HTTP API does not serve it (live video has its own flow, not one request).
 */
export default definePipeline({
  name: 'live-video-to-video',
  operationId: 'genLiveVideoToVideo',
  gateway: false,
  body: 'json',
  modelField: 'model_id',
  request: Type.Object({
    subscribe_url: Type.String(),
    publish_url: Type.String(),
    control_url: Type.Optional(Type.String({ default: '' })),
    events_url: Type.Optional(Type.String({ default: '' })),
    params: Type.Optional(Type.Object({}, { default: {} })),
    gateway_request_id: Type.Optional(Type.String({ default: '' })),
    manifest_id: Type.Optional(Type.String({ default: '' })),
    stream_id: Type.Optional(Type.String({ default: '' }))
  }),
  response: LiveVideoToVideoResponse,
  streaming: 'none',
  examples: [
    { model_id: 'streamdiffusion', subscribe_url: 'http://127.0.0.1:8890/in', publish_url: 'http://127.0.0.1:8890/out', params: { prompt: 'anime' } }
  ],
  unit: 'second',
  units: () => 1n,
  admissionUnits: () => 1n,
  work: () => 1
})
