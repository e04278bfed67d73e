import type { Registry } from 'prom-client'
import type { PaymentConfig } from './config.js'
import { createEthBinding } from '../identity/binding.js'
import type { Logger } from '../observability/logger.js'
import type { NodeKeys } from '../p2p/keys.js'
import { createEthersBroker, createProvider, createWinningTicketLog, type WinningTicketLog } from '../payments/chain/index.js'
import { createPaymentMetrics, createPaymentRecipient, createPaymentSender, createRedeemer, systemClock, type PaymentRecipient, type PaymentSender, type Redeemer } from '../payments/index.js'
import { createSqliteTicketStore, ticketStorePath } from '../payments/store/sqlite-ticket-store.js'
import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { checkRedemptionGas, warnIfCannotRedeem } from '../payments/gas-check.js'

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
  const provider = await createProvider(options.rpcUrl, { signal })
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
  const provider = await createProvider(options.rpcUrl, { signal })
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
