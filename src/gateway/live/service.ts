/**
 * The gateway's live video service: the sessions by stream id, each with its output
 * trickle channel, and the `LiveSessionLookup` the client adapters (trickle routes here,
 * WHIP/WHEP in webrtc/) find them with.
 */
import { randomUUID } from 'node:crypto'
import type { JsonValue } from '../../kernel/job.js'
import type { Logger } from '../../observability/logger.js'
import type { PaymentSender } from '../../payments/index.js'
import type { DialProtocol } from '../../protocols/live/index.js'
import { TrickleStore } from '../../protocols/live/trickle/channel.js'
import type { Candidate } from '../selection/index.js'
import { LiveSessionError } from './errors.js'
import type { LiveSessionLookup } from './media.js'
import type { GatewayLiveMetrics } from './metrics.js'
import { defaultGatewayLiveOptions, type GatewayLiveOptions } from './options.js'
import { GatewayLiveSession, LIVE_PIPELINE } from './session.js'

export interface GatewayLiveComponents {
  dialProtocol: DialProtocol
  /** orchestrators offering (pipeline, model) now */
  candidates: (pipeline: typeof LIVE_PIPELINE, modelId: string) => Candidate[]
  /** fills the directory from the DHT when it has no candidate */
  refill?: (pipeline: typeof LIVE_PIPELINE, modelId: string, signal: AbortSignal) => Promise<void>
  payments?: { sender: PaymentSender, identity: { address: string, binding: string } }
  logger: Logger
  metrics?: GatewayLiveMetrics
  options?: Partial<GatewayLiveOptions>
}

export interface LiveStartRequest {
  streamId: string
  modelId?: string
  params?: Record<string, JsonValue>
  orchestrator?: string
}

export interface GatewayLive {
  readonly options: GatewayLiveOptions
  /** the output trickle channels, by stream id (`<stream>`), for the subscribe routes */
  readonly output: TrickleStore
  start: (request: LiveStartRequest, signal: AbortSignal) => Promise<GatewayLiveSession>
  /** the running session of a stream; throws `LiveSessionError` UNKNOWN_STREAM */
  session: (streamId: string) => GatewayLiveSession
  /** a running or recently ended session, for status */
  find: (streamId: string) => GatewayLiveSession | undefined
  /** the running sessions, then those ended recently (newest first), for the dashboard */
  list: () => GatewayLiveSession[]
  stop: (streamId: string) => Promise<void>
  /** for the WebRTC adapters: the running session of a stream */
  lookup: LiveSessionLookup
  /** sessions running now */
  readonly running: number
  close: () => Promise<void>
}

const STREAM_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/

export function createGatewayLive (components: GatewayLiveComponents): GatewayLive {
  const options = { ...defaultGatewayLiveOptions, ...components.options }
  const logger = components.logger.child({ component: 'live' })
  const output = new TrickleStore()
  const sessions = new Map<string, GatewayLiveSession>()
  const ended = new Map<string, { session: GatewayLiveSession, at: number }>()

  function forget (): void {
    const now = Date.now()
    for (const [id, e] of ended) if (now - e.at > options.keepEndedMs) ended.delete(id)
  }

  const live: GatewayLive = {
    options,
    output,
    async start (request, signal) {
      if (!STREAM_ID.test(request.streamId)) throw new LiveSessionError('LIVE_ERROR_BAD_REQUEST', 'a stream id is 1-128 letters, digits, _ . - (starting with a letter or digit)')
      if (sessions.has(request.streamId)) throw new LiveSessionError('LIVE_ERROR_STREAM_EXISTS', `stream ${request.streamId} is already running: stop it first`)
      if (sessions.size >= options.maxSessions) throw new LiveSessionError('LIVE_ERROR_TOO_MANY_SESSIONS', `this gateway runs at most ${options.maxSessions} live sessions`)
      const modelId = request.modelId ?? options.defaultModelId
      forget()
      ended.delete(request.streamId)
      output.delete(request.streamId)
      const channel = output.create(request.streamId)
      const session: GatewayLiveSession = new GatewayLiveSession({
        streamId: request.streamId,
        requestId: randomUUID(),
        modelId,
        params: request.params ?? {},
        ...(request.orchestrator === undefined ? {} : { orchestrator: request.orchestrator })
      }, {
        dialProtocol: components.dialProtocol,
        candidates: () => components.candidates(LIVE_PIPELINE, modelId),
        ...(components.payments === undefined ? {} : { payments: components.payments }),
        output: channel,
        logger,
        ...(components.metrics === undefined ? {} : { metrics: components.metrics }),
        options,
        onEnd: () => {
          if (sessions.get(request.streamId) === session) {
            sessions.delete(request.streamId)
            ended.set(request.streamId, { session, at: Date.now() })
          }
        }
      })
      sessions.set(request.streamId, session)
      try {
        if (components.candidates(LIVE_PIPELINE, modelId).length === 0) await components.refill?.(LIVE_PIPELINE, modelId, signal)
        await session.start(signal)
      } catch (err) {
        sessions.delete(request.streamId)
        await session.end('failed', (err as Error).message)
        sessions.delete(request.streamId)
        throw err
      }
      return session
    },
    session (streamId) {
      const s = sessions.get(streamId)
      if (s === undefined) throw new LiveSessionError('LIVE_ERROR_UNKNOWN_STREAM', `no live stream ${JSON.stringify(streamId)} (never started, or ended)`)
      return s
    },
    find: (streamId) => sessions.get(streamId) ?? ended.get(streamId)?.session,
    list () {
      forget()
      return [...sessions.values(), ...[...ended.values()].reverse().map(e => e.session)]
    },
    async stop (streamId) {
      await live.session(streamId).end('stopped', 'stopped by the client')
    },
    lookup: (streamId) => sessions.get(streamId),
    get running () { return sessions.size },
    async close () {
      await Promise.all([...sessions.values()].map(async s => { await s.end('stopped', 'the gateway is stopping') }))
      output.closeAll()
    }
  }
  return live
}
