import { join } from 'node:path'
import type { Registry } from 'prom-client'
import type { NodeConfig } from './config.js'
import type { PrivateKey } from '@libp2p/interface'
import { announcementGossip, type AnnouncementGossip } from '../discovery/gossip.js'
import { OrchestratorDirectory, type DirectoryOptions } from '../discovery/directory.js'
import { trackReachability } from '../discovery/reachability.js'
import { capabilityLookup, type CapabilityLookup } from '../discovery/lookup.js'
import { createDiscoveryMetrics, type DiscoveryMetrics } from '../discovery/metrics.js'
import { announcementScoreParams } from '../discovery/score.js'
import type { Logger } from '../observability/logger.js'
import { startPeerMaintenance, type PeerMaintenanceOptions } from '../p2p/peer-maintenance.js'
import { startIdentifyRetry, type IdentifyRetryOptions } from '../p2p/identify-retry.js'
import type { ConnectionMonitorInit } from '../p2p/connection-monitor.js'
import { connectToMesh, createShoalNode, transportsFor, type AddressScope, type DirectTransport, type NodeRole, type ShoalLibp2p } from '../p2p/node.js'
import { createRelayMetrics, type RelayServerOptions } from '../p2p/relay.js'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'

export interface MeshOptions {
  role: NodeRole
  privateKey: PrivateKey
  listen: string[]
  announce?: string[]
  bootstrap: string[]
  datastorePath?: string
  addressScope?: AddressScope
  /** act as a circuit relay with these limits (p2p/relay.ts) @default off */
  relayServer?: Partial<RelayServerOptions> | false
  /** dialled first when a peer offers TCP and QUIC */
  preferredTransport?: DirectTransport
  /** how many peers to keep connected through DHT walks */
  peerMaintenance?: PeerMaintenanceOptions
  /** re-identify connections gossip never started on */
  identifyRetry?: IdentifyRetryOptions
  /** announcement rate limit per origin peer */
  announcementRate?: { burst: number, perSecond: number }
  /** directory caps (entries, per host) */
  directory?: Omit<DirectoryOptions, 'now' | 'transports'>
  /**
   * follow connections (closes, missed pings, new connections) to keep the directory's
   * reachability current @default true for gateways
   */
  trackReachability?: boolean
  monitor?: ConnectionMonitorInit
  /** gossipsub heartbeat, ms @default DEFAULT_GOSSIP_HEARTBEAT_MS */
  gossipHeartbeatMs?: number
  now?: () => number
}

/** Mesh options of a node run from the CLI: its listen/announce/bootstrap flags and a persistent datastore in its data dir. */
export function meshOptionsFor (node: NodeConfig, privateKey: PrivateKey): MeshOptions {
  return {
    role: node.role,
    privateKey,
    listen: node.listen,
    announce: node.announce,
    bootstrap: node.bootstrap,
    datastorePath: join(node.dataDir, 'datastore'),
    addressScope: node.addressScope,
    relayServer: node.relayServer,
    preferredTransport: node.preferredTransport,
    ...(node.monitorIntervalMs === undefined ? {} : { monitor: { intervalMs: node.monitorIntervalMs } }),
    ...(node.gossipHeartbeatMs === undefined ? {} : { gossipHeartbeatMs: node.gossipHeartbeatMs })
  }
}

/**
 * Puts the addresses an orchestrator signed in its announcement into the peer store, so
 * that a dial by peer id finds them, its relayed address included: a gateway hears of an
 * orchestrator behind NAT only through gossip, and has no other way to learn where its relay is.
 */
function rememberAnnouncedAddresses (node: ShoalLibp2p, directory: OrchestratorDirectory, logger: Logger): void {
  const known = new Map<string, string>()
  const remember = (entry: { peerId: string, announcement: { addresses: string[] } }): void => {
    const text = entry.announcement.addresses.join(' ')
    if (known.get(entry.peerId) === text) return
    known.set(entry.peerId, text)
    let peer
    try {
      peer = peerIdFromString(entry.peerId)
    } catch {
      return
    }
    const multiaddrs = entry.announcement.addresses.flatMap(a => { try { return [multiaddr(a)] } catch { return [] } })
    node.peerStore.merge(peer, { multiaddrs }).catch((err: Error) => {
      logger.debug({ peer: entry.peerId, err: err.message }, 'could not store announced addresses')
    })
  }
  directory.on('added', remember).on('updated', remember)
  directory.on('removed', (peer) => { known.delete(peer) })
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
    relayServer: options.relayServer,
    preferredTransport: options.preferredTransport,
    gossip: { scoreParams: announcementScoreParams(), ...(options.gossipHeartbeatMs === undefined ? {} : { heartbeatInterval: options.gossipHeartbeatMs }) },
    monitor: options.monitor,
    logger: deps.logger
  })
  const metrics = deps.register === null ? null : createDiscoveryMetrics(deps.register)
  const directory = new OrchestratorDirectory({ ...options.directory, now: options.now, transports: transportsFor(options.listen) })
  const gossip = announcementGossip({ now: options.now, rate: options.announcementRate })({
    pubsub: node.services.pubsub,
    directory,
    logger: deps.logger,
    metrics
  })
  const lookup = capabilityLookup({ node, directory, logger: deps.logger, metrics })
  if (metrics !== null) {
    const update = (): void => { metrics.directoryEntries.set(directory.size) }
    directory.on('added', update).on('removed', update)
    directory.on('removed', (_peer, reason) => { metrics.directoryRemovals.inc({ reason }) })
    directory.on('refused', (_peer, reason) => { metrics.directoryRefusals.inc({ reason }) })
    directory.on('reachability', (_peer, reachable) => { if (!reachable) metrics.directoryUnreachable.inc() })
  }
  directory.on('withdrawn', (peer) => { deps.logger.info({ peer }, 'orchestrator withdrew') })
  if (deps.register !== null) createRelayMetrics(deps.register, node)
  rememberAnnouncedAddresses(node, directory, deps.logger)
  const reachability = (options.trackReachability ?? options.role === 'gateway')
    ? trackReachability({ node, directory, lookup, logger: deps.logger })
    : undefined

  let maintenance: { stop: () => void } | undefined
  let identifyRetry: { stop: () => void } | undefined
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
      reachability?.start()
      await connectToMesh(node, options.bootstrap, { signal: startOptions.signal, logger: deps.logger })
      maintenance = startPeerMaintenance(node, deps.logger, {
        rejoin: async (signal) => await connectToMesh(node, options.bootstrap, { signal, logger: deps.logger }),
        ...options.peerMaintenance
      })
      identifyRetry = startIdentifyRetry(node, deps.logger, options.identifyRetry)
    },
    async stop () {
      maintenance?.stop()
      identifyRetry?.stop()
      reachability?.stop()
      directory.stop()
      gossip.stop()
      await node.stop()
    }
  }
}
