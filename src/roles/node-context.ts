import { mkdir } from 'node:fs/promises'
import { Registry, collectDefaultMetrics } from 'prom-client'
import { loadOrCreateNodeKeys, type NodeKeys } from '../p2p/keys.js'
import { KeyFileError } from '../p2p/errors.js'
import { RoleStartError } from './errors.js'
import type { Logger } from '../observability/logger.js'

/** Loads the node's keys, creating missing ones on first start; a bad key file stops the node with a clear message. */
export async function nodeKeysFor (dataDir: string, logger: Logger): Promise<NodeKeys> {
  try {
    const keys = await loadOrCreateNodeKeys(dataDir)
    if (keys.created.length > 0) logger.info({ created: keys.created }, 'created node keys')
    return keys
  } catch (err) {
    if (err instanceof KeyFileError) throw new RoleStartError('ROLE_ERROR_KEYS', `refusing to start: ${err.message}`)
    throw err
  }
}

/** What every role starts from: its data dir, keys, a logger naming the peer, and a metrics registry. */
export interface NodeContext {
  keys: NodeKeys
  peerId: string
  log: Logger
  register: Registry
}

export async function prepareNode (dataDir: string, logger: Logger): Promise<NodeContext> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const keys = await nodeKeysFor(dataDir, logger)
  const peerId = keys.peerId.toString()
  const register = new Registry()
  collectDefaultMetrics({ register })
  return { keys, peerId, log: logger.child({ peer: peerId }), register }
}
