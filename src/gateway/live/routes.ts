/**
 * The live video routes of the gateway's HTTP API, the reference's:
 * - `POST /live/video-to-video/{stream}/start` (query or JSON body: `pipeline`, `model_id`,
 *   `params` (JSON), `orchestrator`): starts the session, answers its URLs;
 * - `POST .../{stream}/update`: raw JSON params to the runner's control channel;
 * - `GET .../{stream}/status`: runner status, fps in and out, orchestrator, swaps, errors;
 * - `POST .../{stream}/stop` (and `DELETE .../{stream}`);
 * and trickle for clients without WebRTC: `POST .../{stream}/in/{seq}` publishes one
 * MPEG-TS segment (H.264; answered once the session has taken it: backpressure),
 * `GET .../{stream}/out/{seq}` subscribes (`-1`: live edge; `Lp-Trickle-*` headers, 470
 * for a segment no longer kept, 404 with `Lp-Trickle-Closed` when the stream ended),
 * `GET .../{stream}/out/next`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Readable } from 'node:stream'
import type { JsonValue } from '../../kernel/job.js'
import { handleTrickleRequest } from '../../protocols/live/trickle/http.js'
import { TRICKLE_SEQ } from '../../protocols/live/trickle/headers.js'
import { ApiError, type ApiErrorCode } from '../http/errors.js'
import type { AddRoute } from '../http/server.js'
import { LiveInputError, LiveSessionError } from './errors.js'
import type { GatewayLive } from './service.js'
import { LIVE_PIPELINE } from './session.js'

const BASE = '/live/video-to-video'

function apiError (err: unknown): unknown {
  if (err instanceof LiveSessionError) {
    const [status, code]: [number, ApiErrorCode] = {
      LIVE_ERROR_UNKNOWN_STREAM: [404, 'GATEWAY_ERROR_NOT_FOUND'],
      LIVE_ERROR_STREAM_EXISTS: [409, 'GATEWAY_ERROR_BAD_REQUEST'],
      LIVE_ERROR_CLOSED: [404, 'GATEWAY_ERROR_NOT_FOUND'],
      LIVE_ERROR_NO_ORCHESTRATOR: [503, 'GATEWAY_ERROR_NO_ORCHESTRATOR'],
      LIVE_ERROR_BAD_REQUEST: [400, 'GATEWAY_ERROR_BAD_REQUEST'],
      LIVE_ERROR_TOO_MANY_SESSIONS: [503, 'GATEWAY_ERROR_TOO_MANY_JOBS']
    }[err.code] as [number, ApiErrorCode]
    return new ApiError(status, code, err.message, { live: err.code })
  }
  if (err instanceof LiveInputError) {
    const status = err.code === 'LIVE_INPUT_ERROR_TOO_LARGE' ? 413 : 415
    return new ApiError(status, status === 413 ? 'GATEWAY_ERROR_PAYLOAD_TOO_LARGE' : 'GATEWAY_ERROR_UNSUPPORTED_MEDIA_TYPE', err.message, { live: err.code })
  }
  return err
}

function jsonObject (value: unknown, name: string): Record<string, JsonValue> {
  let parsed = value
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value)
    } catch {
      throw new ApiError(400, 'GATEWAY_ERROR_BAD_REQUEST', `${name} is not JSON`)
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ApiError(400, 'GATEWAY_ERROR_BAD_REQUEST', `${name} must be a JSON object`)
  return parsed as Record<string, JsonValue>
}

async function readBody (request: FastifyRequest, max: number): Promise<Uint8Array> {
  const declared = Number(request.headers['content-length'] ?? 0)
  if (declared > max) throw new LiveInputError('LIVE_INPUT_ERROR_TOO_LARGE', `segment of ${declared} bytes is larger than ${max}`)
  const body = request.body as Readable | undefined
  const source: AsyncIterable<Buffer> = body !== undefined && typeof (body as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function' ? body : request.raw
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of source) {
    size += chunk.byteLength
    if (size > max) throw new LiveInputError('LIVE_INPUT_ERROR_TOO_LARGE', `segment larger than ${max} bytes`)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

/** Registers the live routes on the gateway's HTTP API. */
export function registerLiveRoutes (add: AddRoute, app: FastifyInstance, live: GatewayLive): void {
  // segments arrive as MPEG-TS (or untyped bytes from scripts): the handler reads the stream itself
  app.addContentTypeParser(['video/mp2t', 'application/octet-stream'], (_request, payload, done) => { done(null, payload) })

  const wrap = (handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>) => async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    try {
      return await handler(request, reply)
    } catch (err) {
      throw apiError(err)
    }
  }

  const start = wrap(async (request, reply) => {
    const { stream } = request.params as { stream: string }
    const query = request.query as Record<string, unknown>
    const body = (request.body !== null && typeof request.body === 'object' && !Array.isArray(request.body) ? request.body : {}) as Record<string, unknown>
    const field = (name: string): unknown => body[name] ?? query[name]
    const pipeline = field('pipeline')
    if (pipeline !== undefined && pipeline !== LIVE_PIPELINE && pipeline !== 'video-to-video') throw new ApiError(400, 'GATEWAY_ERROR_BAD_REQUEST', `pipeline ${JSON.stringify(pipeline)} is not live video; this route runs ${LIVE_PIPELINE}`)
    const modelId = field('model_id') ?? field('model')
    if (modelId !== undefined && typeof modelId !== 'string') throw new ApiError(400, 'GATEWAY_ERROR_BAD_REQUEST', 'model_id must be a string')
    const params = field('params') === undefined ? {} : jsonObject(field('params'), 'params')
    const orchestrator = field('orchestrator')
    if (orchestrator !== undefined && typeof orchestrator !== 'string') throw new ApiError(400, 'GATEWAY_ERROR_BAD_REQUEST', 'orchestrator must be a peer id')
    const controller = new AbortController()
    const onClose = (): void => { if (!reply.raw.writableFinished) controller.abort(new Error('client gone')) }
    reply.raw.once('close', onClose)
    try {
      const session = await live.start({
        streamId: stream,
        ...(modelId === undefined || modelId === '' ? {} : { modelId }),
        params,
        ...(orchestrator === undefined || orchestrator === '' ? {} : { orchestrator })
      }, controller.signal)
      const base = `${BASE}/${encodeURIComponent(stream)}`
      return await reply.code(200).send({
        stream_id: stream,
        request_id: session.requestId,
        pipeline: LIVE_PIPELINE,
        model_id: session.modelId,
        orchestrator: session.status().orchestrator,
        publish_url: `${base}/in`,
        subscribe_url: `${base}/out`,
        update_url: `${base}/update`,
        status_url: `${base}/status`,
        stop_url: `${base}/stop`,
        whip_url: `${base}/whip`,
        whep_url: `${base}/whep`
      })
    } finally {
      reply.raw.off('close', onClose)
    }
  })
  add('POST', `${BASE}/:stream/start`, { operationId: 'liveVideoToVideoStart', auth: true }, start)

  add('POST', `${BASE}/:stream/update`, { operationId: 'liveVideoToVideoUpdate', auth: true }, wrap(async (request, reply) => {
    const { stream } = request.params as { stream: string }
    const params = jsonObject(request.body, 'the body')
    await live.session(stream).update(params)
    return await reply.code(200).send({ stream_id: stream, params })
  }))

  add('GET', `${BASE}/:stream/status`, { operationId: 'liveVideoToVideoStatus', auth: true }, wrap(async (request, reply) => {
    const { stream } = request.params as { stream: string }
    const session = live.find(stream)
    if (session === undefined) throw new LiveSessionError('LIVE_ERROR_UNKNOWN_STREAM', `no live stream ${JSON.stringify(stream)}`)
    return await reply.code(200).send(session.status())
  }))

  const stop = wrap(async (request, reply) => {
    const { stream } = request.params as { stream: string }
    await live.stop(stream)
    return await reply.code(200).send(live.find(stream)?.status() ?? { stream_id: stream, state: 'stopped' })
  })
  add('POST', `${BASE}/:stream/stop`, { operationId: 'liveVideoToVideoStop', auth: true }, stop)

  add('POST', `${BASE}/:stream/in/:seq`, { operationId: 'liveVideoToVideoPublish', auth: true }, wrap(async (request, reply) => {
    const { stream, seq } = request.params as { stream: string, seq: string }
    const session = live.session(stream)
    if (!/^-?\d{1,15}$/.test(seq)) throw new ApiError(400, 'GATEWAY_ERROR_BAD_REQUEST', 'the segment number must be an integer')
    const data = await readBody(request, live.options.maxSegmentBytes)
    if (data.byteLength === 0) throw new LiveInputError('LIVE_INPUT_ERROR_NOT_VIDEO', 'the segment is empty')
    const controller = new AbortController()
    const onClose = (): void => { if (!reply.raw.writableFinished) controller.abort(new Error('client gone')) }
    reply.raw.once('close', onClose)
    try {
      await session.publishInput(data, controller.signal)
    } finally {
      reply.raw.off('close', onClose)
    }
    return await reply.code(200).header(TRICKLE_SEQ, seq).send('')
  }))

  const subscribe = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const { stream, seq } = request.params as { stream: string, seq: string }
    reply.hijack()
    await handleTrickleRequest(live.output, request.raw, reply.raw, `${stream}/${seq}`, { maxSegmentBytes: 0, firstByteTimeoutMs: 0 })
    return reply
  }
  add('GET', `${BASE}/:stream/out/:seq`, { operationId: 'liveVideoToVideoSubscribe', auth: true }, subscribe)
}
