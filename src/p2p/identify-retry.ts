import type { Connection } from '@libp2p/interface'
import type { Logger } from '../observability/logger.js'
import type { ShoalLibp2p } from './node.js'
import { anySignal } from '../signals/any-signal.js'

export interface IdentifyRetryOptions {
  /** how often connections are checked @default 10_000 */
  intervalMs?: number
  /** a connection younger than this is left to the identify run at open @default 10_000 */
  graceMs?: number
  /** identify attempts per connection before giving up on it @default 3 */
  maxRetries?: number
  /** budget of one identify @default 15_000 */
  timeoutMs?: number
}

const GOSSIPSUB_PROTOCOL_PREFIX = '/meshsub/'

/**
 * Repairs connections that gossip never started on. libp2p tells gossipsub about a peer
 * only when identify completes on a connection; identify runs once, at open, with a
 * deadline, and is not retried. Under event-loop lag it times out, and the connection
 * then carries DHT and job traffic but no gossip in either direction: in a loaded one-host
 * mesh of 32 orchestrators the gateway held 9 connections and gossiped on 3. Here a
 * connection older than `graceMs` whose peer gossipsub does not know is identified again
 * (which notifies gossipsub); if the peer speaks gossipsub and is still unknown after
 * `maxRetries`, the connection is closed so the next one starts clean.
 */
export function startIdentifyRetry (node: ShoalLibp2p, logger: Logger, options: IdentifyRetryOptions = {}): { stop: () => void } {
  const intervalMs = options.intervalMs ?? 10_000
  const graceMs = options.graceMs ?? 10_000
  const maxRetries = options.maxRetries ?? 3
  const timeoutMs = options.timeoutMs ?? 15_000
  const controller = new AbortController()
  const tries = new WeakMap<Connection, number>()
  let running = false

  const speaksGossip = async (conn: Connection): Promise<boolean> => {
    const peer = await node.peerStore.get(conn.remotePeer, { signal: controller.signal }).catch(() => undefined)
    return peer?.protocols.some(p => p.startsWith(GOSSIPSUB_PROTOCOL_PREFIX)) === true
  }

  const check = async (): Promise<void> => {
    const gossiping = new Set(node.services.pubsub.getPeers().map(p => p.toString()))
    const now = Date.now()
    // gossip never runs on a relayed (limited) connection: it is not stale for lacking it
    const stale = node.getConnections().filter(conn =>
      conn.status === 'open' && conn.limits == null && now - conn.timeline.open >= graceMs && !gossiping.has(conn.remotePeer.toString()))
    for (const conn of stale) {
      if (controller.signal.aborted) return
      const attempts = tries.get(conn) ?? 0
      if (attempts >= maxRetries) {
        if (attempts === maxRetries && await speaksGossip(conn)) {
          logger.info({ peer: conn.remotePeer.toString(), attempts }, 'gossip never started on this connection: closing it')
          await conn.close({ signal: AbortSignal.timeout(timeoutMs) }).catch((err: Error) => { conn.abort(err) })
        }
        tries.set(conn, attempts + 1)
        continue
      }
      tries.set(conn, attempts + 1)
      try {
        await node.services.identify.identify(conn, { signal: anySignal([controller.signal, AbortSignal.timeout(timeoutMs)]) })
        logger.debug({ peer: conn.remotePeer.toString(), attempt: attempts + 1 }, 'identified a connection again')
      } catch (err) {
        logger.debug({ peer: conn.remotePeer.toString(), attempt: attempts + 1, err: (err as Error).message }, 'identify retry failed')
      }
    }
  }

  const timer = setInterval(() => {
    if (running) return
    running = true
    void check().finally(() => { running = false })
  }, intervalMs)
  timer.unref()
  return {
    stop () {
      controller.abort()
      clearInterval(timer)
    }
  }
}
