import type { Options } from 'yargs'
import type { PaymentConfig } from '../../roles/config.js'
import { CliError } from '../errors.js'
import { isEthAddress } from '../../kernel/identifiers.js'

/** Payment settings shared by orchestrators and gateways. Payments are on unless turned off explicitly. */
export type PaymentCliOptions = PaymentConfig

export function paymentFlags (role: 'orchestrator' | 'gateway'): Record<string, Options> {
  const common: Record<string, Options> = {
    payments: { choices: ['on', 'off'], default: 'on', describe: 'pay (gateway) or require payment (orchestrator) with tickets; "off" only for a private mesh', group: 'Payments:' },
    'rpc-url': { type: 'string', describe: 'Ethereum JSON-RPC URL of the chain with the TicketBroker', group: 'Payments:' },
    broker: { type: 'string', describe: 'TicketBroker contract address', group: 'Payments:' }
  }
  if (role === 'orchestrator') {
    return {
      ...common,
      'ticket-ev': { type: 'string', describe: 'expected value asked per ticket, wei [default: 1e12]', group: 'Payments:' },
      'gas-price': { type: 'string', describe: 'gas price for face values, wei [default: the chain\'s]', group: 'Payments:' }
    }
  }
  return {
    ...common,
    'max-ticket-ev': { type: 'string', describe: 'highest expected value accepted per ticket, wei [default: 1e13]', group: 'Payments:' },
    'max-job-ev': { type: 'string', describe: 'highest expected value sent for one job, wei [default: no cap]', group: 'Payments:' }
  }
}

function wei (flag: string, value: unknown): bigint | undefined {
  if (value === undefined) return undefined
  const text = String(value)
  if (!/^\d+$/.test(text)) throw new CliError('CLI_ERROR_CONFIG', `--${flag}: "${text}" must be a whole number of wei`)
  return BigInt(text)
}

export function parsePaymentArgs (args: Record<string, unknown>): PaymentCliOptions {
  const enabled = (args.payments ?? 'on') !== 'off'
  const rpcUrl = typeof args.rpcUrl === 'string' ? args.rpcUrl : ''
  const brokerAddress = typeof args.broker === 'string' ? args.broker : ''
  if (enabled) {
    if (rpcUrl === '' || brokerAddress === '') {
      throw new CliError('CLI_ERROR_CONFIG', 'payments are on by default: give --rpc-url and --broker (or SHOAL_RPC_URL and SHOAL_BROKER), or --payments off for a private mesh')
    }
    if (!isEthAddress(brokerAddress)) throw new CliError('CLI_ERROR_CONFIG', `--broker: "${brokerAddress}" is not a contract address`)
    if (!URL.canParse(rpcUrl)) throw new CliError('CLI_ERROR_CONFIG', `--rpc-url: "${rpcUrl}" is not a URL`)
  }
  return {
    enabled,
    rpcUrl,
    brokerAddress,
    ticketEV: wei('ticket-ev', args.ticketEv),
    gasPrice: wei('gas-price', args.gasPrice),
    maxTicketEV: wei('max-ticket-ev', args.maxTicketEv),
    maxJobEV: wei('max-job-ev', args.maxJobEv)
  }
}
