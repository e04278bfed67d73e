/**
 * The worker end of `/shoal/worker/2.0.0`: dials the orchestrator, registers the
 * worker's runners, keeps the session alive with heartbeats, sends capacity updates,
 * and reconnects with capped exponential backoff whenever the session ends.
 */
import { EventEmitter, setMaxListeners } from 'node:events'
import type { AbortOptions, PeerId, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { silentLogger, type Logger } from '../../observability/logger.js'
import { raceSignal } from '../../signals/race-signal.js'
import { ControlChannel } from './channel.js'
import type { WorkerRunner } from './codec.js'
import {
  DEFAULT_BACKOFF,
  DEFAULT_DIAL_TIMEOUT_MS,
  DEFAULT_REGISTER_TIMEOUT_MS,
  DEFAULT_UPDATE_DEBOUNCE_MS,
  WORKER_PROTOCOL,
  WORKER_WIRE_VERSION
} from './constants.js'
import { WorkerConfigError, WorkerProtocolError, WorkerRefusedError } from './errors.js'
import type { WorkerMetrics } from './metrics.js'
import { anySignal } from '../../signals/any-signal.js'

export interface BackoffOptions {
  /** delay before the first retry @default 500 */
  initialMs: number
  /** longest delay @default 30_000 */
  maxMs: number
  /** growth per failed attempt @default 2 */
  factor: number
  /** +- this fraction of random spread @default 0.2 */
  jitter: number
}

export interface WorkerClientInit {
  /** the orchestrator: a multiaddr ending in /p2p/<peer id> */
  orchestrator: string | Multiaddr
  /** the runners to offer, read at each registration and update */
  runners: () => WorkerRunner[]
  logger?: Logger
  metrics?: WorkerMetrics | null
  backoff?: Partial<BackoffOptions>
  /** dial plus protocol negotiation @default 10_000 */
  dialTimeoutMs?: number
  /** wait this long for Registered or Refused @default 10_000 */
  registerTimeoutMs?: number
  /** coalesce `update()` calls within this window @default 50 */
  updateDebounceMs?: number
  /** @default '/shoal/worker/2.0.0' */
  protocol?: string
  /** for the backoff jitter @default Math.random */
  random?: () => number
}

export interface WorkerClientComponents {
  /** `Libp2p.dialProtocol` fits */
  dialProtocol: (address: Multiaddr, protocol: string, options: AbortOptions) => Promise<Stream>
  /** closes every connection to a peer (`Libp2p.hangUp`); used after a heartbeat timeout so the redial is fresh */
  hangUp?: (peer: PeerId, options?: AbortOptions) => Promise<void>
}

export interface WorkerRegistration {
  orchestrator: string
  heartbeatIntervalMs: number
  heartbeatTimeoutMs: number
  /** connection attempts since the last registration (1: the first one worked) */
  attempts: number
}

export interface WorkerClientEvents {
  registered: [registration: WorkerRegistration]
  /** the orchestrator refused (e.g. `WORKER_ERROR_NOT_ALLOWED`); the client retries with backoff */
  refused: [err: WorkerRefusedError, retryInMs: number]
  /** dialling or registering failed; the client retries in `retryInMs` */
  failed: [err: Error, retryInMs: number]
  /** a registered session ended (connection lost, heartbeat timeout) */
  disconnected: [err: Error]
}

export interface WorkerClient extends EventEmitter<WorkerClientEvents> {
  readonly orchestratorPeerId: PeerId
  readonly orchestratorAddress: Multiaddr
  /** registered now */
  readonly registered: boolean
  /** Starts the connect loop; resolves at once (see `waitRegistered`). */
  start: () => Promise<void>
  /** The runners changed: send them (debounced) once registered. */
  update: () => void
  /**
   * Offers no capacity from now on (an Update with no runners) and waits until that
   * went out, so the orchestrator sends no new job. For a graceful stop: withdraw, wait
   * for running jobs, then `stop()`.
   */
  withdraw: (options?: AbortOptions) => Promise<void>
  /** Resolves at the next (or current) registration. */
  waitRegistered: (options?: AbortOptions) => Promise<WorkerRegistration>
  /** Ends the session gracefully and stops reconnecting. */
  stop: () => Promise<void>
}

/** The orchestrator's peer id from a multiaddr ending in /p2p/<id>; throws `WorkerConfigError`. */
export function orchestratorAddress (address: string | Multiaddr): { address: Multiaddr, peerId: PeerId } {
  let addr: Multiaddr
  try {
    addr = typeof address === 'string' ? multiaddr(address) : address
  } catch (err) {
    throw new WorkerConfigError('WORKER_CONFIG_ERROR_ORCHESTRATOR', `orchestrator address "${String(address)}" is not a multiaddr (${(err as Error).message})`)
  }
  const p2p = addr.getComponents().filter(c => c.name === 'p2p').pop()
  if (p2p?.value === undefined) throw new WorkerConfigError('WORKER_CONFIG_ERROR_ORCHESTRATOR', `orchestrator address "${addr.toString()}" must end with /p2p/<peer id>`)
  try {
    return { address: addr, peerId: peerIdFromString(p2p.value) }
  } catch (err) {
    throw new WorkerConfigError('WORKER_CONFIG_ERROR_ORCHESTRATOR', `orchestrator address "${addr.toString()}": bad peer id (${(err as Error).message})`)
  }
}

/** `initialMs * factor^attempt` capped at `maxMs`, spread by +-jitter. */
export function backoffDelay (attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const base = Math.min(options.maxMs, options.initialMs * Math.pow(options.factor, attempt))
  return Math.max(0, Math.round(base * (1 + options.jitter * (2 * random() - 1))))
}

function sameRunners (a: readonly WorkerRunner[], b: readonly WorkerRunner[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

class WorkerClientImpl extends EventEmitter<WorkerClientEvents> implements WorkerClient {
  readonly orchestratorPeerId: PeerId
  readonly orchestratorAddress: Multiaddr
  private readonly log: Logger
  private readonly metrics: WorkerMetrics | null
  private readonly backoff: BackoffOptions
  private readonly dialTimeoutMs: number
  private readonly registerTimeoutMs: number
  private readonly updateDebounceMs: number
  private readonly protocol: string
  private readonly random: () => number
  private stopController = new AbortController()
  private loop: Promise<void> | undefined
  private channel: ControlChannel | undefined
  private registration: WorkerRegistration | undefined
  /** the runners the orchestrator has now (last Register or Update sent) */
  private sent: WorkerRunner[] = []
  private withdrawn = false
  private updateTimer: NodeJS.Timeout | undefined
  private writing: Promise<void> = Promise.resolve()
  private waiters: Array<PromiseWithResolvers<WorkerRegistration>> = []

  constructor (private readonly components: WorkerClientComponents, private readonly init: WorkerClientInit) {
    super()
    const { address, peerId } = orchestratorAddress(init.orchestrator)
    this.orchestratorAddress = address
    this.orchestratorPeerId = peerId
    this.log = (init.logger ?? silentLogger()).child({ component: 'worker-client', orchestrator: peerId.toString() })
    this.metrics = init.metrics ?? null
    this.backoff = { ...DEFAULT_BACKOFF, ...init.backoff }
    this.dialTimeoutMs = init.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS
    this.registerTimeoutMs = init.registerTimeoutMs ?? DEFAULT_REGISTER_TIMEOUT_MS
    this.updateDebounceMs = init.updateDebounceMs ?? DEFAULT_UPDATE_DEBOUNCE_MS
    this.protocol = init.protocol ?? WORKER_PROTOCOL
    this.random = init.random ?? Math.random
    const b = this.backoff
    if (!(b.initialMs > 0 && b.maxMs >= b.initialMs && b.factor >= 1 && b.jitter >= 0 && b.jitter < 1)) {
      throw new WorkerConfigError('WORKER_CONFIG_ERROR_OPTION', 'backoff needs initialMs > 0, maxMs >= initialMs, factor >= 1 and 0 <= jitter < 1')
    }
  }

  get registered (): boolean {
    return this.registration !== undefined
  }

  async start (): Promise<void> {
    if (this.loop !== undefined) return
    this.stopController = new AbortController()
    setMaxListeners(Infinity, this.stopController.signal)
    this.loop = this.connectLoop()
  }

  async stop (): Promise<void> {
    if (this.loop === undefined) return
    clearTimeout(this.updateTimer)
    this.stopController.abort(new Error('worker stopping'))
    // a graceful end: the orchestrator sees the stream close, not a reset
    await this.channel?.close()
    await this.loop
    this.loop = undefined
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error('worker client stopped'))
  }

  update (): void {
    if (this.updateTimer !== undefined) return
    this.updateTimer = setTimeout(() => {
      this.updateTimer = undefined
      void this.flushUpdate()
    }, this.updateDebounceMs)
  }

  async withdraw (options: AbortOptions = {}): Promise<void> {
    this.withdrawn = true
    await raceSignal(this.flushUpdate(), options.signal)
  }

  async waitRegistered (options: AbortOptions = {}): Promise<WorkerRegistration> {
    if (this.registration !== undefined) return this.registration
    const waiter = Promise.withResolvers<WorkerRegistration>()
    this.waiters.push(waiter)
    try {
      return await raceSignal(waiter.promise, options.signal)
    } finally {
      this.waiters = this.waiters.filter(w => w !== waiter)
    }
  }

  private runners (): WorkerRunner[] {
    return this.withdrawn ? [] : this.init.runners()
  }

  /** Sends an Update when registered and the runners differ from what the orchestrator has. Writes are serialised. */
  private async flushUpdate (): Promise<void> {
    const run = async (): Promise<void> => {
      const channel = this.channel
      if (channel === undefined || this.registration === undefined) return
      const runners = this.runners()
      if (sameRunners(runners, this.sent)) return
      try {
        await channel.write({ type: 'update', runners }, { signal: this.stopController.signal })
        this.sent = runners
        this.log.debug({ runners: runners.length }, 'sent capacity update')
      } catch (err) {
        // the session is ending; the next registration sends the current runners
        this.log.debug({ err: (err as Error).message }, 'capacity update not sent')
      }
    }
    this.writing = this.writing.then(run, run)
    await this.writing
  }

  private async connectLoop (): Promise<void> {
    const stop = this.stopController.signal
    let attempts = 0
    while (!stop.aborted) {
      attempts++
      let err: Error
      try {
        await this.session(attempts, () => { attempts = 0 })
        if (stop.aborted) return
        err = new Error('session ended')
      } catch (e) {
        if (stop.aborted) return
        err = e as Error
      }
      // attempts is 0 after a session that registered: retry quickly, then back off
      const delay = backoffDelay(Math.max(0, attempts - 1), this.backoff, this.random)
      if (err instanceof WorkerRefusedError) {
        this.metrics?.connects.inc({ result: 'refused' })
        this.log.error({ code: err.code, retryInMs: delay }, `orchestrator refused this worker: ${err.message}`)
        this.emit('refused', err, delay)
      } else if (attempts > 0) {
        this.metrics?.connects.inc({ result: 'failed' })
        this.log.warn({ err: err.message, attempt: attempts, retryInMs: delay }, 'cannot register with the orchestrator; retrying')
        this.emit('failed', err, delay)
      }
      try {
        await raceSignal(new Promise(resolve => setTimeout(resolve, delay).unref()), stop)
      } catch {
        return
      }
    }
  }

  /** One connection: dial, register, then heartbeats until it ends. Throws why it ended. */
  private async session (attempts: number, onRegistered: () => void): Promise<void> {
    const stop = this.stopController.signal
    const stream = await this.components.dialProtocol(this.orchestratorAddress, this.protocol, {
      signal: anySignal([stop, AbortSignal.timeout(this.dialTimeoutMs)])
    })
    const channel = new ControlChannel(stream)
    let registration: WorkerRegistration
    try {
      const runners = this.runners()
      const handshake = anySignal([stop, AbortSignal.timeout(this.registerTimeoutMs)])
      await channel.write({ type: 'register', version: WORKER_WIRE_VERSION, runners }, { signal: handshake })
      const reply = await channel.read({ signal: handshake })
      if (reply.type === 'refused') {
        await channel.close()
        throw new WorkerRefusedError(reply.code, reply.message, { orchestrator: this.orchestratorPeerId.toString() })
      }
      if (reply.type !== 'registered') throw new WorkerProtocolError('WORKER_PROTOCOL_ERROR_UNEXPECTED_MESSAGE', `expected Registered, got ${reply.type}`)
      if (reply.version !== WORKER_WIRE_VERSION) throw new WorkerProtocolError('WORKER_PROTOCOL_ERROR_UNEXPECTED_MESSAGE', `Registered with wire version ${reply.version}`)
      this.sent = runners
      registration = {
        orchestrator: this.orchestratorPeerId.toString(),
        heartbeatIntervalMs: reply.heartbeatIntervalMs,
        heartbeatTimeoutMs: reply.heartbeatTimeoutMs,
        attempts
      }
    } catch (err) {
      if (!(err instanceof WorkerRefusedError)) channel.abort(err as Error)
      throw err
    }

    this.channel = channel
    this.registration = registration
    onRegistered()
    this.metrics?.connects.inc({ result: 'registered' })
    this.metrics?.registered.set(1)
    this.log.info({ heartbeatIntervalMs: registration.heartbeatIntervalMs, attempts }, 'registered with the orchestrator')
    this.emit('registered', registration)
    for (const waiter of this.waiters.splice(0)) waiter.resolve(registration)
    // runners that changed during the handshake
    void this.flushUpdate()

    const session = new AbortController()
    const signal = anySignal([stop, session.signal])
    let lastSeen = Date.now()
    let seq = 0
    const heartbeat = setInterval(() => {
      if (Date.now() - lastSeen > registration.heartbeatTimeoutMs) {
        const err = new WorkerProtocolError('WORKER_PROTOCOL_ERROR_TIMEOUT', `no answer from the orchestrator within ${registration.heartbeatTimeoutMs} ms`)
        session.abort(err)
        channel.abort(err)
        // the connection may be half dead: hang up so that the redial is a fresh one
        this.components.hangUp?.(this.orchestratorPeerId).catch(() => {})
        return
      }
      const ping = async (): Promise<void> => { await channel.write({ type: 'ping', seq: seq++ }, { signal }) }
      this.writing = this.writing.then(ping, ping).catch(() => {})
    }, registration.heartbeatIntervalMs)
    try {
      while (true) {
        const message = await channel.read({ signal })
        lastSeen = Date.now()
        if (message.type !== 'pong') throw new WorkerProtocolError('WORKER_PROTOCOL_ERROR_UNEXPECTED_MESSAGE', `unexpected ${message.type} from the orchestrator`)
      }
    } catch (err) {
      const reason = session.signal.aborted ? session.signal.reason as Error : err as Error
      if (!stop.aborted) {
        if (!(err instanceof WorkerProtocolError && err.code === 'WORKER_PROTOCOL_ERROR_UNEXPECTED_EOF')) channel.abort(reason)
        this.log.warn({ err: reason.message }, 'lost the orchestrator; reconnecting')
        this.emit('disconnected', reason)
      }
      throw reason
    } finally {
      clearInterval(heartbeat)
      this.channel = undefined
      this.registration = undefined
      this.metrics?.registered.set(0)
    }
  }
}

/** The worker end of `/shoal/worker`: `createWorkerClient({ orchestrator, runners, dialProtocol: node.dialProtocol.bind(node) })`. */
export function createWorkerClient (init: WorkerClientInit & WorkerClientComponents): WorkerClient {
  return new WorkerClientImpl({ dialProtocol: init.dialProtocol, hangUp: init.hangUp }, init)
}
