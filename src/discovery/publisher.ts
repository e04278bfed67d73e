import { setMaxListeners } from 'node:events'
import type { ContentRouting, PeerId, PrivateKey } from '@libp2p/interface'
import type { Logger } from '../observability/logger.js'
import { ANNOUNCEMENT_VERSION, DEFAULT_ANNOUNCEMENT_TTL_MS, DEFAULT_MIN_PUBLISH_INTERVAL_MS, DEFAULT_PROVIDE_DELAY_MS, DEFAULT_REPUBLISH_INTERVAL_MS } from './constants.js'
import { createEthBinding, signAnnouncement, type Announcement, type HardwareSummary, type ModelOffer, type SignedAnnouncement } from './announcement.js'
import { capabilityKey, provideCapabilities } from './dht.js'
import type { AnnouncementGossip } from './gossip.js'

export interface AnnouncementPublisherInit {
  ttlMs?: number
  republishIntervalMs?: number
  /** changes within this window are coalesced into one announcement */
  minPublishIntervalMs?: number
  /**
   * DHT provider records go out this long after an announcement that changed them: gossip
   * is the fast path, the DHT the fallback, and a provide query should not compete with
   * the first announcement's propagation.
   */
  provideDelayMs?: number
  now?: () => number
}

export interface AnnouncementPublisherComponents {
  privateKey: PrivateKey
  peerId: PeerId
  ethPrivateKey: string
  /** the addresses peers should dial, read at every publish */
  addresses: () => string[]
  /** what is served now, read at every publish */
  offers: () => ModelOffer[]
  hardware: HardwareSummary
  gossip: AnnouncementGossip
  /** DHT provider records for each capability; omitted, no DHT fallback */
  routing?: ContentRouting
  logger: Logger
}

export interface AnnouncementPublisher {
  start: () => Promise<void>
  stop: () => void
  /** something changed (slot taken or freed, model warmed): publish soon */
  update: () => void
  /** the latest signed announcement, as served by /shoal/info */
  current: () => SignedAnnouncement | undefined
  /** resolves after the next publish completes; for tests and graceful shutdown */
  flush: () => Promise<void>
}

/**
 * Signs and publishes this orchestrator's announcement: at start, on every change
 * (coalesced), and periodically before it expires. Keeps DHT provider records for every
 * (pipeline) and (pipeline, model) it serves.
 */
export function announcementPublisher (init: AnnouncementPublisherInit = {}) {
  return (components: AnnouncementPublisherComponents): AnnouncementPublisher => {
    const now = init.now ?? Date.now
    const ttlMs = init.ttlMs ?? DEFAULT_ANNOUNCEMENT_TTL_MS
    const republishMs = init.republishIntervalMs ?? Math.min(DEFAULT_REPUBLISH_INTERVAL_MS, Math.floor(ttlMs / 3))
    const minIntervalMs = init.minPublishIntervalMs ?? DEFAULT_MIN_PUBLISH_INTERVAL_MS
    const provideDelayMs = init.provideDelayMs ?? DEFAULT_PROVIDE_DELAY_MS
    const { logger } = components
    const peerIdText = components.peerId.toString()

    let binding: { ethAddress: string, ethBinding: string } | undefined
    let current: SignedAnnouncement | undefined
    let seq = 0
    let lastPublishAt = 0
    let pending: NodeJS.Timeout | undefined
    let periodic: NodeJS.Timeout | undefined
    let running = false
    let inFlight: Promise<void> = Promise.resolve()
    let providedKeys = ''
    let provideTimer: NodeJS.Timeout | undefined
    const controller = new AbortController()

    async function publishNow (): Promise<void> {
      if (binding === undefined) return
      const timestamp = now()
      // sequence numbers must grow across restarts too: derive them from the clock
      seq = Math.max(seq + 1, timestamp * 1000)
      const offers = components.offers()
      const announcement: Announcement = {
        version: ANNOUNCEMENT_VERSION,
        peerId: peerIdText,
        addresses: components.addresses().slice(0, 16),
        ethAddress: binding.ethAddress,
        ethBinding: binding.ethBinding,
        seq,
        timestamp,
        expiresAt: timestamp + ttlMs,
        models: offers,
        hardware: components.hardware
      }
      current = await signAnnouncement(announcement, components.privateKey)
      lastPublishAt = timestamp
      try {
        await components.gossip.publish(current)
        logger.debug({ seq, models: offers.length }, 'announcement published')
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'announcement publish failed')
      }
      reprovideIfChanged(offers)
    }

    function reprovideIfChanged (offers: ModelOffer[]): void {
      if (components.routing === undefined) return
      const keys = [...new Set(offers.flatMap(o => [capabilityKey(o.pipeline), capabilityKey(o.pipeline, o.modelId)]))].sort().join('\n')
      if (keys === providedKeys) return
      providedKeys = keys
      const routing = components.routing
      clearTimeout(provideTimer)
      provideTimer = setTimeout(() => {
        const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(60_000)])
        // one provide query per key, each with listeners of its own on the signal
        setMaxListeners(Infinity, signal)
        provideCapabilities(routing, offers, { signal })
          .then(r => { logger.debug(r, 'capabilities provided on the DHT') })
          .catch(err => { logger.warn({ err: (err as Error).message }, 'DHT provide failed'); providedKeys = '' })
      }, provideDelayMs)
    }

    function schedule (): void {
      if (!running || pending !== undefined) return
      const wait = Math.max(0, lastPublishAt + minIntervalMs - now())
      pending = setTimeout(() => {
        pending = undefined
        inFlight = inFlight.then(publishNow)
      }, wait)
    }

    return {
      async start () {
        running = true
        binding = await createEthBinding(peerIdText, components.ethPrivateKey)
        inFlight = publishNow()
        await inFlight
        periodic = setInterval(() => { inFlight = inFlight.then(publishNow) }, republishMs)
      },
      stop () {
        running = false
        controller.abort()
        clearTimeout(pending)
        clearTimeout(provideTimer)
        clearInterval(periodic)
      },
      update: schedule,
      current: () => current,
      async flush () {
        await inFlight
      }
    }
  }
}
