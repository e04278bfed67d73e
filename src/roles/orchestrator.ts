import { join } from 'node:path'
import { mkdir } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { Registry, collectDefaultMetrics } from 'prom-client'
import type { NodeOptions } from '../cli/options/node.js'
import { announcementPublisher, type AnnouncementPublisher } from '../discovery/publisher.js'
import { createRunnerManager, type RunnerManager, type RunnerManagerOptions } from '../inference/managers/index.js'
import type { ModelEntry } from '../inference/models-config.js'
import type { Logger } from '../observability/logger.js'
import { createAiMetrics, createAiProtocol, type AiExecutor, type AiProtocol, type AiQuoteFn } from '../protocols/ai/index.js'
import { infoServer } from '../protocols/info/index.js'
import { createJobExecutor } from '../orchestrator/executor.js'
import { offersFrom, priceTable } from '../orchestrator/offers.js'
import { createMesh, type Mesh } from './mesh.js'
import { nodeKeysFor } from './node-keys.js'
import type { NodeKeys } from '../p2p/keys.js'

export interface OrchestratorRoleOptions {
  node: NodeOptions
  models: ModelEntry[]
  announcementTtlMs?: number
  runners?: RunnerManagerOptions
}

export interface OrchestratorRole {
  mesh: Mesh
  manager: RunnerManager
  publisher: AnnouncementPublisher
  ai: AiProtocol
  keys: NodeKeys
  peerId: string
  register: Registry
  stop: () => Promise<void>
}

/** Extension points later layers (payments) plug into. */
export interface OrchestratorHooks {
  /** wraps the job executor, e.g. to check and debit payments */
  wrapExecutor?: (executor: AiExecutor, keys: NodeKeys) => AiExecutor
  quote?: (keys: NodeKeys) => AiQuoteFn
}

/**
 * An orchestrator: runners (CPU processes, external URLs), job handling over
 * `/shoal/ai`, a signed announcement republished whenever capacity changes, DHT provider
 * records, and `/shoal/info`.
 */
export async function startOrchestrator (options: OrchestratorRoleOptions, logger: Logger, hooks: OrchestratorHooks = {}, signal?: AbortSignal): Promise<OrchestratorRole> {
  await mkdir(options.node.dataDir, { recursive: true, mode: 0o700 })
  const keys = await nodeKeysFor(options.node.dataDir, logger)
  const peerId = keys.peerId.toString()
  const log = logger.child({ peer: peerId })
  const prices = priceTable(options.models)
  const register = new Registry()
  collectDefaultMetrics({ register })

  const manager = createRunnerManager(options.models, { ...options.runners, logger: log })
  await manager.start({ signal })
  const mesh = await createMesh({
    role: 'orchestrator',
    privateKey: keys.libp2p,
    listen: options.node.listen,
    announce: options.node.announce,
    bootstrap: options.node.bootstrap,
    datastorePath: join(options.node.dataDir, 'datastore'),
    addressScope: options.node.addressScope
  }, { logger: log, register })

  const baseExecutor = createJobExecutor({ manager, logger: log })
  const ai = createAiProtocol({
    registrar: mesh.node,
    executor: hooks.wrapExecutor?.(baseExecutor, keys) ?? baseExecutor,
    quote: hooks.quote?.(keys),
    logger: log,
    metrics: createAiMetrics(register)
  })
  const publisher = announcementPublisher({ ttlMs: options.announcementTtlMs })({
    privateKey: keys.libp2p,
    peerId: keys.peerId,
    ethPrivateKey: keys.ethereum.privateKey,
    addresses: () => mesh.node.getMultiaddrs().map(a => a.toString()),
    offers: () => offersFrom(manager.capabilities(), prices),
    hardware: { cpus: cpus().length, memoryBytes: totalmem(), gpus: [] },
    gossip: mesh.gossip,
    routing: mesh.node.contentRouting,
    logger: log
  })
  const info = infoServer(mesh.node, { current: publisher.current, logger: log })
  const onChange = (): void => { publisher.update() }
  manager.on('change', onChange)

  try {
    await mesh.start({ signal })
    await ai.start()
    await info.start()
    await publisher.start()
  } catch (err) {
    await manager.stop()
    await mesh.stop().catch(() => {})
    throw err
  }

  return {
    mesh,
    manager,
    publisher,
    ai,
    keys,
    peerId,
    register,
    async stop () {
      manager.off('change', onChange)
      publisher.stop()
      await ai.stop()
      await info.stop()
      await mesh.stop()
      await manager.stop()
    }
  }
}
