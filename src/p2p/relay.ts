/**
 * Circuit relay v2 for nodes behind NAT. A node with no public address listens on
 * `/p2p-circuit` (any relay it is connected to) or `<relay address>/p2p-circuit`: it
 * reserves a slot on the relay, which then forwards connections to it, and its relayed
 * address (`<relay>/p2p-circuit/p2p/<self>`) joins its announced addresses. Any node can
 * act as a relay (`relay.server`); bootstraps are the natural ones.
 *
 * libp2p's defaults cut a relayed connection after 2 minutes or 128 KiB, which is one
 * small image: far too little for inference. Shoal's relay limits are sized for jobs (an
 * hour, 4 GiB per relayed connection), and its own protocols run on such "limited"
 * connections (see node.ts). At a limit the relay resets the connection with every job on
 * it; the gateway's next job dials a fresh one.
 */
import { circuitRelayServer, circuitRelayTransport, type CircuitRelayService } from '@libp2p/circuit-relay-v2'
import type { Connection, Libp2p } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { Counter, Gauge, type Registry } from 'prom-client'

export interface RelayServerOptions {
  /** reservations held at once; a NATed orchestrator holds one @default 128 */
  maxReservations: number
  /** a reservation lives this long unless refreshed (the client refreshes it) @default 7_200_000 */
  reservationTtlMs: number
  /** a relayed connection is reset after this long @default 3_600_000 */
  durationLimitMs: number
  /** ... or once this many bytes crossed it, both ways together @default 4 GiB */
  dataLimitBytes: bigint
  /** HOP streams (reservations and connects) in flight at once @default 64 */
  maxInboundHopStreams: number
}

export const DEFAULT_RELAY_SERVER: Readonly<RelayServerOptions> = {
  maxReservations: 128,
  reservationTtlMs: 2 * 60 * 60_000,
  durationLimitMs: 60 * 60_000,
  dataLimitBytes: 4n * 1024n ** 3n,
  maxInboundHopStreams: 64
}

/** How long a client waits for a reservation to complete (libp2p's 10 s fails under load on a 2-core host). */
export const RELAY_RESERVATION_TIMEOUT_MS = 30_000

/** The relay server service (add it as `services.relay`), limits from `options` over the defaults. */
export function relayServer (options: Partial<RelayServerOptions> = {}): ReturnType<typeof circuitRelayServer> {
  const o = { ...DEFAULT_RELAY_SERVER, ...options }
  return circuitRelayServer({
    maxInboundHopStreams: o.maxInboundHopStreams,
    reservations: {
      maxReservations: o.maxReservations,
      reservationTtl: o.reservationTtlMs,
      applyDefaultLimit: true,
      defaultDurationLimit: o.durationLimitMs,
      defaultDataLimit: o.dataLimitBytes
    }
  })
}

/** The relay transport every TCP node has: it dials relayed addresses, and listens through relays when asked to. */
export function relayTransport (): ReturnType<typeof circuitRelayTransport> {
  return circuitRelayTransport({ reservationCompletionTimeout: RELAY_RESERVATION_TIMEOUT_MS })
}

/** Whether a multiaddr goes through a relay (`.../p2p-circuit/...`). */
export function isRelayedAddress (address: string): boolean {
  try {
    return multiaddr(address).getComponents().some(c => c.name === 'p2p-circuit')
  } catch {
    return false
  }
}

/** Whether a node with these listen addresses asks relays for a slot (a node behind NAT). */
export function listensThroughRelay (listen: readonly string[]): boolean {
  return listen.some(isRelayedAddress)
}

/** A connection that crosses a relay (and so carries the relay's limits). */
export function isRelayedConnection (connection: Pick<Connection, 'remoteAddr' | 'limits'>): boolean {
  return connection.limits != null || isRelayedAddress(connection.remoteAddr.toString())
}

export interface RelayMetrics {
  reservationsGranted: Counter
}

/**
 * Relay metrics, read at scrape time from the node: reservations this node holds as a
 * relay, relayed addresses it listens on as a client, and its relayed connections.
 */
export function createRelayMetrics (register: Registry, node: Pick<Libp2p, 'getConnections' | 'getMultiaddrs'> & { services: Record<string, unknown> }): RelayMetrics {
  const relay = node.services.relay as CircuitRelayService | undefined
  const reservationsGranted = new Counter({
    name: 'shoal_relay_reservations_granted_total',
    help: 'Reservations this node granted as a relay (new and refreshed)',
    registers: [register]
  })
  relay?.addEventListener('relay:reservation', () => { reservationsGranted.inc() })
  // eslint-disable-next-line no-new
  new Gauge({
    name: 'shoal_relay_reservations',
    help: 'Reservations this node holds as a relay',
    registers: [register],
    collect () { this.set(relay?.reservations.size ?? 0) }
  })
  // eslint-disable-next-line no-new
  new Gauge({
    name: 'shoal_relay_listen_addresses',
    help: 'Relayed addresses this node listens on (reservations it holds on relays)',
    registers: [register],
    collect () { this.set(node.getMultiaddrs().filter(a => isRelayedAddress(a.toString())).length) }
  })
  // eslint-disable-next-line no-new
  new Gauge({
    name: 'shoal_relay_connections',
    help: 'Open connections of this node that cross a relay',
    registers: [register],
    collect () { this.set(node.getConnections().filter(isRelayedConnection).length) }
  })
  return { reservationsGranted }
}
