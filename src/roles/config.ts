import type { PriceFeedSource } from '../payments/price-feed/options.js'
/**
 * The plain configuration roles start from. The CLI maps flags, `SHOAL_*` variables and
 * the config file into these (src/cli/options); tests, benches and the testnet build
 * them directly. Nothing here knows about flags.
 */
import type { DockerRunnerManagerOptions } from '../inference/managers/index.js'
import type { AddressScope, DirectTransport, NodeRole } from '../p2p/node.js'
import type { RelayServerOptions } from '../p2p/relay.js'

/** What every node role shares. */
export interface NodeConfig {
  role: NodeRole
  /** keys, peers and state */
  dataDir: string
  /** multiaddrs to listen on */
  listen: string[]
  /** multiaddrs to announce instead of the listen addresses (NAT, containers) */
  announce: string[]
  /** multiaddrs (with /p2p/) of nodes to join through */
  bootstrap: string[]
  addressScope: AddressScope
  /** act as a circuit relay for nodes behind NAT, with these limits; off when undefined or false */
  relayServer?: Partial<RelayServerOptions> | false
  /** dialled first when a peer offers TCP and QUIC */
  preferredTransport?: DirectTransport
  /** how often every connection is pinged, ms @default DEFAULT_MONITOR.intervalMs */
  monitorIntervalMs?: number
  /** gossipsub heartbeat, ms @default DEFAULT_GOSSIP_HEARTBEAT_MS */
  gossipHeartbeatMs?: number
}

/** Payment settings of orchestrators and gateways. */
export interface PaymentConfig {
  enabled: boolean
  rpcUrl: string
  brokerAddress: string
  /** how long to wait at start for the chain's RPC to answer, ms @default DEFAULT_CHAIN_CONNECT_TIMEOUT_MS */
  chainTimeoutMs?: number
  /** orchestrator: expected value asked per ticket (wei) */
  ticketEV?: bigint
  /** orchestrator: fixed gas price for face values (wei), instead of the chain's */
  gasPrice?: bigint
  /** gateway: the highest expected value accepted per ticket (wei) */
  maxTicketEV?: bigint
  /** gateway: the highest expected value sent for one job (wei) */
  maxJobEV?: bigint
  /** the ETH/USD rate: orchestrators convert prices in USD with it, gateways show prices in USD */
  priceFeed?: PriceFeedSource
}

/** Who runs an orchestrator's models: processes or Docker containers, plus allowed remote workers. */
export interface RunnersConfig {
  managed: 'process' | 'docker'
  docker: Omit<DockerRunnerManagerOptions, 'entries' | 'logger' | 'owner'>
  /** peer ids of remote workers allowed to register */
  workerAllow: string[]
  /** aiModels.json-format file with the prices of models served by workers */
  workerModelsPath?: string
}
