import type { Options } from 'yargs'
import type { PaymentConfig } from '../../roles/config.js'
import { CliError } from '../errors.js'
import { isEthAddress } from '../../kernel/identifiers.js'
import { defaultPriceFeedOptions, type PriceFeedSource } from '../../payments/price-feed/options.js'
import { parseUsdPerEth } from '../../payments/price-feed/usd.js'
import { DEFAULT_CHAIN_CONNECT_TIMEOUT_MS } from '../../payments/chain/provider.js'

/** Payment settings shared by orchestrators and gateways. Payments are on unless turned off explicitly. */
export type PaymentCliOptions = PaymentConfig

export function paymentFlags (role: 'orchestrator' | 'gateway'): Record<string, Options> {
  const common: Record<string, Options> = {
    payments: { choices: ['on', 'off'], default: 'on', describe: 'pay (gateway) or require payment (orchestrator) with tickets; "off" only for a private mesh', group: 'Payments:' },
    'rpc-url': { type: 'string', describe: 'Ethereum JSON-RPC URL of the chain with the TicketBroker', group: 'Payments:' },
    broker: { type: 'string', describe: 'TicketBroker contract address', group: 'Payments:' },
    'chain-timeout': { type: 'number', default: DEFAULT_CHAIN_CONNECT_TIMEOUT_MS, describe: 'how long to wait at start for --rpc-url to answer, ms; the node does not start without its chain', group: 'Payments:' },
    'price-feed': { type: 'string', describe: `ETH/USD price feed: an AggregatorV3Interface contract (Chainlink's) on the --rpc-url chain; ${role === 'orchestrator' ? 'converts aiModels.json prices in USD to wei' : 'shows prices in USD in /network/orchestrators'}`, group: 'Payments:' },
    'usd-per-eth': { type: 'string', describe: 'a fixed ETH/USD rate instead of --price-feed, e.g. 2500', group: 'Payments:' },
    'price-feed-poll-ms': { type: 'number', describe: `how often --price-feed is read, ms [default: ${defaultPriceFeedOptions.pollIntervalMs}]`, group: 'Payments:' }
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

function priceFeedOf (args: Record<string, unknown>, rpcUrl: string): PriceFeedSource | undefined {
  const address = typeof args.priceFeed === 'string' ? args.priceFeed : undefined
  const fixed = args.usdPerEth === undefined ? undefined : String(args.usdPerEth)
  if (address !== undefined && fixed !== undefined) throw new CliError('CLI_ERROR_CONFIG', '--price-feed and --usd-per-eth: give one ETH/USD rate source, not both')
  if (address !== undefined) {
    if (!isEthAddress(address)) throw new CliError('CLI_ERROR_CONFIG', `--price-feed: "${address}" is not a contract address`)
    if (rpcUrl === '' || !URL.canParse(rpcUrl)) throw new CliError('CLI_ERROR_CONFIG', '--price-feed is read on the --rpc-url chain: give --rpc-url')
    const poll = args.priceFeedPollMs
    if (poll !== undefined && (typeof poll !== 'number' || !Number.isInteger(poll) || poll < 100)) throw new CliError('CLI_ERROR_CONFIG', `--price-feed-poll-ms: "${String(poll)}" must be a whole number of ms, at least 100`)
    return { kind: 'aggregator', rpcUrl, address, ...(poll === undefined ? {} : { pollIntervalMs: poll }) }
  }
  if (fixed !== undefined) {
    try {
      parseUsdPerEth(fixed)
    } catch (err) {
      throw new CliError('CLI_ERROR_CONFIG', `--usd-per-eth: ${(err as Error).message}`)
    }
    return { kind: 'fixed', usdPerEth: fixed }
  }
  return undefined
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
  const priceFeed = priceFeedOf(args, rpcUrl)
  const chainTimeout = args.chainTimeout ?? DEFAULT_CHAIN_CONNECT_TIMEOUT_MS
  if (typeof chainTimeout !== 'number' || !Number.isInteger(chainTimeout) || chainTimeout < 1) throw new CliError('CLI_ERROR_CONFIG', `--chain-timeout: "${String(chainTimeout)}" must be a whole number of ms, at least 1`)
  return {
    enabled,
    rpcUrl,
    chainTimeoutMs: chainTimeout,
    ...(priceFeed === undefined ? {} : { priceFeed }),
    brokerAddress,
    ticketEV: wei('ticket-ev', args.ticketEv),
    gasPrice: wei('gas-price', args.gasPrice),
    maxTicketEV: wei('max-ticket-ev', args.maxTicketEv),
    maxJobEV: wei('max-job-ev', args.maxJobEv)
  }
}
