/**
 * The orchestrator end of `/shoal/worker/2.0.0`: accepts control streams from allowed
 * workers, keeps one session per worker peer id, answers heartbeats, and reports
 * sessions as they register, update and end. It knows nothing of jobs or slots: the
 * worker runner manager (`src/orchestrator/workers/`) builds those on its events.
 */
import { EventEmitter, setMaxListeners } from 'node:events'
import type { AbortOptions, Connection, NewStreamOptions, PeerId, Stream, StreamHandler, StreamHandlerOptions } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { isPipelineName } from '../../kernel/pipelines.js'
import { silentLogger, type Logger } from '../../observability/logger.js'
import { ControlChannel } from './channel.js'
import type { RegisterMessage, WorkerRunner } from './codec.js'
import {
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_HEARTBEAT_TIMEOUT_MS,
  DEFAULT_REGISTER_TIMEOUT_MS,
  MAX_CONTROL_STREAMS,
  WORKER_LIMITS,
  WORKER_PROTOCOL,
  WORKER_WIRE_VERSION,
  type RefusalCode
} from './constants.js'
import { WorkerConfigError, WorkerProtocolError } from './errors.js'
import type { WorkerMetrics, WorkerRegistrationResult, WorkerSessionEndReason } from './metrics.js'

/**
 * The part of libp2p the server needs; a `Libp2p` node satisfies it. With `peerStore`,
 * registered workers are tagged so that the connection manager prunes their
 * connections last.
 */
export interface WorkerRegistrar {
  handle: (protocol: string, handler: StreamHandler, options?: StreamHandlerOptions) => Promise<void>
  unhandle: (protocol: string, options?: AbortOptions) => Promise<void>
  peerStore?: { merge: (peer: PeerId, data: { tags: Record<string, { value: number } | undefined> }) => Promise<unknown> }
}

/** The peer store tag of a registered worker: a high value, so its connection is pruned last. */
export const WORKER_PEER_TAG = 'shoal-worker'
const WORKER_PEER_TAG_VALUE = 100

export interface WorkerServerInit {
  /** peer ids (strings) of the workers allowed to register; every other peer is refused NOT_ALLOWED */
  allowList: readonly string[]
  logger?: Logger
  metrics?: WorkerMetrics | null
  /** how often workers ping @default 5_000 */
  heartbeatIntervalMs?: number
  /** a worker silent this long is dropped @default 15_000 */
  heartbeatTimeoutMs?: number
  /** time for a worker's Register after it opens the stream @default 10_000 */
  registerTimeoutMs?: number
  /** @default '/shoal/worker/2.0.0' */
  protocol?: string
}

export interface WorkerServerComponents {
  registrar: WorkerRegistrar
}

/** A registered worker, as long as its control stream lives. */
export interface WorkerSession {
  readonly peerId: PeerId
  /** the connection the worker registered on; jobs are opened on it */
  readonly connection: Connection
  /** the runners it offers now, pipelines this node does not know left out */
  readonly runners: readonly WorkerRunner[]
  /** epoch ms of its registration */
  readonly registeredAt: number
  /** aborts when the session ends; `reason` is a `WorkerProtocolError` or an Error naming the end reason */
  readonly signal: AbortSignal
  readonly ended: boolean
  /** Opens a stream on the worker's connection (fails at once when it is gone, never redials). */
  newStream: (protocol: string, options?: NewStreamOptions) => Promise<Stream>
}

export interface WorkerServerEvents {
  registered: [session: WorkerSession]
  /** the session's `runners` changed */
  updated: [session: WorkerSession]
  ended: [session: WorkerSession, reason: WorkerSessionEndReason]
}

export interface WorkerServer extends EventEmitter<WorkerServerEvents> {
  readonly protocol: string
  /** Registers the handler. */
  start: () => Promise<void>
  /** Unregisters the handler and ends every session (reason `stopped`). */
  stop: () => Promise<void>
  sessions: () => WorkerSession[]
  session: (peerId: string) => WorkerSession | undefined
}

/** Checks an allow-list: each entry must parse as a peer id. Returns them normalised. */
export function parseAllowList (allowList: readonly string[]): Set<string> {
  const out = new Set<string>()
  for (const entry of allowList) {
    try {
      out.add(peerIdFromString(entry.trim()).toString())
    } catch (err) {
      throw new WorkerConfigError('WORKER_CONFIG_ERROR_ALLOW_LIST', `worker allow-list entry "${entry}" is not a peer id (${(err as Error).message})`, { entry })
    }
  }
  return out
}

class Session implements WorkerSession {
  runners: WorkerRunner[]
  readonly registeredAt = Date.now()
  readonly controller = new AbortController()
  private timer: NodeJS.Timeout | undefined

  constructor (
    readonly peerId: PeerId,
    readonly connection: Connection,
    readonly channel: ControlChannel,
    runners: WorkerRunner[],
    private readonly timeoutMs: number,
    private readonly onTimeout: () => void
  ) {
    this.runners = runners
    setMaxListeners(Infinity, this.controller.signal)
    this.touch()
  }

  get signal (): AbortSignal { return this.controller.signal }
  get ended (): boolean { return this.controller.signal.aborted }

  /** A message arrived: the worker is alive for another timeout. */
  touch (): void {
    clearTimeout(this.timer)
    if (this.ended) return
    this.timer = setTimeout(this.onTimeout, this.timeoutMs)
  }

  end (reason: Error): void {
    clearTimeout(this.timer)
    this.controller.abort(reason)
  }

  async newStream (protocol: string, options?: NewStreamOptions): Promise<Stream> {
    if (this.ended) throw new Error(`worker ${this.peerId.toString()} is gone`)
    if (this.connection.status !== 'open') throw new Error(`connection to worker ${this.peerId.toString()} is ${this.connection.status}`)
    return await this.connection.newStream(protocol, options)
  }
}

class WorkerServerImpl extends EventEmitter<WorkerServerEvents> implements WorkerServer {
  readonly protocol: string
  private readonly allowed: Set<string>
  private readonly log: Logger
  private readonly metrics: WorkerMetrics | null
  private readonly heartbeatIntervalMs: number
  private readonly heartbeatTimeoutMs: number
  private readonly registerTimeoutMs: number
  private readonly live = new Map<string, Session>()
  private readonly pending = new Set<ControlChannel>()
  private started = false

  constructor (private readonly components: WorkerServerComponents, init: WorkerServerInit) {
    super()
    this.protocol = init.protocol ?? WORKER_PROTOCOL
    this.allowed = parseAllowList(init.allowList)
    this.log = (init.logger ?? silentLogger()).child({ component: 'worker-server' })
    this.metrics = init.metrics ?? null
    this.heartbeatIntervalMs = init.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS
    this.heartbeatTimeoutMs = init.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS
    this.registerTimeoutMs = init.registerTimeoutMs ?? DEFAULT_REGISTER_TIMEOUT_MS
    if (!Number.isSafeInteger(this.heartbeatIntervalMs) || this.heartbeatIntervalMs < WORKER_LIMITS.minHeartbeatIntervalMs || this.heartbeatIntervalMs > WORKER_LIMITS.maxHeartbeatIntervalMs) {
      throw new WorkerConfigError('WORKER_CONFIG_ERROR_OPTION', `heartbeatIntervalMs must be an integer in [${WORKER_LIMITS.minHeartbeatIntervalMs}, ${WORKER_LIMITS.maxHeartbeatIntervalMs}]`)
    }
    if (!Number.isSafeInteger(this.heartbeatTimeoutMs) || this.heartbeatTimeoutMs <= this.heartbeatIntervalMs || this.heartbeatTimeoutMs > WORKER_LIMITS.maxHeartbeatTimeoutMs) {
      throw new WorkerConfigError('WORKER_CONFIG_ERROR_OPTION', `heartbeatTimeoutMs must be an integer above heartbeatIntervalMs and at most ${WORKER_LIMITS.maxHeartbeatTimeoutMs}`)
    }
    this.handleStream = this.handleStream.bind(this)
  }

  async start (): Promise<void> {
    if (this.started) return
    await this.components.registrar.handle(this.protocol, this.handleStream, {
      maxInboundStreams: MAX_CONTROL_STREAMS,
      maxOutboundStreams: 1,
      runOnLimitedConnection: false
    })
    this.started = true
    this.log.info({ allowed: this.allowed.size }, 'accepting workers')
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    await this.components.registrar.unhandle(this.protocol)
    for (const channel of this.pending) channel.abort(new Error('orchestrator stopping'))
    this.pending.clear()
    for (const session of [...this.live.values()]) this.endSession(session, 'stopped', new Error('orchestrator stopping'))
  }

  sessions (): WorkerSession[] {
    return [...this.live.values()]
  }

  session (peerId: string): WorkerSession | undefined {
    return this.live.get(peerId)
  }

  private count (result: WorkerRegistrationResult): void {
    this.metrics?.registrations.inc({ result })
  }

  private handleStream (stream: Stream, connection: Connection): void {
    const channel = new ControlChannel(stream)
    const peer = connection.remotePeer.toString()
    const log = this.log.child({ worker: peer })
    if (!this.allowed.has(peer)) {
      // the connection is authenticated by noise: the remote peer id is the proof
      log.warn('refused a worker that is not in the allow-list')
      this.count('not_allowed')
      void this.refuse(channel, 'NOT_ALLOWED', `peer ${peer} is not in this orchestrator's worker allow-list`)
      return
    }
    this.pending.add(channel)
    void this.register(channel, connection, log).finally(() => { this.pending.delete(channel) })
  }

  private async refuse (channel: ControlChannel, code: RefusalCode, message: string): Promise<void> {
    try {
      await channel.write({ type: 'refused', code, message }, { signal: AbortSignal.timeout(this.registerTimeoutMs) })
      await channel.close()
    } catch (err) {
      channel.abort(err as Error)
    }
  }

  private async register (channel: ControlChannel, connection: Connection, log: Logger): Promise<void> {
    let message: RegisterMessage
    try {
      const first = await channel.read({ signal: AbortSignal.timeout(this.registerTimeoutMs) })
      if (first.type !== 'register') throw new WorkerProtocolError('WORKER_PROTOCOL_ERROR_UNEXPECTED_MESSAGE', `expected Register, got ${first.type}`)
      message = first
    } catch (err) {
      if (err instanceof WorkerProtocolError && (err.code === 'WORKER_PROTOCOL_ERROR_MALFORMED_MESSAGE' || err.code === 'WORKER_PROTOCOL_ERROR_MESSAGE_TOO_LARGE')) {
        // tell the operator why, rather than just resetting
        this.count('invalid')
        log.warn({ err: err.message }, 'refused an invalid worker registration')
        await this.refuse(channel, 'INVALID', err.message.slice(0, WORKER_LIMITS.maxMessageLength))
        return
      }
      const timeout = (err as Error).name === 'TimeoutError'
      this.count(timeout ? 'timeout' : 'protocol_error')
      log.warn({ err: (err as Error).message }, 'worker registration failed')
      channel.abort(timeout ? new WorkerProtocolError('WORKER_PROTOCOL_ERROR_TIMEOUT', 'no Register in time') : err as Error)
      return
    }
    if (message.version !== WORKER_WIRE_VERSION) {
      this.count('version')
      await this.refuse(channel, 'VERSION', `wire version ${message.version} is not supported; this orchestrator speaks ${WORKER_WIRE_VERSION}`)
      return
    }
    if (!this.started) {
      this.count('shutting_down')
      await this.refuse(channel, 'SHUTTING_DOWN', 'the orchestrator is stopping')
      return
    }
    const peer = connection.remotePeer.toString()
    const previous = this.live.get(peer)
    if (previous !== undefined) this.endSession(previous, 'replaced', new Error('the worker registered again'))
    const session: Session = new Session(connection.remotePeer, connection, channel, this.served(message.runners, log), this.heartbeatTimeoutMs, () => {
      log.warn({ timeoutMs: this.heartbeatTimeoutMs }, 'worker silent past the heartbeat timeout: dropping it')
      this.endSession(session, 'heartbeat_timeout', new WorkerProtocolError('WORKER_PROTOCOL_ERROR_TIMEOUT', `no heartbeat within ${this.heartbeatTimeoutMs} ms`))
      // a silent connection may be half dead: drop it so its job streams fail now, not at their deadline
      connection.abort(new WorkerProtocolError('WORKER_PROTOCOL_ERROR_TIMEOUT', 'worker heartbeat timeout'))
    })
    try {
      await channel.write({ type: 'registered', version: WORKER_WIRE_VERSION, heartbeatIntervalMs: this.heartbeatIntervalMs, heartbeatTimeoutMs: this.heartbeatTimeoutMs }, { signal: AbortSignal.timeout(this.registerTimeoutMs) })
    } catch (err) {
      session.end(err as Error)
      this.count('protocol_error')
      channel.abort(err as Error)
      return
    }
    this.live.set(peer, session)
    // a worker killed outright: its connection closes before the control stream reports it
    const onConnectionClose = (): void => {
      this.endSession(session, 'closed', new WorkerProtocolError('WORKER_PROTOCOL_ERROR_UNEXPECTED_EOF', 'connection to the worker closed'))
    }
    connection.addEventListener('close', onConnectionClose, { once: true })
    session.signal.addEventListener('abort', () => { connection.removeEventListener('close', onConnectionClose) }, { once: true })
    this.count('accepted')
    this.metrics?.sessions.set(this.live.size)
    this.tag(session.peerId, true)
    log.info({ runners: session.runners.map(r => `${r.pipeline} ${r.modelId} x${r.capacity}${r.warm ? ' warm' : ''}`) }, 'worker registered')
    this.emit('registered', session)
    await this.serve(session, log)
  }

  /** Runners of pipelines this node knows; the others are logged and left out. */
  private served (runners: WorkerRunner[], log: Logger): WorkerRunner[] {
    const known = runners.filter(r => isPipelineName(r.pipeline))
    if (known.length < runners.length) {
      log.warn({ unknown: runners.filter(r => !isPipelineName(r.pipeline)).map(r => r.pipeline) }, 'worker offers pipelines this orchestrator does not know; ignoring them')
    }
    return known
  }

  /** Reads the session's messages until it ends: pings are answered, updates applied. */
  private async serve (session: Session, log: Logger): Promise<void> {
    const { channel } = session
    while (!session.ended) {
      try {
        const message = await channel.read({ signal: session.signal })
        session.touch()
        switch (message.type) {
          case 'ping':
            await channel.write({ type: 'pong', seq: message.seq }, { signal: session.signal })
            break
          case 'update':
            session.runners = this.served(message.runners, log)
            log.info({ runners: session.runners.map(r => `${r.pipeline} ${r.modelId} x${r.capacity}${r.warm ? ' warm' : ''}`) }, 'worker capacity changed')
            this.emit('updated', session)
            break
          default:
            throw new WorkerProtocolError('WORKER_PROTOCOL_ERROR_UNEXPECTED_MESSAGE', `unexpected ${message.type} from a registered worker`)
        }
      } catch (err) {
        if (session.ended) return
        const eof = err instanceof WorkerProtocolError && err.code === 'WORKER_PROTOCOL_ERROR_UNEXPECTED_EOF'
        if (eof) log.info({ err: err.message }, 'worker went away')
        else log.warn({ err: (err as Error).message }, 'worker broke the control protocol')
        this.endSession(session, eof ? 'closed' : 'protocol_error', err as Error)
        return
      }
    }
  }

  private tag (peer: PeerId, on: boolean): void {
    this.components.registrar.peerStore?.merge(peer, { tags: { [WORKER_PEER_TAG]: on ? { value: WORKER_PEER_TAG_VALUE } : undefined } })
      .catch((err: unknown) => { this.log.debug({ err: (err as Error).message }, 'cannot tag the worker peer') })
  }

  private endSession (session: Session, reason: WorkerSessionEndReason, err: Error): void {
    if (session.ended) return
    session.end(err)
    if (reason === 'closed') void session.channel.close()
    else session.channel.abort(err)
    const key = session.peerId.toString()
    if (this.live.get(key) === session) {
      this.live.delete(key)
      this.tag(session.peerId, false)
    }
    this.metrics?.sessions.set(this.live.size)
    this.metrics?.sessionEnds.inc({ reason })
    this.emit('ended', session, reason)
  }
}

/** The orchestrator end of `/shoal/worker`: `createWorkerServer({ registrar: node, allowList })`. */
export function createWorkerServer (init: WorkerServerInit & WorkerServerComponents): WorkerServer {
  return new WorkerServerImpl({ registrar: init.registrar }, init)
}
