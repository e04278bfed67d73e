import { randomBytes } from 'node:crypto'
import { setMaxListeners } from 'node:events'
import type { Logger } from '../observability/logger.js'
import type { ShoalLibp2p } from './node.js'
import { anySignal } from '../signals/any-signal.js'

export interface PeerMaintenanceOptions {
  /** below this many connections, look for more peers @default 8 */
  minPeers?: number
  /** how often to check @default 10_000 */
  intervalMs?: number
  /** how soon to look again while still below `minPeers` @default 2_000 */
  retryMs?: number
  /**
   * while walks find nobody new (a mesh smaller than `minPeers`), the wait doubles from
   * `retryMs` up to this @default 60_000
   */
  maxRetryMs?: number
  /**
   * For this long after start an empty walk is retried after `retryMs`, without backing
   * off: a node joining a mesh that forms with it walks before its bootstrap's routing
   * table fills (seconds, as peers are identified), and with the back-off it stayed on
   * the bootstrap alone for 30 s and more, outside the gossip mesh @default 30_000
   */
  joinPhaseMs?: number
  /** first check after start @default 500 */
  firstCheckMs?: number
  /** budget of one DHT walk @default 5_000 */
  walkTimeoutMs?: number
  /**
   * How an isolated node (no connection left: every peer closed, a partition, a restart of
   * the bootstrap) gets back into the mesh, usually by dialling its bootstrap list and
   * remembered peers; returns how many it reached. Without it an isolated node stays
   * isolated: a DHT walk needs at least one peer.
   */
  rejoin?: (signal: AbortSignal) => Promise<number>
}

/**
 * Keeps a node connected to enough peers for gossipsub to build a real mesh: a node
 * that only knows its bootstrap would hear announcements second-hand (lazy gossip at
 * heartbeats) or not at all in a large mesh. When connections fall below `minPeers`, a
 * random DHT walk finds peers and the node dials some of them. libp2p 3 does no
 * auto-dialling of its own.
 */
export function startPeerMaintenance (node: ShoalLibp2p, logger: Logger, options: PeerMaintenanceOptions = {}): { stop: () => void } {
  const minPeers = options.minPeers ?? 8
  const controller = new AbortController()
  let running = false

  const retryMs = options.retryMs ?? 2_000
  const maxRetryMs = Math.max(retryMs, options.maxRetryMs ?? 60_000)
  const intervalMs = options.intervalMs ?? 10_000
  const joinPhaseEnds = performance.now() + (options.joinPhaseMs ?? 30_000)
  let retryDelay = retryMs

  /** The budget of one walk or rejoin; the walk and the dials each listen on it. */
  const attemptSignal = (): AbortSignal => {
    const signal = anySignal([controller.signal, AbortSignal.timeout(options.walkTimeoutMs ?? 5_000)])
    setMaxListeners(Infinity, signal)
    return signal
  }

  /** One walk when below target; how many new peers it dialled (-1: no walk). */
  const check = async (): Promise<number> => {
    if (running || controller.signal.aborted) return -1
    const connected = new Set(node.getConnections().map(c => c.remotePeer.toString()))
    if (connected.size >= minPeers) return -1
    if (connected.size === 0) return await rejoin()
    running = true
    try {
      const signal = attemptSignal()
      const found: Array<{ id: Parameters<ShoalLibp2p['dial']>[0] }> = []
      for await (const peer of node.peerRouting.getClosestPeers(randomBytes(32), { signal })) {
        const id = peer.id.toString()
        if (id === node.peerId.toString() || connected.has(id)) continue
        connected.add(id)
        found.push({ id: peer.id })
        if (connected.size >= minPeers) break
      }
      await Promise.allSettled(found.map(async p => await node.dial(p.id, { signal })))
      logger.debug({ dialled: found.length, connections: node.getConnections().length }, 'peer maintenance')
      return found.length
    } catch (err) {
      if (!controller.signal.aborted) logger.debug({ err: (err as Error).message }, 'peer maintenance walk failed')
      return 0
    } finally {
      running = false
    }
  }

  /** Dials the bootstrap list again when nothing is connected; -1 when there is no way to. */
  const rejoin = async (): Promise<number> => {
    if (options.rejoin === undefined || running) return -1
    running = true
    try {
      const signal = attemptSignal()
      const reached = await options.rejoin(signal)
      logger.info({ reached }, 'no peer left: dialled the bootstrap list again')
      return reached
    } catch (err) {
      if (!controller.signal.aborted) logger.debug({ err: (err as Error).message }, 'rejoining the mesh failed')
      return 0
    } finally {
      running = false
    }
  }

  // while under target, look again soon, and less and less often while walks find nobody
  // new (every node of a small mesh walking every 2 s costs each of them ~2% of a core);
  // once there, check now and then
  let timer: NodeJS.Timeout | undefined
  const schedule = (delay: number): void => {
    timer = setTimeout(() => {
      void check().then((dialled) => {
        if (controller.signal.aborted) return
        if (node.getConnections().length >= minPeers) {
          retryDelay = retryMs
          schedule(intervalMs)
          return
        }
        retryDelay = dialled > 0 || performance.now() < joinPhaseEnds ? retryMs : Math.min(retryDelay * 2, maxRetryMs)
        // no walk (no connection and no way to rejoin): look again soon, the first connection
        // may come any moment; a rejoin that reached nobody backs off like an empty walk
        schedule(dialled === -1 ? retryMs : retryDelay)
      })
    }, delay)
    timer.unref()
  }
  schedule(options.firstCheckMs ?? 500)
  return {
    stop () {
      controller.abort()
      clearTimeout(timer)
    }
  }
}
