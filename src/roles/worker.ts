import type { Registry } from 'prom-client'
import type { NodeConfig } from './config.js'
import { createRunnerManager, type RunnerManager, type RunnerManagerOptions } from '../inference/managers/index.js'
import type { ModelEntry } from '../inference/models-config.js'
import type { Logger } from '../observability/logger.js'
import { createJobExecutor } from '../orchestrator/executor.js'
import type { NodeKeys } from '../p2p/keys.js'
import { createShoalNode, type ShoalLibp2p } from '../p2p/node.js'
import { createAiMetrics, type AiProtocol } from '../protocols/ai/index.js'
import {
  createWorkerClient,
  createWorkerJobServer,
  createWorkerMetrics,
  orchestratorAddress,
  workerRunnersFrom,
  type WorkerClient,
  type WorkerClientInit
} from '../protocols/worker/index.js'
import { prepareNode } from './node-context.js'

/** How long a stopping worker waits for the jobs it is running before it hangs up. */
export const DEFAULT_WORKER_DRAIN_TIMEOUT_MS = 30_000

export interface WorkerRoleOptions {
  node: Pick<NodeConfig, 'dataDir' | 'listen' | 'announce' | 'addressScope'>
  /** the orchestrator: a multiaddr ending in /p2p/<peer id> */
  orchestrator: string
  /** the worker's own runners (aiModels.json: CPU runner processes or external URLs) */
  models: ModelEntry[]
  runners?: RunnerManagerOptions
  client?: Partial<Pick<WorkerClientInit, 'backoff' | 'dialTimeoutMs' | 'registerTimeoutMs'>>
  /** @default 30_000 */
  drainTimeoutMs?: number
}

export interface WorkerRole {
  node: ShoalLibp2p
  manager: RunnerManager
  /** serves `/shoal/worker-job/1.0.0` to the orchestrator */
  jobs: AiProtocol
  client: WorkerClient
  keys: NodeKeys
  peerId: string
  register: Registry
  stop: () => Promise<void>
}

/**
 * A remote worker: its own runners (as an orchestrator would run them), a libp2p node
 * that dials the orchestrator, registers those runners and keeps the session up
 * (reconnecting with backoff), and serves the jobs the orchestrator sends back. It is
 * not part of the mesh: no bootstrap, no announcements.
 */
export async function startWorker (options: WorkerRoleOptions, logger: Logger, signal?: AbortSignal): Promise<WorkerRole> {
  const orchestrator = orchestratorAddress(options.orchestrator)
  const { keys, peerId, log, register } = await prepareNode(options.node.dataDir, logger)

  const manager = createRunnerManager(options.models, { ...options.runners, logger: log })
  await manager.start({ signal })
  let node: ShoalLibp2p | undefined
  try {
    node = await createShoalNode({
      role: 'worker',
      privateKey: keys.libp2p,
      listen: options.node.listen,
      announce: options.node.announce,
      addressScope: options.node.addressScope,
      logger: log
    })
    const jobs = createWorkerJobServer({
      registrar: node,
      orchestrator: orchestrator.peerId,
      executor: createJobExecutor({ manager, logger: log }),
      logger: log,
      metrics: createAiMetrics(register)
    })
    const client = createWorkerClient({
      ...options.client,
      orchestrator: orchestrator.address,
      runners: () => workerRunnersFrom(manager.capabilities()),
      dialProtocol: node.dialProtocol.bind(node),
      hangUp: node.hangUp.bind(node),
      logger: log,
      metrics: createWorkerMetrics(register)
    })
    const onChange = (): void => { client.update() }
    manager.on('change', onChange)
    await node.start()
    await jobs.start()
    await client.start()
    const started = node
    const drainTimeoutMs = options.drainTimeoutMs ?? DEFAULT_WORKER_DRAIN_TIMEOUT_MS

    return {
      node: started,
      manager,
      jobs,
      client,
      keys,
      peerId,
      register,
      async stop () {
        manager.off('change', onChange)
        // offer nothing more, let running jobs finish, then hang up
        await client.withdraw({ signal: AbortSignal.timeout(2_000) }).catch(() => {})
        const deadline = Date.now() + drainTimeoutMs
        if (jobs.activeJobs > 0) log.info({ jobs: jobs.activeJobs }, 'waiting for running jobs before stopping')
        while (jobs.activeJobs > 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
        await client.stop()
        await jobs.stop()
        await started.stop()
        await manager.stop()
      }
    }
  } catch (err) {
    try { await node?.stop() } catch { /* already failing */ }
    await manager.stop()
    throw err
  }
}
