import type { Registry } from 'prom-client'
import type { PaymentConfig } from './config.js'
import { createEthBinding } from '../identity/binding.js'
import type { Logger } from '../observability/logger.js'
import type { NodeKeys } from '../p2p/keys.js'
import { createEthersBroker, createProvider, createWinningTicketLog, DEFAULT_CHAIN_CONNECT_TIMEOUT_MS, type WinningTicketLog } from '../payments/chain/index.js'
import { createPaymentMetrics, createPaymentRecipient, createPaymentSender, createRedeemer, systemClock, type PaymentRecipient, type PaymentSender, type Redeemer } from '../payments/index.js'
import { createSqliteTicketStore, ticketStorePath } from '../payments/store/sqlite-ticket-store.js'
import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { checkRedemptionGas, warnIfCannotRedeem } from '../payments/gas-check.js'
import { RoleStartError } from './errors.js'
import type { JsonRpcProvider } from 'ethers'

/**
 * The chain's provider, waited for at start (`--chain-timeout`); a chain that does not
 * answer stops the node with one line naming the node, the URL and the flag to raise.
 */
export async function connectChain (options: PaymentConfig, who: string, signal?: AbortSignal): Promise<JsonRpcProvider> {
  const timeoutMs = options.chainTimeoutMs ?? DEFAULT_CHAIN_CONNECT_TIMEOUT_MS
  try {
    return await createProvider(options.rpcUrl, { signal, connectTimeoutMs: timeoutMs })
  } catch (err) {
    if (signal?.aborted === true) throw err
    throw new RoleStartError('ROLE_ERROR_CHAIN', `${who}: cannot reach the chain at ${options.rpcUrl} within ${Math.round(timeoutMs / 1000)} s (raise --chain-timeout on a busy machine): ${(err as Error).message}`, undefined, { cause: err })
  }
}

export interface OrchestratorPayments {
  recipient: PaymentRecipient
  redeemer: Redeemer
  stop: () => Promise<void>
}

/**
 * The orchestrator's payment side: the TicketBroker through ethers (its Ethereum key
 * pays redemption gas), the durable SQLite store of winners, and the redemption loop,
 * which resumes whatever a previous run left unredeemed.
 */
export async function startOrchestratorPayments (options: PaymentConfig, keys: NodeKeys, dataDir: string, register: Registry, logger: Logger, signal?: AbortSignal): Promise<OrchestratorPayments> {
  const provider = await connectChain(options, `orchestrator ${keys.peerId.toString()}`, signal)
  const broker = createEthersBroker({ provider, address: options.brokerAddress, privateKey: keys.ethereum.privateKey })
  const storePath = ticketStorePath(dataDir)
  await mkdir(dirname(storePath), { recursive: true, mode: 0o700 })
  const store = createSqliteTicketStore(storePath)
  const metrics = createPaymentMetrics(register)
  const recipient = createPaymentRecipient({
    privateKey: keys.ethereum.privateKey,
    broker,
    store,
    metrics,
    ...(options.ticketEV !== undefined ? { ev: options.ticketEV } : {}),
    ...(options.gasPrice !== undefined ? { gasPrice: options.gasPrice } : {})
  })
  const redeemer = createRedeemer({ broker: recipient.broker, store, clock: systemClock, metrics, logger: logger.child({ component: 'redeemer' }) })
  redeemer.start()
  // a wallet without gas money earns winning tickets it can never redeem: say so at start
  try {
    warnIfCannotRedeem(await checkRedemptionGas({ provider, address: keys.ethereum.address, ...(options.gasPrice !== undefined ? { gasPriceWei: options.gasPrice } : {}) }), logger)
  } catch (err) {
    logger.warn({ err }, 'could not check whether the wallet can pay redemption gas')
  }
  return {
    recipient,
    redeemer,
    async stop () {
      await redeemer.stop()
      provider.destroy()
      store.close()
    }
  }
}

export interface GatewayPayments {
  sender: PaymentSender
  identity: { address: string, binding: string }
  /** this gateway's tickets that won and were redeemed since it started, per orchestrator */
  winners: WinningTicketLog
  stop: () => Promise<void>
}

/** The gateway's payment side: a ticket sender over its funded Ethereum account, bound to its peer id. */
export async function startGatewayPayments (options: PaymentConfig, keys: NodeKeys, register: Registry, signal?: AbortSignal): Promise<GatewayPayments> {
  const provider = await connectChain(options, `gateway ${keys.peerId.toString()}`, signal)
  const broker = createEthersBroker({ provider, address: options.brokerAddress })
  const sender = createPaymentSender({
    privateKey: keys.ethereum.privateKey,
    broker,
    metrics: createPaymentMetrics(register),
    caps: {
      ...(options.maxTicketEV !== undefined ? { maxTicketEV: options.maxTicketEV } : {}),
      ...(options.maxJobEV !== undefined ? { maxJobEV: options.maxJobEV } : {})
    }
  })
  const binding = await createEthBinding(keys.peerId.toString(), keys.ethereum.privateKey)
  // winners are counted from now: tickets of this run win once their params expire, later
  const winners = createWinningTicketLog({ provider, broker: options.brokerAddress, sender: sender.address, fromBlock: await provider.getBlockNumber() })
  return {
    sender,
    identity: { address: sender.address, binding: binding.ethBinding },
    winners,
    async stop () { provider.destroy() }
  }
}
