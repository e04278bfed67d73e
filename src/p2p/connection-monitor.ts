import { EventEmitter } from 'node:events'
import type { ComponentLogger, Connection, Logger, PeerId, Startable } from '@libp2p/interface'
import { byteStream } from '@libp2p/utils'
import { DEFAULT_MONITOR, DHT_PROTOCOL, PROTOCOL_PREFIX } from './constants.js'
import { anySignal } from '../signals/any-signal.js'

/** The ping protocol libp2p's own monitor uses, so every libp2p peer answers it. */
export const MONITOR_PING_PROTOCOL = '/ipfs/ping/1.0.0'
const PING_LENGTH = 32

export interface ConnectionMonitorInit {
  /** how often every connection is pinged @default 5_000 */
  intervalMs?: number
  /** a ping not answered within this is missed @default 5_000 */
  timeoutMs?: number
  /** consecutive missed pings that close a connection with no other stream open @default 6 */
  maxMissedIdle?: number
  /** consecutive missed pings that close a connection with streams in flight (jobs) @default 8 */
  maxMissedBusy?: number
  /**
   * how often the connections of a watched peer (`watch`: a gateway's jobs wait on it)
   * are pinged, when that is sooner than `intervalMs` @default 2_000
   */
  watchIntervalMs?: number
  /**
   * whether a connection carries work that a close would lose @default a Shoal
   * application stream is open (gossip, DHT, identify and ping streams are always open
   * and do not count)
   */
  isBusy?: (conn: Connection) => boolean
}

/** A stream muxer that can ping its peer with a control frame (yamux can). */
interface PingableMuxer { ping: () => Promise<number> }

/**
 * The connection's muxer when it pings with control frames. Such a ping opens no stream:
 * no multistream-select, no ping handler, and none of the peer store write libp2p makes
 * for every new stream, which at one ping per connection every 5 s each way was most of
 * an idle bootstrap's CPU. libp2p 3 keeps the muxer on the connection without typing it
 * as public, hence the lookup; without one, the monitor falls back to the ping protocol.
 */
function pingableMuxer (conn: Connection): PingableMuxer | undefined {
  const muxer = (conn as unknown as { muxer?: Partial<PingableMuxer> }).muxer
  return typeof muxer?.ping === 'function' ? muxer as PingableMuxer : undefined
}

/** Settles with `promise`, or rejects when `signal` aborts first (leaving `promise` to run). */
async function untilAborted<T> (promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted()
  return await new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort) })
  })
}

function hasShoalStreams (conn: Connection): boolean {
  return conn.streams.some(s => s.protocol?.startsWith(`${PROTOCOL_PREFIX}/`) === true && s.protocol !== DHT_PROTOCOL && s.status === 'open')
}

export interface ConnectionMonitorComponents {
  /** libp2p's connection manager; only its list of open connections is used */
  connectionManager: { getConnections: () => Connection[] }
  logger: ComponentLogger
}

export interface ConnectionMonitorEvents {
  /** a ping to this peer went unanswered (`missed` in a row) */
  missed: [PeerId, number]
  /** this peer answered a ping after missing one or more */
  recovered: [PeerId]
}

/**
 * Replaces libp2p's connection monitor, which aborts a connection, with every job stream
 * on it, on the first failed ping: under CPU starvation that killed connections with
 * jobs in flight. Pings are muxer control frames where the muxer has them (yamux). Here a connection is closed only after several missed pings in a row,
 * more when other streams are open, and never while a ping to it is still pending. Each
 * miss is reported at once, so a gateway can stop choosing the peer within seconds
 * without closing the connection, and move the jobs that wait on it elsewhere. A peer a
 * job waits on is `watch`ed: pinged every `watchIntervalMs`, so that a silent one is
 * reported a ping timeout after it went silent, not up to `intervalMs` later.
 */
export class ShoalConnectionMonitor extends EventEmitter<ConnectionMonitorEvents> implements Startable {
  private readonly components: ConnectionMonitorComponents
  private readonly log: Logger
  private readonly intervalMs: number
  private readonly timeoutMs: number
  private readonly maxMissedIdle: number
  private readonly maxMissedBusy: number
  private readonly isBusy: (conn: Connection) => boolean
  private readonly watchIntervalMs: number
  private readonly missed = new WeakMap<Connection, number>()
  private readonly pending = new WeakSet<Connection>()
  /** watched peers (ids) and how many watchers each has */
  private readonly watched = new Map<string, number>()
  private timer: NodeJS.Timeout | undefined
  private watchTimer: NodeJS.Timeout | undefined
  private controller = new AbortController()

  constructor (components: ConnectionMonitorComponents, init: ConnectionMonitorInit = {}) {
    super()
    this.components = components
    this.log = components.logger.forComponent('shoal:connection-monitor')
    this.intervalMs = init.intervalMs ?? DEFAULT_MONITOR.intervalMs
    this.timeoutMs = init.timeoutMs ?? DEFAULT_MONITOR.timeoutMs
    this.maxMissedIdle = Math.max(1, init.maxMissedIdle ?? DEFAULT_MONITOR.maxMissedIdle)
    this.maxMissedBusy = Math.max(this.maxMissedIdle, init.maxMissedBusy ?? DEFAULT_MONITOR.maxMissedBusy)
    this.isBusy = init.isBusy ?? hasShoalStreams
    this.watchIntervalMs = Math.max(1, init.watchIntervalMs ?? DEFAULT_MONITOR.watchIntervalMs)
  }

  readonly [Symbol.toStringTag] = '@shoal/connection-monitor'

  start (): void {
    this.controller = new AbortController()
    this.timer = setInterval(() => { this.heartbeat() }, this.intervalMs)
    this.timer.unref()
    if (this.watchIntervalMs < this.intervalMs) {
      this.watchTimer = setInterval(() => { this.heartbeat(true) }, this.watchIntervalMs)
      this.watchTimer.unref()
    }
  }

  stop (): void {
    this.controller.abort()
    clearInterval(this.timer)
    clearInterval(this.watchTimer)
  }

  /**
   * Pings the peer's connections every `watchIntervalMs` until the returned function is
   * called (once; watches of one peer nest). A gateway watches an orchestrator while a job
   * waits on it.
   */
  watch (peer: string): () => void {
    this.watched.set(peer, (this.watched.get(peer) ?? 0) + 1)
    let done = false
    return () => {
      if (done) return
      done = true
      const left = (this.watched.get(peer) ?? 1) - 1
      if (left <= 0) this.watched.delete(peer)
      else this.watched.set(peer, left)
    }
  }

  private heartbeat (watchedOnly = false): void {
    if (watchedOnly && this.watched.size === 0) return
    for (const conn of this.components.connectionManager.getConnections()) {
      if (conn.status !== 'open' || this.pending.has(conn)) continue
      if (watchedOnly && !this.watched.has(conn.remotePeer.toString())) continue
      this.pending.add(conn)
      void this.ping(conn).finally(() => { this.pending.delete(conn) })
    }
  }

  private async ping (conn: Connection): Promise<void> {
    // a timer of its own, cleared as soon as the ping settles, whose reason names the wait
    // in the miss reported; anySignal keeps it firing after a GC (nodejs/node#57736)
    const timeout = new AbortController()
    const timer = setTimeout(() => { timeout.abort(new DOMException(`no answer within ${this.timeoutMs} ms`, 'TimeoutError')) }, this.timeoutMs)
    timer.unref()
    try {
      await this.pingWithin(conn, anySignal([this.controller.signal, timeout.signal]))
    } finally {
      clearTimeout(timer)
    }
  }

  private async pingWithin (conn: Connection, signal: AbortSignal): Promise<void> {
    const muxer = pingableMuxer(conn)
    if (muxer !== undefined) {
      try {
        // no signal for the muxer: an aborted yamux ping makes its late pong a protocol error
        // that kills the connection; left pending, the next ping rides on it instead
        conn.rtt = await untilAborted(muxer.ping(), signal)
        this.answered(conn)
      } catch (err) {
        if (this.controller.signal.aborted || conn.status !== 'open') return
        this.miss(conn, err as Error)
      }
      return
    }
    let stream
    try {
      stream = await conn.newStream(MONITOR_PING_PROTOCOL, { signal, runOnLimitedConnection: true })
      const bs = byteStream(stream)
      const started = Date.now()
      await Promise.all([
        bs.write(crypto.getRandomValues(new Uint8Array(PING_LENGTH)), { signal }),
        bs.read({ bytes: PING_LENGTH, signal })
      ])
      conn.rtt = Date.now() - started
      await stream.close({ signal })
      this.answered(conn)
    } catch (err) {
      stream?.abort(err as Error)
      if (this.controller.signal.aborted || conn.status !== 'open') return
      // the peer ran multistream-select to refuse: it is alive
      if ((err as Error).name === 'UnsupportedProtocolError') { this.answered(conn); return }
      this.miss(conn, err as Error)
    }
  }

  private answered (conn: Connection): void {
    const was = this.missed.get(conn) ?? 0
    if (was === 0) return
    this.missed.delete(conn)
    this.emit('recovered', conn.remotePeer)
  }

  private miss (conn: Connection, err: Error): void {
    const count = (this.missed.get(conn) ?? 0) + 1
    this.missed.set(conn, count)
    const busy = this.isBusy(conn)
    const limit = busy ? this.maxMissedBusy : this.maxMissedIdle
    this.log('ping to %p missed (%d in a row, limit %d, busy %s): %s', conn.remotePeer, count, limit, busy, err.message)
    this.emit('missed', conn.remotePeer, count)
    if (count >= limit) {
      this.log.error('closing connection to %p after %d missed pings', conn.remotePeer, count)
      conn.abort(err)
    }
  }
}

/** A libp2p service factory, in place of libp2p's `connectionMonitor` (disable that one). */
export function shoalConnectionMonitor (init: ConnectionMonitorInit = {}): (components: ConnectionMonitorComponents) => ShoalConnectionMonitor {
  return (components) => new ShoalConnectionMonitor(components, init)
}
