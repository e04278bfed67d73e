import { join } from 'node:path'
import type { Registry } from 'prom-client'
import type { NodeOptions } from '../cli/options/node.js'
import type { PrivateKey } from '@libp2p/interface'
import { announcementGossip, type AnnouncementGossip } from '../discovery/gossip.js'
import { OrchestratorDirectory } from '../discovery/directory.js'
import { capabilityLookup, type CapabilityLookup } from '../discovery/lookup.js'
import { createDiscoveryMetrics, type DiscoveryMetrics } from '../discovery/metrics.js'
import { announcementScoreParams } from '../discovery/score.js'
import type { Logger } from '../observability/logger.js'
import { startPeerMaintenance, type PeerMaintenanceOptions } from '../p2p/peer-maintenance.js'
import { connectToMesh, createShoalNode, type AddressScope, type NodeRole, type ShoalLibp2p } from '../p2p/node.js'

export interface MeshOptions {
  role: NodeRole
  privateKey: PrivateKey
  listen: string[]
  announce?: string[]
  bootstrap: string[]
  datastorePath?: string
  addressScope?: AddressScope
  /** how many peers to keep connected through DHT walks */
  peerMaintenance?: PeerMaintenanceOptions
  /** announcement rate limit per origin peer */
  announcementRate?: { burst: number, perSecond: number }
  now?: () => number
}

/** Mesh options of a node run from the CLI: its listen/announce/bootstrap flags and a persistent datastore in its data dir. */
export function meshOptionsFor (node: NodeOptions, privateKey: PrivateKey): MeshOptions {
  return {
    role: node.role,
    privateKey,
    listen: node.listen,
    announce: node.announce,
    bootstrap: node.bootstrap,
    datastorePath: join(node.dataDir, 'datastore'),
    addressScope: node.addressScope
  }
}

/** The parts every role shares: the libp2p node, the directory, gossip validation and DHT/info lookups. */
export interface Mesh {
  node: ShoalLibp2p
  directory: OrchestratorDirectory
  gossip: AnnouncementGossip
  lookup: CapabilityLookup
  metrics: DiscoveryMetrics | null
  start: (options?: { signal?: AbortSignal }) => Promise<void>
  stop: () => Promise<void>
}

/**
 * Builds the mesh layer of a node. Every role validates and relays announcements, so
 * every role keeps a directory (a bootstrap's is just never used for routing).
 */
export async function createMesh (options: MeshOptions, deps: { logger: Logger, register: Registry | null }): Promise<Mesh> {
  const node = await createShoalNode({
    role: options.role,
    privateKey: options.privateKey,
    listen: options.listen,
    announce: options.announce,
    bootstrap: options.bootstrap,
    datastorePath: options.datastorePath,
    addressScope: options.addressScope,
    gossip: { scoreParams: announcementScoreParams() },
    logger: deps.logger
  })
  const metrics = deps.register === null ? null : createDiscoveryMetrics(deps.register)
  const directory = new OrchestratorDirectory({ now: options.now })
  const gossip = announcementGossip({ now: options.now, rate: options.announcementRate })({
    pubsub: node.services.pubsub,
    directory,
    logger: deps.logger,
    metrics
  })
  const lookup = capabilityLookup({ node, directory, logger: deps.logger, metrics })
  if (metrics !== null) {
    const update = (): void => { metrics.directoryEntries.set(directory.size) }
    directory.on('added', update).on('expired', update)
  }

  let maintenance: { stop: () => void } | undefined
  return {
    node,
    directory,
    gossip,
    lookup,
    metrics,
    async start (startOptions = {}) {
      await node.start()
      gossip.start()
      directory.start()
      await connectToMesh(node, options.bootstrap, { signal: startOptions.signal, logger: deps.logger })
      maintenance = startPeerMaintenance(node, deps.logger, options.peerMaintenance)
    },
    async stop () {
      maintenance?.stop()
      directory.stop()
      gossip.stop()
      await node.stop()
    }
  }
}
