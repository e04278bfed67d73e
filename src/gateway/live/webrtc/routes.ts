/**
 * The gateway's WebRTC routes for live video-to-video (the reference's paths):
 * - `POST /live/video-to-video/{stream}/whip`: WHIP ingest (RFC 9725): an SDP offer in,
 *   201 with the SDP answer and `Location` of the publisher resource; DELETE on it ends it.
 *   A new publisher for a stream replaces the one before (a reloaded page).
 * - `POST /live/video-to-video/{stream}/whep`: WHEP playback, the same exchange.
 * - `GET /live/video-to-video/{stream}/play`: a page that publishes the camera and plays
 *   the result.
 * The stream must be a running live session (`lookup`), else 404. No trickle ICE (PATCH
 * answers 405): answers carry every candidate. They are the gateway's routes like the
 * others (`add`): WHIP, WHEP and their resources need the API key when the gateway has
 * keys (`Authorization: Bearer`); the page does not (it holds nothing, and asks for the key).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AddRoute } from '../../http/server.js'
import type { Logger } from '../../../observability/logger.js'
import { findProgram, programMissingHint } from '../../../cpu-runner/models/extras.js'
import { GatewayFailureApiError, UnsupportedMediaTypeError } from '../../http/errors.js'
import { mediaType } from '../../http/read-request.js'
import type { LiveSessionLookup, LiveSessionMedia } from '../media.js'
import { LiveCapacityError, LiveStreamNotFoundError, TrickleNotSupportedError } from './errors.js'
import { resolveLiveWebRtcOptions, type LiveWebRtcOptions } from './options.js'
import { livePlayPage } from './page.js'
import { checkOffer } from './peer.js'
import { createLiveWebRtcMetrics, type LiveWebRtcMetrics } from './metrics.js'
import type { Registry } from 'prom-client'
import { startWhepSession, type WhepSession } from './whep.js'
import { startWhipSession, type WhipSession } from './whip.js'

export interface LiveWebRtcInit {
  /** the running live session of a stream id */
  lookup: LiveSessionLookup
  options?: Partial<LiveWebRtcOptions>
  logger: Logger
  /** where the `shoal_gateway_live_webrtc_*` metrics go; none without it */
  register?: Registry
}

export interface LiveWebRtcCounts {
  publishers: number
  viewers: number
  /** ffmpeg processes running (one per publisher) */
  encoders: number
}

export interface LiveWebRtc {
  counts: () => LiveWebRtcCounts
  /** the publisher of a stream, if any (for status and tests) */
  publisher: (streamId: string) => WhipSession | undefined
  /** closes every publisher and viewer (also done when the app closes) */
  close: () => Promise<void>
}

const BASE = '/live/video-to-video'

function streamOf (request: FastifyRequest): string {
  return (request.params as { stream: string }).stream
}

export function registerLiveWebRtcRoutes (add: AddRoute, app: FastifyInstance, init: LiveWebRtcInit): LiveWebRtc {
  const options = resolveLiveWebRtcOptions(init.options)
  const logger = init.logger
  const metrics: LiveWebRtcMetrics | null = init.register !== undefined ? createLiveWebRtcMetrics(init.register) : null
  const publishers = new Map<string, WhipSession>()
  const viewers = new Map<string, WhepSession>()
  // slots taken by offers being answered, so concurrent offers cannot pass a limit together
  let pendingPublishers = 0
  const pendingViewers = new Map<string, number>()
  let stopped = false

  const lookup = (streamId: string): LiveSessionMedia => {
    if (stopped) throw new LiveStreamNotFoundError('the gateway is stopping')
    const media = init.lookup(streamId)
    if (media === undefined) throw new LiveStreamNotFoundError(`no live session for stream ${JSON.stringify(streamId)} (start it first: POST ${BASE}/{stream}/start)`)
    return media
  }
  const viewersOf = (streamId: string): number => [...viewers.values()].filter(v => v.streamId === streamId).length + (pendingViewers.get(streamId) ?? 0)
  const ffmpeg = (): string => {
    const found = options.ffmpegPath ?? findProgram('ffmpeg')
    if (found === null) throw new GatewayFailureApiError(`live WHIP needs ffmpeg: ${programMissingHint('ffmpeg', 'ffmpeg')}`)
    return found
  }
  /** a session in the gauge until it closes, when it leaves its map */
  const counted = (kind: 'whip' | 'whep', closed: Promise<string>): void => {
    metrics?.sessionsStarted.inc({ kind })
    metrics?.sessions.inc({ kind })
    void closed.then(() => { metrics?.sessions.dec({ kind }) })
  }
  const offerOf = (request: FastifyRequest): string => {
    if (mediaType(request.headers['content-type']) !== 'application/sdp') throw new UnsupportedMediaTypeError('the offer must be sent as Content-Type: application/sdp')
    return checkOffer(request.body, options.maxSdpBytes)
  }
  const answered = async (reply: FastifyReply, location: string, answer: string): Promise<FastifyReply> => {
    return await reply.code(201).header('location', location).header('cache-control', 'no-store').type('application/sdp').send(answer)
  }

  // offers; and trickle ICE fragments, read only to be refused with 405
  app.addContentTypeParser(['application/sdp', 'application/trickle-ice-sdpfrag'], { parseAs: 'string', bodyLimit: options.maxSdpBytes }, (_request, body, done) => { done(null, body) })

  add('POST', `${BASE}/:stream/whip`, { operationId: 'liveVideoToVideoWhip', auth: true }, async (request, reply) => {
    const streamId = streamOf(request)
    const media = lookup(streamId)
    const offer = offerOf(request)
    const previous = [...publishers.values()].find(p => p.streamId === streamId)
    if (publishers.size - (previous !== undefined ? 1 : 0) + pendingPublishers >= options.maxPublishers) throw new LiveCapacityError('maxPublishers', options.maxPublishers)
    const binary = ffmpeg()
    pendingPublishers++
    let session: WhipSession
    try {
      // the stream has one publisher: the newer one (a reloaded page) takes over
      if (previous !== undefined) await previous.close('replaced by a new publisher')
      session = await startWhipSession({ media, offer, options, ffmpeg: binary, logger, metrics })
    } finally {
      pendingPublishers--
    }
    publishers.set(session.id, session)
    void session.closed.then(() => { publishers.delete(session.id) })
    counted('whip', session.closed)
    if (stopped) await session.close('the gateway is stopping')
    return await answered(reply, `${BASE}/${encodeURIComponent(streamId)}/whip/${session.id}`, session.answer)
  })

  add('POST', `${BASE}/:stream/whep`, { operationId: 'liveVideoToVideoWhep', auth: true }, async (request, reply) => {
    const streamId = streamOf(request)
    const media = lookup(streamId)
    const offer = offerOf(request)
    const pendingTotal = [...pendingViewers.values()].reduce((a, b) => a + b, 0)
    if (viewers.size + pendingTotal >= options.maxViewers) throw new LiveCapacityError('maxViewers', options.maxViewers)
    if (viewersOf(streamId) >= options.maxViewersPerStream) throw new LiveCapacityError('maxViewersPerStream', options.maxViewersPerStream)
    pendingViewers.set(streamId, (pendingViewers.get(streamId) ?? 0) + 1)
    let session: WhepSession
    try {
      session = await startWhepSession({ media, offer, options, logger, metrics })
    } finally {
      const left = (pendingViewers.get(streamId) ?? 1) - 1
      if (left <= 0) pendingViewers.delete(streamId)
      else pendingViewers.set(streamId, left)
    }
    viewers.set(session.id, session)
    void session.closed.then(() => { viewers.delete(session.id) })
    counted('whep', session.closed)
    if (stopped) await session.close('the gateway is stopping')
    return await answered(reply, `${BASE}/${encodeURIComponent(streamId)}/whep/${session.id}`, session.answer)
  })

  for (const [kind, sessions] of [['whip', publishers], ['whep', viewers]] as const) {
    const resource = `${BASE}/:stream/${kind}/:resource`
    add('DELETE', resource, { operationId: `liveVideoToVideo${kind === 'whip' ? 'Whip' : 'Whep'}Delete`, auth: true }, async (request, reply) => {
      const { stream, resource: id } = request.params as { stream: string, resource: string }
      const session = sessions.get(id)
      if (session === undefined || session.streamId !== stream) throw new LiveStreamNotFoundError(`no ${kind.toUpperCase()} resource ${JSON.stringify(id)} on stream ${JSON.stringify(stream)}`)
      await session.close('ended by the client (DELETE)')
      return await reply.code(200).send()
    })
    add('PATCH', resource, { operationId: `liveVideoToVideo${kind === 'whip' ? 'Whip' : 'Whep'}Patch`, auth: true }, async () => { throw new TrickleNotSupportedError() })
  }

  add('GET', `${BASE}/:stream/play`, { operationId: 'liveVideoToVideoPlay', auth: false }, async (request, reply) => {
    return await reply.type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('content-security-policy', "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; media-src 'self' blob: mediastream:")
      .send(livePlayPage(streamOf(request)))
  })

  const close = async (): Promise<void> => {
    stopped = true
    await Promise.all([...publishers.values(), ...viewers.values()].map(async s => { await s.close('the gateway is stopping') }))
  }
  app.addHook('onClose', async () => { await close() })

  return {
    counts: () => ({
      publishers: publishers.size,
      viewers: viewers.size,
      encoders: [...publishers.values()].filter(p => p.encoder.pid !== undefined).length
    }),
    publisher: (streamId) => [...publishers.values()].find(p => p.streamId === streamId),
    close
  }
}
