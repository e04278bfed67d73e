import { cpus, totalmem } from 'node:os'
import type { Registry } from 'prom-client'
import type { NodeConfig } from './config.js'
import { announcementPublisher, type AnnouncementPublisher } from '../discovery/publisher.js'
import { createRunnerManager, type RunnerManager, type RunnerManagerOptions } from '../inference/managers/index.js'
import type { RunnersConfig } from './config.js'
import { createWorkerRunnerManager } from '../orchestrator/workers/index.js'
import { createWorkerMetrics } from '../protocols/worker/index.js'
import type { ModelEntry } from '../inference/models-config.js'
import type { Logger } from '../observability/logger.js'
import { createAiMetrics, createAiProtocol, type AiProtocol, type AiQuoteFn, type AiServerLimits } from '../protocols/ai/index.js'
import type { PaymentConfig } from './config.js'
import { startMetricsServer } from '../observability/metrics-server.js'
import { createOrchestratorMetrics } from '../orchestrator/metrics.js'
import { createPaidExecutor } from '../orchestrator/payments.js'
import { startOrchestratorPayments, type OrchestratorPayments } from './payments.js'
import { infoServer } from '../protocols/info/index.js'
import { createJobExecutor } from '../orchestrator/executor.js'
import { livePriceTable, offersFrom, PriceConfigError, pricedInUsd, quotePrices, USD_RATE_HINT, type PriceTable } from '../orchestrator/offers.js'
import { createPriceFeed, createPriceFeedMetrics, type PriceFeed } from '../payments/price-feed/index.js'
import { capabilityPriceEntry, type CustomCapability } from '../inference/custom/config.js'
import { createCustomRunnerManager } from '../inference/custom/manager.js'
import { createLiveOrchestrator, type LiveOrchestrator, type LiveOrchestratorOptions } from '../orchestrator/live/service.js'
import { createLiveOrchestratorMetrics } from '../orchestrator/live/metrics.js'
import { createStreamOrchestrator, type StreamOrchestrator, type StreamOrchestratorOptions } from '../orchestrator/streams/service.js'
import { createStreamOrchestratorMetrics } from '../orchestrator/streams/metrics.js'
import { createMesh, meshOptionsFor, type Mesh } from './mesh.js'
import { prepareNode } from './node-context.js'
import type { NodeKeys } from '../p2p/keys.js'

export interface OrchestratorRoleOptions {
  node: NodeConfig
  models: ModelEntry[]
  payments: PaymentConfig
  announcementTtlMs?: number
  /** serve Prometheus metrics on this port (127.0.0.1); undefined: no endpoint */
  metricsPort?: number
  /** who runs the models (processes or Docker) and which remote workers may register */
  runners?: RunnersConfig
  /** custom capabilities (docs/custom-capabilities.md), served as pipeline `custom` */
  customCapabilities?: CustomCapability[]
  /** prices of models that only remote workers serve */
  workerModels?: ModelEntry[]
  /** memory budget and receive deadline of the /shoal/ai handler @default the handler's defaults */
  aiLimits?: AiServerLimits
  /** passed to the process runner manager (tests) */
  process?: RunnerManagerOptions['process']
  /** live video sessions over /shoal/live (payment interval, limits) */
  live?: Partial<LiveOrchestratorOptions>
  /** custom capability stream sessions over /shoal/stream (payment interval, limits) */
  streams?: Partial<StreamOrchestratorOptions>
}

export interface OrchestratorRole {
  mesh: Mesh
  manager: RunnerManager
  publisher: AnnouncementPublisher
  ai: AiProtocol
  live: LiveOrchestrator
  streams: StreamOrchestrator
  keys: NodeKeys
  peerId: string
  register: Registry
  payments: OrchestratorPayments | undefined
  metricsUrl: string | undefined
  stop: () => Promise<void>
}

/**
 * An orchestrator: runners (CPU processes, external URLs), job handling over
 * `/shoal/ai`, a signed announcement republished whenever capacity changes, DHT provider
 * records, and `/shoal/info`.
 */
export async function startOrchestrator (options: OrchestratorRoleOptions, logger: Logger, signal?: AbortSignal): Promise<OrchestratorRole> {
  const { keys, peerId, log, register } = await prepareNode(options.node.dataDir, logger)
  const custom = options.customCapabilities ?? []
  const declared = new Map(custom.map(c => [c.name, { description: c.description, streaming: c.streaming }]))
  // custom capabilities are priced per second of compute, in the same table as the models
  const priced = [...options.models, ...(options.workerModels ?? []), ...custom.map(capabilityPriceEntry)]
  let feed: PriceFeed | undefined
  if (pricedInUsd(priced)) {
    const source = options.payments.priceFeed
    if (source === undefined) throw new PriceConfigError('PRICE_ERROR_CURRENCY', `aiModels.json prices some models in USD, which needs an ETH/USD rate: ${USD_RATE_HINT}`)
    feed = createPriceFeed({ source, logger: log, metrics: createPriceFeedMetrics(register) })
    await feed.start({ signal })
  }
  const book = livePriceTable(priced, feed?.tryRate())
  const prices = book.table

  // the node first: remote workers register through its /shoal/worker handler
  const mesh = await createMesh(meshOptionsFor(options.node, keys.libp2p), { logger: log, register })
  const workerAllow = options.runners?.workerAllow ?? []
  const workers = workerAllow.length > 0
    ? createWorkerRunnerManager({ registrar: mesh.node, allowList: workerAllow, logger: log, metrics: createWorkerMetrics(register) })
    : undefined
  const manager = createRunnerManager(options.models, {
    logger: log,
    managed: options.runners?.managed ?? 'process',
    ...(options.process === undefined ? {} : { process: options.process }),
    docker: { ...options.runners?.docker, owner: peerId },
    extra: [
      ...(workers === undefined ? [] : [workers]),
      ...(custom.length === 0 ? [] : [createCustomRunnerManager({ capabilities: custom, logger: log, owner: peerId, ...(options.runners?.docker?.docker === undefined ? {} : { docker: options.runners.docker.docker }) })])
    ]
  })
  await manager.start({ signal })

  const baseExecutor = createJobExecutor({ manager, logger: log })
  const payments = options.payments.enabled
    ? await startOrchestratorPayments(options.payments, keys, options.node.dataDir, register, log, signal)
    : undefined
  const paid = payments === undefined
    ? undefined
    : createPaidExecutor({ executor: baseExecutor, recipient: payments.recipient, prices, logger: log, metrics: createOrchestratorMetrics(register) })
  const ai = createAiProtocol({
    registrar: mesh.node,
    executor: paid ?? baseExecutor,
    quote: paid?.quote ?? unpaidQuote(prices),
    // live free slots for gateways connected to us (gossip carries only a coarse state)
    load: () => manager.capabilities().map(c => ({ pipeline: c.pipeline, modelId: c.modelId, capacity: c.capacity, inUse: c.inUse })),
    logger: log,
    metrics: createAiMetrics(register),
    // every OK Final carries a receipt signed with our libp2p key (src/trust/receipts)
    receipts: { peerId, privateKey: keys.libp2p },
    ...(options.aiLimits === undefined ? {} : { limits: options.aiLimits })
  })
  const live = createLiveOrchestrator({
    registrar: mesh.node,
    manager,
    prices,
    ...(payments === undefined ? {} : { recipient: payments.recipient }),
    logger: log,
    metrics: createLiveOrchestratorMetrics(register),
    ...(options.live === undefined ? {} : { options: options.live })
  })
  const streams = createStreamOrchestrator({
    registrar: mesh.node,
    manager,
    capabilities: custom,
    prices,
    ...(payments === undefined ? {} : { recipient: payments.recipient }),
    logger: log,
    metrics: createStreamOrchestratorMetrics(register),
    ...(options.streams === undefined ? {} : { options: options.streams })
  })
  const publisher = announcementPublisher({ ttlMs: options.announcementTtlMs })({
    privateKey: keys.libp2p,
    peerId: keys.peerId,
    ethPrivateKey: keys.ethereum.privateKey,
    // with payments on, the broker is where this operator's bond (if any) is: gateways read it there
    ...(options.payments.enabled ? { bondBroker: options.payments.brokerAddress } : {}),
    addresses: () => mesh.node.getMultiaddrs().map(a => a.toString()),
    offers: () => offersFrom(manager.capabilities(), prices, declared),
    hardware: { cpus: cpus().length, memoryBytes: totalmem(), gpus: [] },
    gossip: mesh.gossip,
    routing: mesh.node.contentRouting,
    logger: log
  })
  const info = infoServer(mesh.node, { current: publisher.current, logger: log })
  // a slot taken or freed on every job: the addresses are not read again for it, and the
  // offers are looked at once per loop turn after the job's own I/O (a timer, which runs
  // after the Final's flush; an immediate queued at the slot's release would run before
  // it), not twice inside every job's critical path. Gossip is paced in seconds anyway.
  let changeTimer: NodeJS.Timeout | undefined
  const onChange = (): void => {
    changeTimer ??= setTimeout(() => { changeTimer = undefined; publisher.update() }, 0)
  }
  manager.on('change', onChange)
  // a relay reservation (behind NAT) or a new listen address changes what to announce
  const onAddresses = (): void => { publisher.update({ addresses: true }) }
  mesh.node.addEventListener('self:peer:update', onAddresses)
  // a new rate (or none) re-prices the USD entries and re-announces them
  const offFeed = feed?.onChange(rate => { book.update(rate); publisher.update() })

  let metricsServer: Awaited<ReturnType<typeof startMetricsServer>> | undefined
  try {
    await mesh.start({ signal })
    await ai.start()
    await live.start()
    await streams.start()
    await info.start()
    await publisher.start()
    if (options.metricsPort !== undefined) metricsServer = await startMetricsServer(register, { host: '127.0.0.1', port: options.metricsPort })
  } catch (err) {
    feed?.stop()
    await manager.stop()
    await payments?.stop()
    await mesh.stop().catch(() => {})
    throw err
  }

  return {
    mesh,
    manager,
    publisher,
    ai,
    live,
    streams,
    keys,
    peerId,
    register,
    payments,
    metricsUrl: metricsServer?.url,
    async stop () {
      manager.off('change', onChange)
      clearTimeout(changeTimer)
      mesh.node.removeEventListener('self:peer:update', onAddresses)
      offFeed?.()
      feed?.stop()
      // gateways drop it at once, instead of routing to it until its announcement expires
      await publisher.withdraw()
      publisher.stop()
      await metricsServer?.stop()
      await ai.stop()
      await live.stop()
      await streams.stop()
      await info.stop()
      await mesh.stop()
      await manager.stop()
      await payments?.stop()
    }
  }
}

/** The quote of an orchestrator that is not paid (a private mesh): prices only. */
function unpaidQuote (prices: PriceTable): AiQuoteFn {
  const quoted = quotePrices(prices)
  return () => ({ prices: quoted, payment: null })
}
