import { noise } from '@chainsafe/libp2p-noise'
import { quic } from '@chainsafe/libp2p-quic'
import { yamux } from '@chainsafe/libp2p-yamux'
import { bootstrap } from '@libp2p/bootstrap'
import { gossipsub, type GossipSub, type GossipSubComponents, type GossipsubOpts } from '@libp2p/gossipsub'
import type { RPC } from '@libp2p/gossipsub/message'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper, removePublicAddressesMapper, removePrivateAddressesMapper, type KadDHT } from '@libp2p/kad-dht'
import { memory } from '@libp2p/memory'
import { ping, type Ping } from '@libp2p/ping'
import { tcp, type TCPOptions } from '@libp2p/tcp'
import type { Identify } from '@libp2p/identify'
import { isPeerId, type Address, type Libp2p, type PrivateKey, type PeerInfo } from '@libp2p/interface'
import { circuitRelayAddressesLast, loopbackAddressLast, publicAddressesFirst, reliableTransportsFirst } from '@libp2p/utils'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { LevelDatastore } from 'datastore-level'
import { createLibp2p } from 'libp2p'
import type { Logger } from '../observability/logger.js'
import { DEFAULT_INBOUND_CONNECTION_THRESHOLD, LOOPBACK_ALLOW_LIST, DEFAULT_MAX_CONNECTIONS, DEFAULT_REDIAL_KNOWN_PEERS, DHT_PROTOCOL, IDENTIFY_TIMEOUT_MS, PING_MAX_STREAMS, TCP_SOCKET_HIGH_WATER_MARK } from './constants.js'
import { shoalNoiseCrypto } from './noise-crypto.js'
import { shoalConnectionMonitor, type ConnectionMonitorInit, type ShoalConnectionMonitor } from './connection-monitor.js'
import { addressTarget, type TransportKind } from './addresses.js'
import { listensThroughRelay, relayServer, relayTransport, type RelayServerOptions } from './relay.js'

export type NodeRole = 'bootstrap' | 'orchestrator' | 'gateway' | 'worker'

/** The gossipsub service as it is at run time: the interface lacks the mesh and score accessors we use. */
export type ShoalPubSub = GossipSub & {
  getMeshPeers: (topic: string) => string[]
  getScore: (peerId: string) => number
}

export interface ShoalServices {
  identify: Identify
  ping: Ping
  dht: KadDHT
  pubsub: ShoalPubSub
  monitor: ShoalConnectionMonitor
  [key: string]: unknown
}

export type ShoalLibp2p = Libp2p<ShoalServices>

/** Which addresses the DHT keeps for peers: public only on the internet, private on LANs and loopback. */
export type AddressScope = 'public' | 'private' | 'all'

export interface ShoalNodeOptions {
  role: NodeRole
  privateKey: PrivateKey
  /** multiaddrs to listen on, e.g. /ip4/0.0.0.0/tcp/4001 or /memory/name */
  listen: string[]
  /** multiaddrs to announce instead of the listen addresses (for NAT, containers) */
  announce?: string[]
  /** bootstrap peers as multiaddrs with /p2p/<peerId> */
  bootstrap?: string[]
  /** a directory for the persistent datastore; omitted, peers and DHT records live in memory */
  datastorePath?: string
  /** @default 'private' (a LAN or loopback mesh) */
  addressScope?: AddressScope
  /** DHT server mode; @default true for bootstrap and orchestrator, false otherwise */
  dhtServer?: boolean
  maxConnections?: number
  /** new inbound connections per second from one IP; more are reset at accept @default 5 */
  inboundConnectionThreshold?: number
  /** loopback peers skip the inbound threshold and the connection cap @default true */
  allowLoopbackUnlimited?: boolean
  /** gossipsub overrides, e.g. score params for announcement topics */
  gossip?: Partial<GossipsubOpts>
  /**
   * act as a circuit relay for nodes behind NAT, with these limits over the defaults
   * (relay.ts); a node behind NAT instead listens on `/p2p-circuit` @default off
   */
  relayServer?: Partial<RelayServerOptions> | false
  /** the transport dialled first when a peer has TCP and QUIC addresses @default DEFAULT_PREFERRED_TRANSPORT */
  preferredTransport?: DirectTransport
  /** connection monitor overrides (tests) */
  monitor?: ConnectionMonitorInit
  logger?: Logger
}

function isMemoryAddress (address: string): boolean {
  return address.startsWith('/memory/')
}

/** The transports a node built from these options dials with. */
export function transportsFor (listen: readonly string[]): ReadonlySet<TransportKind> {
  return new Set<TransportKind>(listen.some(isMemoryAddress) ? ['memory'] : ['tcp', 'quic', 'relay'])
}

/**
 * The id under which gossipsub remembers a message it has seen, before anything else is
 * done with a copy. Every mesh peer forwards the same message, byte for byte; without this
 * id gossipsub verifies each copy's signature (ed25519) and only then finds it seen.
 * Measured with perf on an idle orchestrator of a 26-host emulated mesh: that verification
 * was 19 % of its CPU, for copies it then dropped. A signature is unique to its message;
 * gossipsub remembers an id only for a copy whose signature verified, so a forged copy
 * cannot hide the real message, and one that reuses a real signature is dropped unverified.
 */
export function gossipFastMessageId (message: RPC.Message): string {
  const bytes = message.signature ?? message.data ?? new Uint8Array()
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

/** gossipsub's own heartbeat interval, stated here so that it is a documented Shoal default. */
export const DEFAULT_GOSSIP_HEARTBEAT_MS = 1_000

/** The direct transports besides the memory one; both are always on, one is dialled first. */
export type DirectTransport = 'tcp' | 'quic'

/**
 * TCP (+ noise + yamux) is dialled first when a peer offers both. Measured side by side
 * on loopback (bench/bulk, 64 MiB, 3 runs at load average 11-23 on 2 cores, where wall
 * rates swing 2x between runs): per CPU second a QUIC stream moved 0.52-0.74x TCP's bytes
 * and a /shoal/ai job 0.46-0.49x. Small jobs were closer: p50 0.47-0.70 ms on QUIC against
 * 0.43-0.50 ms on TCP, and at 32 concurrent jobs QUIC did more jobs/s in 2 runs of 3
 * (1065-1472 against 528-1507). Inference moves images and video, so bytes decide.
 * Measured again with TCP's socket buffering and noise's copy fixed (bench/bulk, 50 MiB,
 * 3 runs at load average 2-5): a QUIC stream moved 0.21-0.28x TCP's bytes per CPU second,
 * a job 0.22-0.27x. @chainsafe/libp2p-quic reads a stream 4 KiB per native call; with
 * 64 KiB reads (a trial, not shipped) its stream moved 2.7x more per CPU second, still
 * half of TCP's (97 against 190 MiB).
 */
export const DEFAULT_PREFERRED_TRANSPORT: DirectTransport = 'tcp'

/** libp2p's default address order, with `preferred` in place of its fixed "TCP first". */
function addressSorterFor (preferred: DirectTransport): (a: Address, b: Address) => -1 | 0 | 1 {
  const rank = (address: Address): number => addressTarget(address.multiaddr.toString())?.transport === preferred ? 0 : 1
  return (a, b) => loopbackAddressLast(a.multiaddr, b.multiaddr) ||
    publicAddressesFirst(a.multiaddr, b.multiaddr) ||
    circuitRelayAddressesLast(a.multiaddr, b.multiaddr) ||
    (Math.sign(rank(a) - rank(b)) as -1 | 0 | 1) ||
    reliableTransportsFirst(a.multiaddr, b.multiaddr)
}

/**
 * @libp2p/tcp spreads these into `net.connect` and `net.createServer` (its type names only
 * a few of the options they take): every libp2p TCP socket, dialled or accepted.
 */
const tcpSocketOptions: NonNullable<TCPOptions['dialOpts']> & { highWaterMark: number } = { highWaterMark: TCP_SOCKET_HIGH_WATER_MARK }

function peerInfoMapperFor (options: ShoalNodeOptions): (info: PeerInfo) => PeerInfo {
  if (options.listen.some(isMemoryAddress)) return passthroughMapper
  switch (options.addressScope ?? 'private') {
    case 'public': return removePrivateAddressesMapper
    case 'private': return removePublicAddressesMapper
    case 'all': return passthroughMapper
  }
}

/**
 * The one factory that builds a libp2p node for every Shoal role: TCP (or the memory
 * transport in tests), noise, yamux, identify, ping, Shoal's own kad-dht and gossipsub
 * with strict signing. The node is created stopped; call `start()`.
 */
export async function createShoalNode (options: ShoalNodeOptions): Promise<ShoalLibp2p> {
  const usesMemory = options.listen.some(isMemoryAddress)
  // a node behind NAT cannot answer DHT queries from peers that dial it
  const dhtServer = options.dhtServer ?? ((options.role === 'bootstrap' || options.role === 'orchestrator') && !listensThroughRelay(options.listen))
  const datastore = options.datastorePath === undefined ? undefined : new LevelDatastore(options.datastorePath)
  if (datastore !== undefined) await datastore.open()

  // @libp2p/bootstrap refuses /memory/ addresses; those are dialled by the caller
  const bootstrapList = (options.bootstrap ?? []).filter(a => !isMemoryAddress(a))

  const node = await createLibp2p<ShoalServices>({
    privateKey: options.privateKey,
    ...(datastore !== undefined ? { datastore } : {}),
    addresses: {
      listen: options.listen,
      announce: options.announce ?? []
    },
    transports: usesMemory ? [memory()] : [tcp({ dialOpts: tcpSocketOptions, listenOpts: tcpSocketOptions }), quic(), relayTransport()],
    connectionEncrypters: [noise({ crypto: shoalNoiseCrypto })],
    streamMuxers: [yamux()],
    peerDiscovery: bootstrapList.length > 0 ? [bootstrap({ list: bootstrapList })] : [],
    connectionManager: {
      maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      inboundConnectionThreshold: options.inboundConnectionThreshold ?? DEFAULT_INBOUND_CONNECTION_THRESHOLD,
      allow: options.allowLoopbackUnlimited === false ? [] : LOOPBACK_ALLOW_LIST,
      addressSorter: addressSorterFor(options.preferredTransport ?? DEFAULT_PREFERRED_TRANSPORT)
    },
    // libp2p's monitor aborts a connection, with every job stream on it, on one failed
    // ping; Shoal's (the `monitor` service) tolerates misses and reports them instead
    connectionMonitor: { enabled: false },
    services: {
      // the default 5 s fails under event-loop lag, and a connection identify failed on never gossips (see identify-retry.ts)
      identify: identify({ timeout: IDENTIFY_TIMEOUT_MS }),
      // the monitor and the DHT both ping: room for both
      ping: ping({ maxOutboundStreams: PING_MAX_STREAMS, maxInboundStreams: PING_MAX_STREAMS }),
      monitor: shoalConnectionMonitor(options.monitor),
      ...(options.relayServer === undefined || options.relayServer === false ? {} : { relay: relayServer(options.relayServer) }),
      dht: kadDHT({
        protocol: DHT_PROTOCOL,
        clientMode: !dhtServer,
        peerInfoMapper: peerInfoMapperFor(options),
        // a small mesh must still answer queries while it forms
        allowQueryWithZeroPeers: true
      }),
      // the class behind the GossipSub interface also has getMeshPeers and getScore
      pubsub: gossipsub({
        globalSignaturePolicy: 'StrictSign',
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        // bootstraps know many peers: let them hand peers out when pruning, so meshes form quickly
        doPX: options.role === 'bootstrap',
        emitSelf: false,
        fastMsgIdFn: gossipFastMessageId,
        ...options.gossip
      }) as (components: GossipSubComponents) => ShoalPubSub
    },
    start: false
  })
  preferExistingConnections(node)
  if (datastore !== undefined) {
    // libp2p does not own a datastore it was given: close it after the node stops so a restart can reopen it
    const stopNode = node.stop.bind(node)
    node.stop = async () => {
      await stopNode()
      await datastore.close()
    }
  }
  return node
}

/**
 * Shoal's protocols run on relayed connections too (a relayed connection is "limited":
 * it carries the relay's limits, and libp2p refuses streams on it unless asked). libp2p
 * also never reuses a limited connection when dialling a peer: each stream would dial the
 * relay again. So a stream to a peer reached only through a relay opens on the relayed
 * connection already there, and any new one may be relayed.
 */
function preferExistingConnections (node: ShoalLibp2p): void {
  const dialProtocol = node.dialProtocol.bind(node)
  node.dialProtocol = async (peer, protocols, options = {}) => {
    const dialOptions = { ...options, runOnLimitedConnection: options.runOnLimitedConnection ?? true }
    if (isPeerId(peer) && dialOptions.runOnLimitedConnection) {
      const open = node.getConnections(peer).filter(c => c.status === 'open')
      const relayed = open.find(c => c.limits != null)
      if (relayed !== undefined && !open.some(c => c.limits == null)) return await relayed.newStream(protocols, dialOptions)
    }
    return await dialProtocol(peer, protocols, dialOptions)
  }
}

/**
 * Dials the bootstrap list (including /memory/ addresses the bootstrap module refuses)
 * and, for a restarted node, peers remembered in its persistent peer store.
 */
export async function connectToMesh (node: ShoalLibp2p, bootstrapList: string[], options: { signal?: AbortSignal, logger?: Logger } = {}): Promise<number> {
  let connected = 0
  const targets: Multiaddr[] = bootstrapList.map(a => multiaddr(a))
  await Promise.all(targets.map(async target => {
    try {
      await node.dial(target, { signal: options.signal })
      connected++
    } catch (err) {
      options.logger?.warn({ peer: target.toString(), err: (err as Error).message }, 'bootstrap dial failed')
    }
  }))
  const known = (await node.peerStore.all())
    .filter(peer => !peer.id.equals(node.peerId) && peer.addresses.length > 0)
    .slice(0, DEFAULT_REDIAL_KNOWN_PEERS)
  await Promise.all(known.map(async peer => {
    if (node.getConnections(peer.id).length > 0) return
    try {
      await node.dial(peer.id, { signal: options.signal })
      connected++
    } catch {
      // a remembered peer may be gone; the mesh heals through the others
    }
  }))
  return connected
}
