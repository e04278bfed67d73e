/**
 * The gateway's custom capability stream sessions, by stream id: started on an
 * orchestrator that announces the capability as streaming, kept a while after they end
 * (status, the last data messages), all ended when the gateway stops.
 */
import { randomUUID } from 'node:crypto'
import type { JsonValue } from '../../kernel/job.js'
import type { Logger } from '../../observability/logger.js'
import type { PaymentSender } from '../../payments/index.js'
import type { DialProtocol } from '../../protocols/live/index.js'
import { StreamSessionError } from './errors.js'
import type { GatewayStreamMetrics } from './metrics.js'
import { defaultGatewayStreamOptions, GatewayStreamSession, type GatewayStreamOptions, type StreamCandidate } from './stream-session.js'

export interface GatewayStreamsComponents {
  dialProtocol: DialProtocol
  /** orchestrators announcing the capability as streaming, now */
  candidates: (capability: string) => StreamCandidate[]
  /** fills the directory from the DHT when it has no candidate */
  refill?: (capability: string, signal: AbortSignal) => Promise<void>
  payments?: { sender: PaymentSender, identity: { address: string, binding: string } }
  logger: Logger
  metrics?: GatewayStreamMetrics
  options?: Partial<GatewayStreamOptions>
}

export interface StreamStartRequest {
  capability: string
  params: Record<string, JsonValue>
  /** the client's limit on the session's length */
  maxDurationMs?: number
}

export interface GatewayStreams {
  readonly options: GatewayStreamOptions
  start: (request: StreamStartRequest, signal: AbortSignal) => Promise<GatewayStreamSession>
  /** a running or recently ended session; throws `StreamSessionError` UNKNOWN */
  find: (streamId: string) => GatewayStreamSession
  stop: (streamId: string) => Promise<GatewayStreamSession>
  /** sessions running now */
  readonly running: number
  close: () => Promise<void>
}

export function createGatewayStreams (components: GatewayStreamsComponents): GatewayStreams {
  const options = { ...defaultGatewayStreamOptions, ...components.options }
  const logger = components.logger.child({ component: 'stream' })
  const sessions = new Map<string, GatewayStreamSession>()
  const ended = new Map<string, { session: GatewayStreamSession, at: number }>()

  function forget (): void {
    const now = Date.now()
    for (const [id, e] of ended) if (now - e.at > options.keepEndedMs) ended.delete(id)
    // bounded whatever the clock: the oldest go first
    while (ended.size > options.maxSessions * 16) ended.delete(ended.keys().next().value as string)
  }

  const streams: GatewayStreams = {
    options,
    async start (request, signal) {
      if (sessions.size >= options.maxSessions) throw new StreamSessionError('STREAM_ERROR_TOO_MANY_SESSIONS', `this gateway runs at most ${options.maxSessions} stream sessions`)
      forget()
      const streamId = randomUUID()
      const session: GatewayStreamSession = new GatewayStreamSession({
        streamId,
        requestId: randomUUID(),
        capability: request.capability,
        params: request.params,
        ...(request.maxDurationMs === undefined ? {} : { maxDurationMs: request.maxDurationMs })
      }, {
        dialProtocol: components.dialProtocol,
        candidates: () => components.candidates(request.capability),
        ...(components.payments === undefined ? {} : { payments: components.payments }),
        logger,
        ...(components.metrics === undefined ? {} : { metrics: components.metrics }),
        options,
        onEnd: () => {
          if (sessions.get(streamId) === session) sessions.delete(streamId)
          ended.set(streamId, { session, at: Date.now() })
        }
      })
      sessions.set(streamId, session)
      try {
        if (components.candidates(request.capability).length === 0) await components.refill?.(request.capability, signal)
        await session.start(signal)
      } catch (err) {
        sessions.delete(streamId)
        await session.end('failed', (err as Error).message, false)
        ended.delete(streamId)
        throw err
      }
      return session
    },
    find (streamId) {
      const session = sessions.get(streamId) ?? ended.get(streamId)?.session
      if (session === undefined) throw new StreamSessionError('STREAM_ERROR_UNKNOWN', `no stream session ${JSON.stringify(streamId)} (never started here, or ended more than ${Math.round(options.keepEndedMs / 1000)} s ago)`)
      return session
    },
    async stop (streamId) {
      const session = streams.find(streamId)
      await session.end('stopped', 'stopped by the client')
      return session
    },
    get running () { return sessions.size },
    async close () {
      await Promise.all([...sessions.values()].map(async s => { await s.end('stopped', 'the gateway is stopping') }))
    }
  }
  return streams
}
