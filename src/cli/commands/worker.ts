import { join } from 'node:path'
import type { CommandModule } from 'yargs'
import { loadModelsConfig, ModelsConfigError, type ModelEntry } from '../../inference/models-config.js'
import { createLogger } from '../../observability/logger.js'
import { orchestratorAddress, WorkerConfigError, workerRunnersFrom, type WorkerRegistration } from '../../protocols/worker/index.js'
import { DEFAULT_WORKER_DRAIN_TIMEOUT_MS, startWorker } from '../../roles/worker.js'
import { CliError } from '../errors.js'
import { printEvent, runUntilSignal } from '../lifecycle.js'
import { nodeFlags, parseNodeArgs, withConfigFile } from '../options/node.js'
import { commandSummary } from './index.js'

async function readWorkerModels (path: string): Promise<ModelEntry[]> {
  try {
    const models = await loadModelsConfig(path)
    if (models.length === 0) throw new CliError('CLI_ERROR_CONFIG', `${path} lists no models; a worker needs at least one`)
    return models
  } catch (err) {
    if (err instanceof ModelsConfigError) throw new CliError('CLI_ERROR_CONFIG', err.message)
    throw err
  }
}

function workerFlags (): ReturnType<typeof nodeFlags> {
  // a worker dials its orchestrator only: it joins no mesh, so it has no bootstrap list
  const { bootstrap: _bootstrap, ...node } = nodeFlags('worker')
  return {
    ...node,
    orchestrator: { type: 'string', describe: 'the orchestrator to serve: a multiaddr ending in /p2p/<peer id> [env SHOAL_ORCHESTRATOR]', group: 'Worker:' },
    'ai-models': { type: 'string', describe: 'aiModels.json: the runners this worker offers (CPU runner processes or external URLs; prices are the orchestrator\'s) [default: <data-dir>/aiModels.json]', group: 'Worker:' },
    'drain-timeout': { type: 'number', default: DEFAULT_WORKER_DRAIN_TIMEOUT_MS, describe: 'on shutdown, wait this long (ms) for running jobs after withdrawing capacity', group: 'Worker:' }
  }
}

/**
 * `shoal worker`: serve this machine's runners to one orchestrator over libp2p. The
 * orchestrator must list this worker's peer id in its worker allow-list. Prints
 * `{"event":"started","peerId"}` at start (the id to allow), `{"event":"registered"}` at
 * every (re)registration, `{"event":"refused"}` and `{"event":"disconnected"}` when
 * those happen; it reconnects with backoff until SIGINT/SIGTERM.
 */
export const workerCommand: CommandModule = {
  ...commandSummary('worker'),
  builder: (y) => y.options(withConfigFile(workerFlags())),
  handler: async (args) => {
    const node = parseNodeArgs('worker', args)
    const orchestrator = (args.orchestrator as string | undefined) ?? process.env.SHOAL_ORCHESTRATOR
    if (orchestrator === undefined || orchestrator === '') throw new CliError('CLI_ERROR_USAGE', 'name the orchestrator: --orchestrator /ip4/<host>/tcp/<port>/p2p/<peer id> (or env SHOAL_ORCHESTRATOR)')
    try {
      orchestratorAddress(orchestrator)
    } catch (err) {
      if (err instanceof WorkerConfigError) throw new CliError('CLI_ERROR_CONFIG', `--orchestrator: ${err.message}`)
      throw err
    }
    const drainTimeoutMs = Number(args.drainTimeout ?? DEFAULT_WORKER_DRAIN_TIMEOUT_MS)
    if (!Number.isInteger(drainTimeoutMs) || drainTimeoutMs < 0) throw new CliError('CLI_ERROR_CONFIG', `--drain-timeout: ${String(args.drainTimeout)} must be a non-negative integer number of ms`)
    const models = await readWorkerModels(typeof args.aiModels === 'string' ? args.aiModels : join(node.dataDir, 'aiModels.json'))
    const logger = createLogger({ level: node.logLevel, bindings: { role: 'worker' } })
    await runUntilSignal(logger, async (signal) => {
      const role = await startWorker({ node, orchestrator, models, drainTimeoutMs }, logger, signal)
      const { client, manager, peerId } = role
      printEvent('started', { role: 'worker', peerId, orchestrator: client.orchestratorAddress.toString(), addresses: role.node.getMultiaddrs().map(a => a.toString()) })
      const onRegistered = (registration: WorkerRegistration): void => {
        printEvent('registered', { role: 'worker', peerId, orchestrator: registration.orchestrator, attempts: registration.attempts, runners: workerRunnersFrom(manager.capabilities()) })
      }
      client.on('registered', onRegistered)
      // start-up returns before the first round trip, but be exact about it
      if (client.registered) void client.waitRegistered().then(onRegistered)
      client.on('refused', (err, retryInMs) => {
        printEvent('refused', { role: 'worker', peerId, code: err.code, message: err.message, retryInMs })
      })
      client.on('disconnected', (err) => {
        printEvent('disconnected', { role: 'worker', peerId, reason: err.message })
      })
      return role
    })
  }
}
