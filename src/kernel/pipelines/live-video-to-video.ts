import { Type } from '@sinclair/typebox'
import { definePipeline } from './definition.js'
import { LiveVideoToVideoResponse } from './responses.js'

/**
 * Live video through a model. Runners accept `POST /live-video-to-video` with the four
 * trickle channel URLs; gateways serve it through their `/live/video-to-video/{stream}/...`
 * routes and `/shoal/live/1.0.0` (src/gateway/live, src/orchestrator/live), not as one
 * request on `/<pipeline>`. Billed by pixels really delivered: width x height x frames of
 * every output segment, at the real resolution and frame rate (the reference bills a
 * fixed 1280x720x30 per second whatever the stream), paid by the interval on the stream.
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
  unit: 'pixel',
  // a session is billed segment by segment on its stream, not per request
  units: () => 0n,
  admissionUnits: () => 0n,
  work: () => 1,
  // a 256x256 stream at 30 fps is 2 Mpixel/s: one 10,000 gwei ticket every 5 s
  testnetPrice: '1000000'
})
