import type { PeerId } from '@libp2p/interface'
import type { Logger } from '../observability/logger.js'
import type { ShoalLibp2p } from '../p2p/node.js'
import { INFO_PROTOCOL } from '../protocols/info/index.js'
import { DEFAULT_REACHABILITY } from './constants.js'
import type { OrchestratorDirectory } from './directory.js'
import type { CapabilityLookup } from './lookup.js'
import { anySignal } from '../signals/any-signal.js'

export interface ReachabilityComponents {
  node: Pick<ShoalLibp2p, 'addEventListener' | 'removeEventListener' | 'services'>
  directory: OrchestratorDirectory
  lookup: Pick<CapabilityLookup, 'queryPeer'>
  logger: Logger
}

export interface ReachabilityInit {
  /** /shoal/info queries running at once; more connections wait their turn */
  maxConcurrentQueries?: number
  /** peers waiting for a query; beyond this new ones are dropped (gossip still brings them) */
  maxQueuedQueries?: number
  queryTimeoutMs?: number
}

/**
 * Keeps the directory's view of who can be reached in step with the node's
 * connections, so a dead peer leaves the candidates in seconds and a healed one comes
 * back in seconds, instead of waiting for announcements to expire or be republished:
 * - the last connection to a peer closes, or a ping to it is missed: unreachable;
 * - a ping is answered again: reachable;
 * - a connection opens to a peer that speaks /shoal/info (known or not): its current
 *   announcement is queried at once, which lists it, or refreshes and marks it reachable.
 */
export function trackReachability (components: ReachabilityComponents, init: ReachabilityInit = {}): { start: () => void, stop: () => void } {
  const { node, directory, lookup, logger } = components
  const maxConcurrent = init.maxConcurrentQueries ?? DEFAULT_REACHABILITY.maxConcurrentQueries
  const maxQueued = init.maxQueuedQueries ?? DEFAULT_REACHABILITY.maxQueuedQueries
  const timeoutMs = init.queryTimeoutMs ?? DEFAULT_REACHABILITY.queryTimeoutMs
  const controller = new AbortController()
  const queued = new Map<string, PeerId>()
  const running = new Set<string>()

  const pump = (): void => {
    while (running.size < maxConcurrent && queued.size > 0 && !controller.signal.aborted) {
      const [id, peer] = queued.entries().next().value as [string, PeerId]
      queued.delete(id)
      running.add(id)
      const signal = anySignal([controller.signal, AbortSignal.timeout(timeoutMs)])
      void lookup.queryPeer(peer, 'info', { signal })
        .then((ok) => { logger.debug({ peer: id, ok }, 'queried a newly connected peer') })
        .finally(() => { running.delete(id); pump() })
    }
  }

  const onIdentify = (evt: CustomEvent<{ peerId: PeerId, protocols: string[] }>): void => {
    if (!evt.detail.protocols.includes(INFO_PROTOCOL)) return
    const id = evt.detail.peerId.toString()
    if (running.has(id) || queued.has(id)) return
    if (queued.size >= maxQueued) return
    queued.set(id, evt.detail.peerId)
    pump()
  }
  const onDisconnect = (evt: CustomEvent<PeerId>): void => {
    const id = evt.detail.toString()
    if (directory.has(id)) logger.info({ peer: id }, 'connection to orchestrator closed: not a candidate until heard from again')
    directory.markUnreachable(id)
  }
  const onMissed = (peer: PeerId, count: number): void => {
    const id = peer.toString()
    if (count === 1 && directory.isReachable(id)) logger.info({ peer: id }, 'ping to orchestrator missed: not a candidate until it answers')
    directory.markUnreachable(id)
  }
  const onRecovered = (peer: PeerId): void => { directory.markReachable(peer.toString()) }

  return {
    start () {
      node.addEventListener('peer:identify', onIdentify)
      node.addEventListener('peer:disconnect', onDisconnect)
      node.services.monitor.on('missed', onMissed)
      node.services.monitor.on('recovered', onRecovered)
    },
    stop () {
      controller.abort()
      queued.clear()
      node.removeEventListener('peer:identify', onIdentify)
      node.removeEventListener('peer:disconnect', onDisconnect)
      node.services.monitor.off('missed', onMissed)
      node.services.monitor.off('recovered', onRecovered)
    }
  }
}
