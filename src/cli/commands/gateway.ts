import type { CommandModule } from 'yargs'
import { createLogger } from '../../observability/logger.js'
import { startGateway } from '../../roles/gateway.js'
import { parsePaymentArgs, paymentFlags } from '../options/payments.js'
import { printListening, runUntilSignal } from '../lifecycle.js'
import { gatewayFlags, parseGatewayArgs } from '../options/gateway.js'
import { nodeFlags, parseNodeArgs, withConfigFile } from '../options/node.js'
import { commandSummary } from './index.js'

export const gatewayCommand: CommandModule = {
  ...commandSummary('gateway'),
  builder: (y) => y.options(withConfigFile({ ...nodeFlags('gateway'), ...gatewayFlags(), ...paymentFlags('gateway') })),
  handler: async (args) => {
    const node = parseNodeArgs('gateway', args)
    const options = parseGatewayArgs(args)
    const payments = parsePaymentArgs(args)
    const logger = createLogger({ level: node.logLevel, bindings: { role: 'gateway' } })
    await runUntilSignal(logger, async (signal) => {
      const role = await startGateway({ node, ...options, payments }, logger, signal)
      printListening(signal, { role: 'gateway', peerId: role.peerId, ethAddress: role.ethAddress, url: role.url, payments: payments.enabled, addresses: role.mesh.node.getMultiaddrs().map(a => a.toString()) })
      logger.info({ peer: role.peerId, url: role.url }, 'gateway running')
      return role
    })
  }
}
