/**
 * The gateway's routes for custom capability stream sessions, the reference's BYOC
 * `/process/stream/*`:
 * - `POST /process/stream/start`: the capability from the `Livepeer` header (or
 *   `?capability=<name>`), the app's params from the JSON body (or the header's
 *   `request`); answers the session's URLs;
 * - `GET /process/stream/{id}/data`: the data channel, Server-Sent Events (one event per
 *   data message, `id` its number: the messages kept, then new ones; `Last-Event-ID`
 *   skips those a reconnecting client has; a last `event: end`);
 * - `POST /process/stream/{id}/update`: new params (a JSON object), answered with the app's
 *   answer;
 * - `POST /process/stream/{id}/stop`, `GET /process/stream/{id}/status`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { JsonValue } from '../../kernel/job.js'
import { ApiError, type ApiErrorCode } from '../http/errors.js'
import type { AddRoute } from '../http/server.js'
import { StreamSessionError } from './errors.js'
import { parseLivepeerHeader, timeoutMsOf } from './livepeer-header.js'
import type { DataMessage, GatewayStreamSession, StreamEnd } from './stream-session.js'
import type { GatewayStreams } from './streams.js'

const BASE = '/process/stream'

function apiError (err: unknown): unknown {
  if (!(err instanceof StreamSessionError)) return err
  const [status, code]: [number, ApiErrorCode] = {
    STREAM_ERROR_UNKNOWN: [404, 'GATEWAY_ERROR_NOT_FOUND'],
    STREAM_ERROR_ENDED: [409, 'GATEWAY_ERROR_BAD_REQUEST'],
    STREAM_ERROR_NO_ORCHESTRATOR: [503, 'GATEWAY_ERROR_NO_ORCHESTRATOR'],
    STREAM_ERROR_BAD_REQUEST: [400, 'GATEWAY_ERROR_BAD_REQUEST'],
    STREAM_ERROR_TOO_MANY_SESSIONS: [503, 'GATEWAY_ERROR_TOO_MANY_JOBS'],
    STREAM_ERROR_TIMEOUT: [504, 'GATEWAY_ERROR_REQUEST_TIMEOUT']
  }[err.code] as [number, ApiErrorCode]
  return new ApiError(status, code, err.message, { stream: err.code })
}

function badRequest (message: string): ApiError {
  return new ApiError(400, 'GATEWAY_ERROR_BAD_REQUEST', message)
}

function jsonObject (value: unknown, what: string): Record<string, JsonValue> {
  let parsed = value
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value)
    } catch {
      throw badRequest(`${what} is not JSON`)
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw badRequest(`${what} must be a JSON object`)
  return parsed as Record<string, JsonValue>
}

/** One data message as an SSE event: its number as the id, each of its lines a `data:` line. */
function sseEvent (message: DataMessage): string {
  const text = Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength).toString('utf8')
  return `id: ${message.seq}\n${text.split(/\r?\n/).map(line => `data: ${line}`).join('\n')}\n\n`
}

/** Registers the stream session routes on the gateway's HTTP API. */
export function registerStreamRoutes (add: AddRoute, streams: GatewayStreams): void {
  const wrap = (handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>) => async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    try {
      return await handler(request, reply)
    } catch (err) {
      throw apiError(err)
    }
  }
  const idOf = (request: FastifyRequest): string => (request.params as { id: string }).id
  const urls = (session: GatewayStreamSession): Record<string, string> => {
    const base = `${BASE}/${encodeURIComponent(session.streamId)}`
    // data only: the video and RTMP URLs of the reference stay empty
    return { data_url: `${base}/data`, update_url: `${base}/update`, status_url: `${base}/status`, stop_url: `${base}/stop`, whip_url: '', whep_url: '', rtmp_url: '', rtmp_output_url: '' }
  }

  add('POST', `${BASE}/start`, { operationId: 'processStreamStart', pipeline: 'custom', auth: true }, wrap(async (request, reply) => {
    const query = request.query as Record<string, unknown>
    const header = request.headers.livepeer === undefined && typeof query.capability === 'string' ? undefined : parseLivepeerHeader(request.headers.livepeer)
    const capability = header?.capability ?? String(query.capability)
    const parameters = header?.parameters ?? {}
    for (const option of ['enable_video_ingress', 'enable_video_egress']) {
      if (parameters[option] === true) throw badRequest(`${option}: custom capability streams carry data only; live video is POST /live/video-to-video/{stream}/start`)
    }
    if (parameters.enable_data_output === false) throw badRequest('enable_data_output: false leaves a custom capability stream nothing to carry')
    const body = request.body
    const params = body !== undefined && body !== null && body !== ''
      ? jsonObject(body, 'the body')
      : header?.request !== undefined ? jsonObject(header.request, 'the Livepeer header\'s "request"') : {}
    const timeout = query.timeout_seconds
    const maxDurationMs = header?.timeoutMs ?? (timeout === undefined ? undefined : timeoutMsOf(timeout, 'timeout_seconds'))
    const controller = new AbortController()
    const onClose = (): void => { if (!reply.raw.writableFinished) controller.abort(new Error('client gone')) }
    reply.raw.once('close', onClose)
    try {
      const session = await streams.start({ capability, params, ...(maxDurationMs === undefined ? {} : { maxDurationMs }) }, controller.signal)
      void reply.header('x-shoal-capability', capability)
      return await reply.code(200).send({
        stream_id: session.streamId,
        request_id: session.requestId,
        capability,
        orchestrator: session.orchestrator ?? null,
        ...urls(session)
      })
    } finally {
      reply.raw.off('close', onClose)
    }
  }))

  add('GET', `${BASE}/:id/data`, { operationId: 'processStreamData', auth: true }, wrap(async (request, reply) => {
    const session = streams.find(idOf(request))
    const last = request.headers['last-event-id'] ?? (request.query as Record<string, unknown>).last_event_id
    const after = typeof last === 'string' && /^\d{1,15}$/.test(last) ? Number(last) : undefined
    const res = reply.raw
    reply.hijack()
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
      'x-shoal-request-id': request.id,
      'x-shoal-capability': session.capability
    })
    res.flushHeaders()
    const max = streams.options.maxSubscriberBufferBytes
    let unsubscribe = (): void => {}
    const write = (text: string): void => {
      if (res.destroyed || res.writableEnded) return
      // a client this far behind is dropped rather than buffered for without bound
      if (res.writableLength > max) { unsubscribe(); res.destroy(); return }
      res.write(text)
    }
    unsubscribe = session.subscribe({
      message: (message) => { write(sseEvent(message)) },
      end: (end: StreamEnd) => {
        write(`event: end\ndata: ${JSON.stringify({ state: end.state, reason: end.reason, ...pick(session.status(), ['compute_ms', 'charged_wei', 'data_messages']) })}\n\n`)
        if (!res.destroyed) res.end()
      }
    }, after)
    res.once('close', () => { unsubscribe() })
    return reply
  }))

  add('POST', `${BASE}/:id/update`, { operationId: 'processStreamUpdate', auth: true }, wrap(async (request, reply) => {
    const session = streams.find(idOf(request))
    const params = jsonObject(request.body, 'the body')
    const controller = new AbortController()
    const onClose = (): void => { if (!reply.raw.writableFinished) controller.abort(new Error('client gone')) }
    reply.raw.once('close', onClose)
    try {
      const answer = await session.update(params, controller.signal)
      return await reply.code(answer.status).header('content-type', answer.contentType === '' ? 'application/octet-stream' : answer.contentType).send(answer.body)
    } finally {
      reply.raw.off('close', onClose)
    }
  }))

  add('POST', `${BASE}/:id/stop`, { operationId: 'processStreamStop', auth: true }, wrap(async (request, reply) => {
    const session = await streams.stop(idOf(request))
    return await reply.code(200).send(session.status())
  }))

  add('GET', `${BASE}/:id/status`, { operationId: 'processStreamStatus', auth: true }, wrap(async (request, reply) => {
    return await reply.code(200).send(streams.find(idOf(request)).status())
  }))
}

function pick (value: Record<string, JsonValue>, keys: string[]): Record<string, JsonValue> {
  return Object.fromEntries(keys.filter(k => k in value).map(k => [k, value[k] as JsonValue]))
}
