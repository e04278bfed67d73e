import type { NodeConfig } from './config.js'
import type { Logger } from '../observability/logger.js'
import { createMesh, meshOptionsFor, type Mesh } from './mesh.js'
import { prepareNode } from './node-context.js'

export interface BootstrapNode {
  mesh: Mesh
  peerId: string
  addresses: string[]
  stop: () => Promise<void>
}

/** A bootstrap: a DHT server and gossip relay that validates announcements like everyone else. */
export async function startBootstrap (options: NodeConfig, logger: Logger, signal?: AbortSignal): Promise<BootstrapNode> {
  const { keys, log, register } = await prepareNode(options.dataDir, logger)
  const mesh = await createMesh(meshOptionsFor(options, keys.libp2p), { logger: log, register })
  await mesh.start({ signal })
  return {
    mesh,
    peerId: keys.peerId.toString(),
    addresses: mesh.node.getMultiaddrs().map(a => a.toString()),
    stop: async () => { await mesh.stop() }
  }
}
