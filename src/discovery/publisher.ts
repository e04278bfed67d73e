import { modelKey, type ModelKey } from '../kernel/model-key.js'
import { setMaxListeners } from 'node:events'
import type { ContentRouting, PeerId, PrivateKey } from '@libp2p/interface'
import type { Logger } from '../observability/logger.js'
import { ANNOUNCEMENT_VERSION, DEFAULT_ANNOUNCEMENT_TTL_MS, DEFAULT_LOAD_RELEASE_RATIO, DEFAULT_LOAD_SETTLE_MS, DEFAULT_MIN_LOAD_PUBLISH_INTERVAL_MS, DEFAULT_MIN_PUBLISH_INTERVAL_MS, DEFAULT_PROVIDE_DELAY_MS, DEFAULT_REPUBLISH_INTERVAL_MS, DEFAULT_WITHDRAW_LINGER_MS, DEFAULT_WITHDRAW_TIMEOUT_MS } from './constants.js'
import { signAnnouncement, type Announcement, type HardwareSummary, type ModelOffer, type OfferLoad, type SignedAnnouncement } from './announcement.js'
import { createEthBinding } from '../identity/binding.js'
import { capabilityKey, provideCapabilities } from './dht.js'
import type { AnnouncementGossip } from './gossip.js'
import { anySignal } from '../signals/any-signal.js'

export interface AnnouncementPublisherInit {
  ttlMs?: number
  republishIntervalMs?: number
  /** changes of what is offered within this window are coalesced into one announcement */
  minPublishIntervalMs?: number
  /** a change of coarse load alone is published at most this often */
  minLoadPublishIntervalMs?: number
  /** ... and only once the loads have not flipped for this long, so flapping around saturation publishes nothing */
  loadSettleMs?: number
  /** a saturated model is available again once at most this share of its slots is in use */
  loadReleaseRatio?: number
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
  /** what is served now with live slot use, read at every `update()` and publish */
  offers: () => LiveOffer[]
  hardware: HardwareSummary
  gossip: AnnouncementGossip
  /** DHT provider records for each capability; omitted, no DHT fallback */
  routing?: ContentRouting
  /** the TicketBroker holding this orchestrator's bond, claimed in every announcement (gateways check the amount on chain) */
  bondBroker?: string
  logger: Logger
}

/** An offer as the orchestrator knows it: live slots in use instead of the announced coarse load. */
export type LiveOffer = Omit<ModelOffer, 'load'> & { inUse: number }

export interface AnnouncementPublisher {
  start: () => Promise<void>
  stop: () => void
  /**
   * Something changed (slot taken or freed, model warmed, model added): publish if what
   * gossip carries changed: soon for offers, rate-limited for the coarse load, not at all
   * for slot counts alone. `addresses: true` when the addresses may have changed too:
   * otherwise those of the last look are compared (reading them costs libp2p an
   * address-manager pass and socket calls, too much for every slot of every job).
   */
  update: (changed?: { addresses?: boolean }) => void
  /** signs and publishes a withdrawal (no models, a newer seq), then stops; for a graceful stop */
  withdraw: (options?: { signal?: AbortSignal }) => Promise<void>
  /** the latest signed announcement, as served by /shoal/info */
  current: () => SignedAnnouncement | undefined
  /** resolves after the next publish completes; for tests and graceful shutdown */
  flush: () => Promise<void>
}

/**
 * Signs and publishes this orchestrator's announcement: at start, when what it offers
 * changes (coalesced), when a model's coarse load flips (rate-limited, with hysteresis),
 * periodically before it expires, and a withdrawal at a graceful stop. Slot counts never
 * trigger a publish: gossip costs every node of the mesh, so it must not follow jobs. Keeps DHT provider records for every
 * (pipeline) and (pipeline, model) it serves.
 */
export function announcementPublisher (init: AnnouncementPublisherInit = {}) {
  return (components: AnnouncementPublisherComponents): AnnouncementPublisher => {
    const now = init.now ?? Date.now
    const ttlMs = init.ttlMs ?? DEFAULT_ANNOUNCEMENT_TTL_MS
    const republishMs = init.republishIntervalMs ?? Math.min(DEFAULT_REPUBLISH_INTERVAL_MS, Math.floor(ttlMs / 3))
    const minIntervalMs = init.minPublishIntervalMs ?? DEFAULT_MIN_PUBLISH_INTERVAL_MS
    const minLoadIntervalMs = init.minLoadPublishIntervalMs ?? DEFAULT_MIN_LOAD_PUBLISH_INTERVAL_MS
    const releaseRatio = init.loadReleaseRatio ?? DEFAULT_LOAD_RELEASE_RATIO
    const settleMs = init.loadSettleMs ?? DEFAULT_LOAD_SETTLE_MS
    const provideDelayMs = init.provideDelayMs ?? DEFAULT_PROVIDE_DELAY_MS
    const { logger } = components
    const peerIdText = components.peerId.toString()

    let binding: { ethAddress: string, ethBinding: string } | undefined
    let current: SignedAnnouncement | undefined
    let seq = 0
    let lastPublishAt = 0
    let lastLoadPublishAt = 0
    /** when any model's coarse load last flipped */
    let lastFlipAt = 0
    /** coarse load per (pipeline, model), with hysteresis; updated on every `update()` */
    const loads = new Map<ModelKey, OfferLoad>()
    /** what the last announcement said: the slow part, and the loads */
    let publishedShape = ''
    let publishedLoads = ''
    let withdrawn = false
    let pending: NodeJS.Timeout | undefined
    let pendingAt = Infinity
    let periodic: NodeJS.Timeout | undefined
    let running = false
    let inFlight: Promise<void> = Promise.resolve()
    let providedKeys = ''
    let provideTimer: NodeJS.Timeout | undefined
    const controller = new AbortController()

    /** Coarse offers from live ones: saturated once every slot is taken, available again below the release ratio. */
    function coarse (live: LiveOffer[]): ModelOffer[] {
      const seen = new Set<ModelKey>()
      const out = live.map((o): ModelOffer => {
        const key = modelKey(o)
        seen.add(key)
        const was = loads.get(key) ?? 'available'
        const load: OfferLoad = o.capacity > 0 && o.inUse >= o.capacity
          ? 'saturated'
          : was === 'saturated' && o.inUse > Math.floor(o.capacity * releaseRatio) ? 'saturated' : 'available'
        if (load !== was) lastFlipAt = now()
        loads.set(key, load)
        // explicit fields: the schema refuses unknown ones, and inUse must not travel
        return { pipeline: o.pipeline, modelId: o.modelId, warm: o.warm, capacity: o.capacity, load, pricePerUnit: o.pricePerUnit, pixelsPerUnit: o.pixelsPerUnit, unit: o.unit, runnerVersion: o.runnerVersion, ...(o.description === undefined ? {} : { description: o.description }), ...(o.pricePerRequest === undefined ? {} : { pricePerRequest: o.pricePerRequest }), ...(o.streaming === true ? { streaming: true } : {}) }
      })
      for (const key of loads.keys()) if (!seen.has(key)) loads.delete(key)
      return out
    }

    const shapeOf = (offers: ModelOffer[], addresses: string[]): string =>
      JSON.stringify([addresses, offers.map(o => [o.pipeline, o.modelId, o.warm, o.capacity, o.pricePerUnit, o.pixelsPerUnit, o.runnerVersion, o.description ?? '', o.pricePerRequest ?? '', o.streaming === true])])
    const loadsOf = (offers: ModelOffer[]): string => offers.map(o => o.load).join(',')
    /** the addresses as last read: what `update()` compares when they were not said to change */
    let knownAddresses: string[] = []
    const addressesNow = (): string[] => (knownAddresses = components.addresses().slice(0, 16))

    async function publishNow (): Promise<void> {
      if (binding === undefined || withdrawn) return
      const timestamp = now()
      // sequence numbers must grow across restarts too: derive them from the clock
      seq = Math.max(seq + 1, timestamp * 1000)
      const offers = coarse(components.offers())
      const addresses = addressesNow()
      const loadsText = loadsOf(offers)
      if (loadsText !== publishedLoads) lastLoadPublishAt = timestamp
      publishedShape = shapeOf(offers, addresses)
      publishedLoads = loadsText
      const announcement: Announcement = {
        version: ANNOUNCEMENT_VERSION,
        peerId: peerIdText,
        addresses,
        ethAddress: binding.ethAddress,
        ethBinding: binding.ethBinding,
        seq,
        timestamp,
        expiresAt: timestamp + ttlMs,
        models: offers,
        hardware: components.hardware,
        withdrawn: false,
        ...(components.bondBroker !== undefined ? { bondBroker: components.bondBroker.toLowerCase() } : {})
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
        const signal = anySignal([controller.signal, AbortSignal.timeout(60_000)])
        // one provide query per key, each with listeners of its own on the signal
        setMaxListeners(Infinity, signal)
        provideCapabilities(routing, offers, { signal })
          .then(r => { logger.debug(r, 'capabilities provided on the DHT') })
          .catch(err => { logger.warn({ err: (err as Error).message }, 'DHT provide failed'); providedKeys = '' })
      }, provideDelayMs)
    }

    /** Looks again at `at` (ms since epoch), or sooner if already due sooner. */
    function evaluateAt (at: number): void {
      if (!running || withdrawn || at >= pendingAt) return
      clearTimeout(pending)
      pendingAt = at
      pending = setTimeout(() => {
        pending = undefined
        pendingAt = Infinity
        evaluate(true, true)
      }, Math.max(0, at - now()))
    }

    /**
     * Whether gossip has something to say: an offer change soon; a coarse load change
     * once it has settled and the last load announcement is old enough; slot counts
     * alone never (the /shoal/ai connection carries them).
     */
    function evaluate (fromTimer: boolean, readAddresses: boolean): void {
      if (!running || withdrawn || binding === undefined) return
      const offers = coarse(components.offers())
      let due: number | undefined
      if (shapeOf(offers, readAddresses ? addressesNow() : knownAddresses) !== publishedShape) {
        due = lastPublishAt + minIntervalMs
      } else if (loadsOf(offers) !== publishedLoads) {
        due = Math.max(lastPublishAt + minIntervalMs, lastLoadPublishAt + minLoadIntervalMs, lastFlipAt + settleMs)
      }
      if (due === undefined) return
      if (fromTimer && due <= now()) {
        inFlight = inFlight.then(publishNow)
        return
      }
      evaluateAt(due)
    }

    function schedule (changed?: { addresses?: boolean }): void {
      // a flip moves the due time later: the timer re-evaluates when it fires
      evaluate(false, changed?.addresses === true)
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
        pendingAt = Infinity
        clearTimeout(provideTimer)
        clearInterval(periodic)
      },
      update: schedule,
      async withdraw (options = {}) {
        if (binding === undefined || withdrawn) return
        running = false
        clearTimeout(pending)
        clearInterval(periodic)
        await inFlight.catch(() => {})
        withdrawn = true
        const timestamp = now()
        seq = Math.max(seq + 1, timestamp * 1000)
        const announcement: Announcement = {
          version: ANNOUNCEMENT_VERSION,
          peerId: peerIdText,
          addresses: addressesNow(),
          ethAddress: binding.ethAddress,
          ethBinding: binding.ethBinding,
          seq,
          timestamp,
          expiresAt: timestamp + ttlMs,
          models: [],
          hardware: components.hardware,
          withdrawn: true
        }
        // /shoal/info answers with the withdrawal from now on too
        current = await signAnnouncement(announcement, components.privateKey)
        const signal = anySignal([controller.signal, options.signal ?? AbortSignal.timeout(DEFAULT_WITHDRAW_TIMEOUT_MS)])
        try {
          await Promise.race([
            components.gossip.publish(current),
            new Promise((_resolve, reject) => { signal.addEventListener('abort', () => { reject(signal.reason) }, { once: true }) })
          ])
          logger.info({ seq }, 'announcement withdrawn')
          await new Promise<void>(resolve => {
            const timer = setTimeout(done, DEFAULT_WITHDRAW_LINGER_MS)
            function done (): void { clearTimeout(timer); signal.removeEventListener('abort', done); resolve() }
            signal.addEventListener('abort', done, { once: true })
          })
        } catch (err) {
          logger.warn({ err: (err as Error).message }, 'withdrawal publish failed')
        }
      },
      current: () => current,
      async flush () {
        await inFlight
      }
    }
  }
}
