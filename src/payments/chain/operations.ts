import { Contract, Wallet, type ContractTransactionResponse, type JsonRpcProvider, type TransactionReceipt } from 'ethers'
import type { AbortOptions, ReserveInfo } from '../broker.js'
import { ChainError } from '../errors.js'
import { normalizeAddress } from '../hex.js'
import type { StatusSummary, StoredWinner, TicketStore, WinnerStatus } from '../ticket-store.js'
import { TICKET_BROKER_ABI, toChainError } from './abi.js'
import { createEthersBroker } from './ethers-broker.js'

/** A mined transaction. */
export interface TxResult {
  txHash: string
  blockNumber: bigint
  /** gas used x effective gas price, in wei */
  feeWei: bigint
}

/** Everything `shoal chain status` shows. */
export interface ChainStatus {
  address: string
  chainId: bigint
  broker: string
  blockNumber: bigint
  /** ether in the account itself */
  walletBalance: bigint
  deposit: bigint
  reserve: ReserveInfo
  unlocking: boolean
  /** first block withdraw() works in (0 when not unlocking) */
  withdrawBlock: bigint
  /** unlocking and the period is over */
  withdrawable: boolean
  unlockPeriod: bigint
  redeemWindow: bigint
  /** winning tickets this node holds as a recipient (from its data dir), or null without a store */
  tickets: { summary: Record<WinnerStatus, StatusSummary>, recent: StoredWinner[] } | null
}

/**
 * The account operations behind `shoal chain`: a sender funds its deposit and reserve,
 * unlocks and withdraws; anyone reads its status (and, for a recipient, its pending and
 * redeemed tickets from the local store).
 */
export interface ChainOperations {
  readonly address: string
  deposit: (wei: bigint, options?: AbortOptions) => Promise<TxResult>
  /** adds to the reserve; `maxRecipients` is how many recipients share it (see the reserve rule) */
  reserve: (wei: bigint, maxRecipients: number, options?: AbortOptions) => Promise<TxResult>
  /** funds both in one transaction */
  fund: (depositWei: bigint, reserveWei: bigint, maxRecipients: number, options?: AbortOptions) => Promise<TxResult>
  unlock: (options?: AbortOptions) => Promise<TxResult & { withdrawBlock: bigint }>
  cancelUnlock: (options?: AbortOptions) => Promise<TxResult>
  withdraw: (options?: AbortOptions) => Promise<TxResult & { deposit: bigint, reserve: bigint }>
  status: (options?: AbortOptions & { recentTickets?: number }) => Promise<ChainStatus>
  /** adds to this account's orchestrator bond (stake) */
  bond: (wei: bigint, options?: AbortOptions) => Promise<TxResult & { bonded: bigint }>
  /** takes `wei` out of the bond; withdrawable from `withdrawBlock` */
  unbond: (wei: bigint, options?: AbortOptions) => Promise<TxResult & { bonded: bigint, withdrawBlock: bigint }>
  withdrawBond: (options?: AbortOptions) => Promise<TxResult & { amount: bigint }>
  bondStatus: (options?: AbortOptions) => Promise<BondInfo & { address: string, blockNumber: bigint, withdrawable: boolean }>
}

/** An orchestrator's bond in the TicketBroker. */
export interface BondInfo {
  bonded: bigint
  unbonding: bigint
  /** first block withdrawBond() works in (0 when nothing is unbonding) */
  withdrawBlock: bigint
}

/** Reads one address's bond (a view call: no key needed). */
export async function readBond (provider: JsonRpcProvider, broker: string, address: string, options?: AbortOptions): Promise<BondInfo> {
  options?.signal?.throwIfAborted()
  try {
    const contract = new Contract(normalizeAddress(broker), TICKET_BROKER_ABI, provider)
    const [bonded, unbonding, withdrawBlock] = await contract.bondOf(address) as [bigint, bigint, bigint]
    return { bonded, unbonding, withdrawBlock }
  } catch (err) {
    throw toChainError(err, 'read bond')
  }
}

export interface ChainOperationsInit {
  provider: JsonRpcProvider
  /** TicketBroker address */
  broker: string
  privateKey: string
  /** the node's winning-ticket store, for status */
  store?: TicketStore | null
}

export function createChainOperations (init: ChainOperationsInit): ChainOperations {
  const brokerAddress = normalizeAddress(init.broker)
  const wallet = new Wallet(init.privateKey, init.provider)
  const address = wallet.address.toLowerCase()
  const contract = new Contract(brokerAddress, TICKET_BROKER_ABI, wallet)
  const reader = createEthersBroker({ provider: init.provider, address: brokerAddress })

  const send = async (what: string, options: AbortOptions | undefined, fn: () => Promise<ContractTransactionResponse>): Promise<{ result: TxResult, receipt: TransactionReceipt }> => {
    options?.signal?.throwIfAborted()
    try {
      const code = await init.provider.getCode(brokerAddress)
      if (code === '0x') throw new ChainError('CHAIN_ERROR_CONFIG', `no contract at ${brokerAddress} on this chain`)
      const tx = await fn()
      const receipt = await tx.wait(1)
      if (receipt === null) throw new ChainError('CHAIN_ERROR_RPC', `${what}: transaction not mined`)
      return { receipt, result: { txHash: receipt.hash, blockNumber: BigInt(receipt.blockNumber), feeWei: receipt.gasUsed * receipt.gasPrice } }
    } catch (err) {
      throw toChainError(err, what)
    }
  }

  const positive = (wei: bigint, what: string): void => {
    if (wei <= 0n) throw new ChainError('CHAIN_ERROR_CONFIG', `${what} must be more than 0 wei`)
  }

  const eventArg = (receipt: TransactionReceipt, name: string, arg: string): bigint => {
    for (const log of receipt.logs) {
      const parsed = contract.interface.parseLog(log)
      if (parsed?.name === name) return parsed.args[arg] as bigint
    }
    return 0n
  }

  return {
    address,
    async deposit (wei, options) {
      positive(wei, 'the deposit')
      return (await send('fund deposit', options, async () => await contract.fundDeposit({ value: wei }))).result
    },
    async reserve (wei, maxRecipients, options) {
      positive(wei, 'the reserve')
      return (await send('fund reserve', options, async () => await contract.fundReserve(maxRecipients, { value: wei }))).result
    },
    async fund (depositWei, reserveWei, maxRecipients, options) {
      positive(depositWei + reserveWei, 'the funding')
      return (await send('fund deposit and reserve', options, async () =>
        await contract.fundDepositAndReserve(depositWei, reserveWei, maxRecipients, { value: depositWei + reserveWei }))).result
    },
    async unlock (options) {
      const { result, receipt } = await send('unlock', options, async () => await contract.unlock())
      return { ...result, withdrawBlock: eventArg(receipt, 'Unlock', 'withdrawBlock') }
    },
    async cancelUnlock (options) {
      return (await send('cancel unlock', options, async () => await contract.cancelUnlock())).result
    },
    async withdraw (options) {
      const { result, receipt } = await send('withdraw', options, async () => await contract.withdraw())
      return { ...result, deposit: eventArg(receipt, 'Withdrawal', 'deposit'), reserve: eventArg(receipt, 'Withdrawal', 'reserve') }
    },
    async bond (wei, options) {
      positive(wei, 'the bond')
      const { result, receipt } = await send('bond', options, async () => await contract.bond({ value: wei }))
      return { ...result, bonded: eventArg(receipt, 'Bonded', 'bonded') }
    },
    async unbond (wei, options) {
      positive(wei, 'the amount to unbond')
      const { result, receipt } = await send('unbond', options, async () => await contract.unbond(wei))
      return { ...result, bonded: eventArg(receipt, 'Unbonding', 'bonded'), withdrawBlock: eventArg(receipt, 'Unbonding', 'withdrawBlock') }
    },
    async withdrawBond (options) {
      const { result, receipt } = await send('withdraw bond', options, async () => await contract.withdrawBond())
      return { ...result, amount: eventArg(receipt, 'BondWithdrawn', 'amount') }
    },
    async bondStatus (options) {
      const [info, blockNumber] = await Promise.all([readBond(init.provider, brokerAddress, address, options), reader.blockNumber(options)])
      return { address, blockNumber, ...info, withdrawable: info.withdrawBlock !== 0n && info.unbonding > 0n && blockNumber + 1n >= info.withdrawBlock }
    },
    async status (options) {
      options?.signal?.throwIfAborted()
      let code: string
      try {
        code = await init.provider.getCode(brokerAddress)
      } catch (err) {
        throw toChainError(err, 'read broker')
      }
      if (code === '0x') throw new ChainError('CHAIN_ERROR_CONFIG', `no contract at ${brokerAddress} on this chain`)
      const [config, blockNumber, info, walletBalance] = await Promise.all([
        reader.config(options),
        reader.blockNumber(options),
        reader.senderInfo(address, options),
        init.provider.getBalance(address).catch((err: unknown) => { throw toChainError(err, 'read balance') })
      ])
      const store = init.store ?? null
      return {
        address,
        chainId: config.chainId,
        broker: brokerAddress,
        blockNumber,
        walletBalance,
        deposit: info.deposit,
        reserve: info.reserve,
        unlocking: info.withdrawBlock !== 0n,
        withdrawBlock: info.withdrawBlock,
        withdrawable: info.withdrawBlock !== 0n && blockNumber + 1n >= info.withdrawBlock,
        unlockPeriod: config.unlockPeriod,
        redeemWindow: config.redeemWindow,
        tickets: store === null ? null : { summary: store.summary(), recent: store.list({ limit: options?.recentTickets ?? 10 }) }
      }
    }
  }
}
