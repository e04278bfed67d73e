import type { AbortOptions, PeerId } from '@libp2p/interface'
import type { PipelineName } from '../kernel/pipelines.js'
import type { Logger } from '../observability/logger.js'
import { queryInfo } from '../protocols/info/index.js'
import type { ShoalLibp2p } from '../p2p/node.js'
import { DEFAULT_ANNOUNCEMENT_RATE } from './constants.js'
import { findCapabilityProviders } from './dht.js'
import type { DirectorySource, OrchestratorDirectory } from './directory.js'
import type { DiscoveryMetrics } from './metrics.js'
import { validateAnnouncement, type AnnouncementValidationDeps } from './validation/announcement.js'
import { PerPeerRateLimiter } from './validation/rate-limiter.js'

export interface CapabilityLookupComponents {
  node: Pick<ShoalLibp2p, 'dialProtocol' | 'contentRouting'>
  directory: OrchestratorDirectory
  logger: Logger
  metrics: DiscoveryMetrics | null
}

export interface CapabilityLookup {
  /** Asks one peer directly for its announcement and adds it to the directory. */
  queryPeer: (peer: PeerId, source: DirectorySource, options?: AbortOptions) => Promise<boolean>
  /** Finds providers of a capability on the DHT, queries each, adds what validates. Returns how many were added. */
  lookup: (pipeline: PipelineName, modelId: string | undefined, options: AbortOptions) => Promise<number>
}

/**
 * The gateway's fallback when gossip has no fresh candidate: DHT provider records lead
 * to peers, whose announcements come over /shoal/info and pass the same validation as
 * gossip (with the queried peer as the required signer).
 */
export function capabilityLookup (components: CapabilityLookupComponents): CapabilityLookup {
  const { node, directory, logger, metrics } = components
  const deps: AnnouncementValidationDeps = {
    now: Date.now,
    // the directory itself drops anything not newer than what it holds; an equal seq here is not an attack
    lastSeq: () => undefined,
    rateLimiter: new PerPeerRateLimiter(DEFAULT_ANNOUNCEMENT_RATE.burst, DEFAULT_ANNOUNCEMENT_RATE.perSecond),
    verifiedBindings: new Set(),
    dialable: (addresses) => directory.isDialable(addresses)
  }

  async function queryPeer (peer: PeerId, source: DirectorySource, options: AbortOptions = {}): Promise<boolean> {
    try {
      const bytes = await queryInfo(node, peer, options)
      const signed = await validateAnnouncement(deps, { from: peer.toString(), data: bytes })
      directory.upsert(signed, source)
      // it answered: whatever its seq, it is reachable now
      directory.markReachable(peer.toString())
      metrics?.infoQueries.inc({ result: 'ok' })
      return true
    } catch (err) {
      metrics?.infoQueries.inc({ result: 'error' })
      logger.debug({ peer: peer.toString(), err: (err as Error).message }, 'info query refused')
      return false
    }
  }

  return {
    queryPeer,
    async lookup (pipeline, modelId, options) {
      let providers
      try {
        providers = await findCapabilityProviders(node.contentRouting, pipeline, modelId, options)
        metrics?.dhtLookups.inc({ result: providers.length > 0 ? 'found' : 'empty' })
      } catch (err) {
        metrics?.dhtLookups.inc({ result: 'error' })
        logger.debug({ pipeline, modelId, err: (err as Error).message }, 'DHT lookup failed')
        return 0
      }
      const added = await Promise.all(providers.map(async p => await queryPeer(p.id, 'dht', options)))
      return added.filter(Boolean).length
    }
  }
}
