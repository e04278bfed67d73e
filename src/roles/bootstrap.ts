import { join } from 'node:path'
import { mkdir } from 'node:fs/promises'
import { Registry } from 'prom-client'
import type { NodeOptions } from '../cli/options/node.js'
import type { Logger } from '../observability/logger.js'
import { createMesh, type Mesh } from './mesh.js'
import { nodeKeysFor } from './node-keys.js'

export interface BootstrapNode {
  mesh: Mesh
  peerId: string
  addresses: string[]
  stop: () => Promise<void>
}

/** A bootstrap: a DHT server and gossip relay that validates announcements like everyone else. */
export async function startBootstrap (options: NodeOptions, logger: Logger, signal?: AbortSignal): Promise<BootstrapNode> {
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 })
  const keys = await nodeKeysFor(options.dataDir, logger)
  const mesh = await createMesh({
    role: 'bootstrap',
    privateKey: keys.libp2p,
    listen: options.listen,
    announce: options.announce,
    bootstrap: options.bootstrap,
    datastorePath: join(options.dataDir, 'datastore'),
    addressScope: options.addressScope
  }, { logger: logger.child({ peer: keys.peerId.toString() }), register: new Registry() })
  await mesh.start({ signal })
  return {
    mesh,
    peerId: keys.peerId.toString(),
    addresses: mesh.node.getMultiaddrs().map(a => a.toString()),
    stop: async () => { await mesh.stop() }
  }
}
