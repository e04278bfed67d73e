import type { CommandModule } from 'yargs'
import { createLogger } from '../../observability/logger.js'
import { startOrchestrator } from '../../roles/orchestrator.js'
import { printListening, runUntilSignal } from '../lifecycle.js'
import { nodeFlags, parseNodeArgs, withConfigFile } from '../options/node.js'
import { orchestratorFlags, parseOrchestratorArgs, readCustomCapabilities, readModels } from '../options/orchestrator.js'
import { parsePaymentArgs, paymentFlags } from '../options/payments.js'
import { parseRunnerArgs, runnerFlags } from '../options/runners.js'
import { commandSummary } from './index.js'

export const orchestratorCommand: CommandModule = {
  ...commandSummary('orchestrator'),
  builder: (y) => y.options(withConfigFile({ ...nodeFlags('orchestrator'), ...orchestratorFlags(), ...runnerFlags(), ...paymentFlags('orchestrator') })),
  handler: async (args) => {
    const node = parseNodeArgs('orchestrator', args)
    const options = parseOrchestratorArgs(node, args)
    const payments = parsePaymentArgs(args)
    const runners = parseRunnerArgs(args)
    const customCapabilities = await readCustomCapabilities(options.customCapabilitiesPath)
    const models = await readModels(options.aiModelsPath, { allowEmpty: runners.workerAllow.length > 0 || customCapabilities.length > 0 })
    const workerModels = runners.workerModelsPath === undefined ? [] : await readModels(runners.workerModelsPath)
    const logger = createLogger({ level: node.logLevel, bindings: { role: 'orchestrator' } })
    await runUntilSignal(logger, async (signal) => {
      const role = await startOrchestrator({ node, models, customCapabilities, workerModels, runners, payments, announcementTtlMs: options.announcementTtlMs, aiLimits: options.aiLimits, metricsPort: options.metricsPort, live: { paymentIntervalMs: options.livePaymentIntervalMs }, streams: { paymentIntervalMs: options.streamPaymentIntervalMs } }, logger, signal)
      const addresses = role.mesh.node.getMultiaddrs().map(a => a.toString())
      printListening(signal, { role: 'orchestrator', peerId: role.peerId, ethAddress: role.keys.ethereum.address, addresses, models: role.manager.capabilities(), payments: payments.enabled, metrics: role.metricsUrl ?? null })
      logger.info({ peer: role.peerId, addresses }, 'orchestrator running')
      return role
    })
  }
}
