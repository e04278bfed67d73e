import type { CommandModule } from 'yargs'
import { createLogger } from '../../observability/logger.js'
import { startBootstrap } from '../../roles/bootstrap.js'
import { printListening, runUntilSignal } from '../lifecycle.js'
import { nodeFlags, parseNodeArgs, withConfigFile } from '../options/node.js'
import { commandSummary } from './index.js'

export const bootstrapCommand: CommandModule = {
  ...commandSummary('bootstrap'),
  builder: (y) => y.options(withConfigFile(nodeFlags('bootstrap'))),
  handler: async (args) => {
    const options = parseNodeArgs('bootstrap', args)
    const logger = createLogger({ level: options.logLevel, bindings: { role: 'bootstrap' } })
    await runUntilSignal(logger, async (signal) => {
      const node = await startBootstrap(options, logger, signal)
      printListening(signal, { role: 'bootstrap', peerId: node.peerId, addresses: node.addresses })
      logger.info({ peer: node.peerId, addresses: node.addresses }, 'bootstrap running')
      return node
    })
  }
}
