import { setMaxListeners } from 'node:events'
import type { Connection, Stream } from '@libp2p/interface'
import { silentLogger } from '../../observability/logger.js'
import {
  AI_PROTOCOL,
  DEFAULT_INPUT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_BUFFERED_INPUT_BYTES,
  DEFAULT_MAX_BUFFERED_INPUT_BYTES_PER_PEER,
  DEFAULT_MAX_INBOUND_STREAMS,
  DEFAULT_MAX_INPUT_BYTES,
  DEFAULT_MAX_OUTBOUND_STREAMS,
  DEFAULT_QUOTE_TIMEOUT_MS,
  DEFAULT_SERVER_IDLE_TIMEOUT_MS,
  DEFAULT_SERVER_MAX_DEADLINE_MS
} from './constants.js'
import { StreamSession, type SessionDeps } from './handler.js'
import { InputBudget } from './budget.js'
import type { AiProtocol, AiProtocolComponents, AiProtocolInit } from './index.js'

/** The orchestrator side of `/shoal/ai`: one `StreamSession` per inbound stream. */
export class AiProtocolService implements AiProtocol {
  readonly protocol: string
  readonly [Symbol.toStringTag] = '@shoal/ai'
  private readonly components: AiProtocolComponents
  private readonly deps: Omit<SessionDeps, 'shutdown'>
  private readonly maxInboundStreams: number
  private readonly sessions = new Set<StreamSession>()
  private controller = new AbortController()
  private started = false

  constructor (components: AiProtocolComponents, init: AiProtocolInit) {
    this.components = components
    this.protocol = init.protocol ?? AI_PROTOCOL
    const limits = init.limits ?? {}
    this.maxInboundStreams = limits.maxInboundStreams ?? DEFAULT_MAX_INBOUND_STREAMS
    const budget = new InputBudget({
      nodeBytes: limits.maxBufferedInputBytes ?? DEFAULT_MAX_BUFFERED_INPUT_BYTES,
      peerBytes: limits.maxBufferedInputBytesPerPeer ?? DEFAULT_MAX_BUFFERED_INPUT_BYTES_PER_PEER
    })
    this.deps = {
      executor: init.executor,
      quote: init.quote ?? (() => ({ prices: [], payment: null })),
      logger: (init.logger ?? silentLogger()).child({ component: 'ai-protocol' }),
      metrics: init.metrics ?? null,
      // a job larger than a budget could never be held: it is refused as too large
      maxInputBytes: Math.min(limits.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES, budget.limits.nodeBytes, budget.limits.peerBytes),
      budget,
      inputIdleTimeoutMs: limits.inputIdleTimeoutMs ?? DEFAULT_INPUT_IDLE_TIMEOUT_MS,
      idleTimeoutMs: limits.idleTimeoutMs ?? DEFAULT_SERVER_IDLE_TIMEOUT_MS,
      quoteTimeoutMs: limits.quoteTimeoutMs ?? DEFAULT_QUOTE_TIMEOUT_MS,
      maxDeadlineMs: limits.maxDeadlineMs ?? DEFAULT_SERVER_MAX_DEADLINE_MS,
      ...(init.load !== undefined ? { load: init.load } : {}),
      ...(init.receipts !== undefined ? { receipts: init.receipts } : {})
    }
    this.handleStream = this.handleStream.bind(this)
  }

  get activeJobs (): number {
    let n = 0
    for (const session of this.sessions) if (session.busy) n++
    return n
  }

  get openStreams (): number {
    return this.sessions.size
  }

  isStarted (): boolean {
    return this.started
  }

  async start (): Promise<void> {
    if (this.started) return
    this.controller = new AbortController()
    // every open stream listens on it
    setMaxListeners(Infinity, this.controller.signal)
    await this.components.registrar.handle(this.protocol, this.handleStream, {
      maxInboundStreams: this.maxInboundStreams,
      maxOutboundStreams: DEFAULT_MAX_OUTBOUND_STREAMS,
      // jobs reach orchestrators behind NAT through a relay, whose limits are sized for them (p2p/relay.ts)
      runOnLimitedConnection: true
    })
    this.started = true
  }

  /** Unregisters the handler, answers running jobs with INTERNAL and resets their streams. */
  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    await this.components.registrar.unhandle(this.protocol)
    this.controller.abort()
    this.sessions.clear()
    this.deps.budget.close()
  }

  private handleStream (stream: Stream, connection: Connection): void {
    const session = new StreamSession(stream, connection.remotePeer, { ...this.deps, shutdown: this.controller.signal })
    this.sessions.add(session)
    void session.run().finally(() => { this.sessions.delete(session) })
  }
}
