import { TopicValidatorResult, type GossipSub, type Message } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import type { Logger } from '../observability/logger.js'
import { encodeSignedAnnouncement, type SignedAnnouncement } from './announcement.js'
import { ANNOUNCEMENT_TOPIC, DEFAULT_ANNOUNCEMENT_RATE } from './constants.js'
import type { OrchestratorDirectory } from './directory.js'
import type { DiscoveryMetrics } from './metrics.js'
import { validateAnnouncement, type AnnouncementValidationDeps } from './validation/announcement.js'
import { GossipAction, GossipValidationError } from './validation/errors.js'
import { PerPeerRateLimiter } from './validation/rate-limiter.js'

export interface AnnouncementGossipComponents {
  pubsub: GossipSub
  /** where accepted announcements go; orchestrators and bootstraps pass one too, so they relay only valid ones */
  directory: OrchestratorDirectory
  logger: Logger
  metrics: DiscoveryMetrics | null
}

export interface AnnouncementGossipInit {
  now?: () => number
  rate?: { burst: number, perSecond: number }
}

export interface AnnouncementGossip {
  start: () => void
  stop: () => void
  publish: (signed: SignedAnnouncement) => Promise<void>
}

/**
 * Subscribes to the announcement topic and validates every message before gossipsub
 * forwards it: the validator is the only adapter from Shoal's rules to
 * `TopicValidatorResult`, and counts results by code.
 */
export function announcementGossip (init: AnnouncementGossipInit = {}) {
  return (components: AnnouncementGossipComponents): AnnouncementGossip => {
    const now = init.now ?? Date.now
    const rate = init.rate ?? DEFAULT_ANNOUNCEMENT_RATE
    const deps: AnnouncementValidationDeps = {
      now,
      lastSeq: (peerId) => components.directory.lastSeq(peerId),
      rateLimiter: new PerPeerRateLimiter(rate.burst, rate.perSecond),
      verifiedBindings: new Set(),
      dialable: (addresses) => components.directory.isDialable(addresses)
    }
    const { pubsub, directory, logger, metrics } = components

    const validator = async (propagationSource: PeerId, message: Message): Promise<TopicValidatorResult> => {
      const from = message.type === 'signed' ? message.from.toString() : undefined
      try {
        const signed = await validateAnnouncement(deps, { from, data: message.data })
        directory.upsert(signed, 'gossip')
        metrics?.announcementsValidated.inc({ result: 'accept', code: 'OK' })
        return TopicValidatorResult.Accept
      } catch (err) {
        if (err instanceof GossipValidationError) {
          metrics?.announcementsValidated.inc({ result: err.action, code: err.code })
          logger.debug({ peer: propagationSource.toString(), origin: from, code: err.code, reason: err.message }, 'announcement refused')
          return err.action === GossipAction.REJECT ? TopicValidatorResult.Reject : TopicValidatorResult.Ignore
        }
        metrics?.announcementsValidated.inc({ result: 'ignore', code: 'INTERNAL' })
        logger.error({ err, peer: propagationSource.toString() }, 'announcement validator failed')
        return TopicValidatorResult.Ignore
      }
    }

    return {
      start () {
        pubsub.topicValidators.set(ANNOUNCEMENT_TOPIC, validator)
        pubsub.subscribe(ANNOUNCEMENT_TOPIC)
      },
      stop () {
        pubsub.unsubscribe(ANNOUNCEMENT_TOPIC)
        pubsub.topicValidators.delete(ANNOUNCEMENT_TOPIC)
      },
      async publish (signed) {
        await pubsub.publish(ANNOUNCEMENT_TOPIC, encodeSignedAnnouncement(signed))
        metrics?.announcementsPublished.inc()
      }
    }
  }
}
