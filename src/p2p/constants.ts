/** Every Shoal protocol id starts with this prefix, so Shoal's DHT and protocols never mix with IPFS's. */
export const PROTOCOL_PREFIX = '/shoal'

/** Shoal's own Kademlia protocol: an isolated DHT of Shoal nodes only. */
export const DHT_PROTOCOL = `${PROTOCOL_PREFIX}/kad/1.0.0`

/** Gossipsub protocols are the standard ones; topics are namespaced instead (see discovery/constants). */
export const DEFAULT_MAX_CONNECTIONS = 128

/**
 * New inbound connections accepted per second from one IP address (libp2p's
 * `inboundConnectionThreshold`, stated here so it is a documented Shoal limit). Past it a
 * connection is closed as soon as it is accepted: the dialer sees `ECONNRESET` on
 * connect. A gateway keeps its connection to an orchestrator, so this only bounds
 * reconnect floods; peers sharing one address (NAT, one host) share the allowance.
 */
export const DEFAULT_INBOUND_CONNECTION_THRESHOLD = 5

/**
 * Peers on this machine skip that threshold (and the connection cap): every node of a
 * one-host testnet dials from 127.0.0.1, and at 5 a second a 32-orchestrator mesh could not
 * form (the gateway listed 14 of 32 after 120 s; 28 with a threshold of 100). Only local
 * processes can use this allowance.
 */
export const LOOPBACK_ALLOW_LIST = ['/ip4/127.0.0.0/ipcidr/8', '/ip6/::1/ipcidr/128']

/** Identify's deadline on a new connection (libp2p's default is 5 s): gossip starts on a connection only once identify completes. */
export const IDENTIFY_TIMEOUT_MS = 15_000

/** How many known peers a restarted node redials from its persisted peer store. */
export const DEFAULT_REDIAL_KNOWN_PEERS = 8

/** Ping streams per connection each way: the connection monitor and the DHT both ping (the default of 1 makes them collide). */
export const PING_MAX_STREAMS = 8

/**
 * Shoal's connection monitor (see connection-monitor.ts): pings every connection; a miss
 * is reported at once (a gateway stops choosing the peer on the first), but a connection
 * closes only after several in a row, more while streams are in flight, so CPU starvation
 * does not kill running jobs. Closing is slow on purpose: it frees little (a dead peer's
 * connection costs a socket), a connection kept through a short partition recovers on
 * the next answered ping, and closing idle connections after 2 misses made a loaded
 * one-host 32-orchestrator mesh churn (closes, reconnects, handshakes, more lag) so that
 * the gateway never listed every orchestrator.
 */
export const DEFAULT_MONITOR = {
  intervalMs: 5_000,
  timeoutMs: 5_000,
  maxMissedIdle: 6,
  maxMissedBusy: 8,
  // a peer a gateway's job waits on: silent for a ping timeout is then noticed within
  // this more; a yamux ping is a 12-byte frame, cheap even at one per busy peer every 2 s
  watchIntervalMs: 2_000
} as const

/**
 * Bytes a libp2p TCP socket buffers before `write()` asks for a drain (Node's default is
 * 16 KiB). A noise message is up to 64 KiB, so at the default every message of a bulk
 * transfer waited for its own drain: one `writev` and one event-loop turn per message,
 * each pausing every stream on the connection. At one yamux window (256 KiB) several
 * messages leave together; with noise-crypto.ts, bench/bulk's raw libp2p stream moved
 * 1.1-1.6x the bytes per CPU second (7 interleaved trials, 1.43x median). It bounds memory per connection, not per stream.
 */
export const TCP_SOCKET_HIGH_WATER_MARK = 256 * 1024
