import { Contract, Wallet, type JsonRpcProvider, type TransactionReceipt } from 'ethers'
import type { AbortOptions, Broker, BrokerConfig, Redemption, SenderInfo } from '../broker.js'
import { ChainError } from '../errors.js'
import { bytesToHex, normalizeAddress } from '../hex.js'
import type { Ticket } from '../ticket.js'
import { TICKET_BROKER_ABI, ticketBrokerInterface, toChainError } from './abi.js'

export interface EthersBrokerInit {
  provider: JsonRpcProvider
  /** TicketBroker contract address */
  address: string
  /** key that pays gas for redemptions; without it the broker can only read */
  privateKey?: string
  /** confirmations to wait for; default 1 */
  confirmations?: number
}

type TicketTuple = [string, string, bigint, bigint, bigint, string, bigint]

export function ticketTuple (t: Ticket): TicketTuple {
  return [t.recipient, t.sender, t.faceValue, t.winProb, t.senderNonce, t.recipientRandHash, t.expirationBlock]
}

/** Calls `fn`, maps ethers failures to ChainError, and honours the signal before and after. */
async function call<T> (what: string, options: AbortOptions | undefined, fn: () => Promise<T>): Promise<T> {
  options?.signal?.throwIfAborted()
  try {
    return await fn()
  } catch (err) {
    throw toChainError(err, what)
  } finally {
    options?.signal?.throwIfAborted()
  }
}

/** The chain-backed Broker (ethers 6). */
export function createEthersBroker (init: EthersBrokerInit): Broker & { readonly address: string, readonly wallet: Wallet | null } {
  const address = normalizeAddress(init.address)
  const wallet = init.privateKey === undefined ? null : new Wallet(init.privateKey, init.provider)
  const reader = new Contract(address, TICKET_BROKER_ABI, init.provider)
  const writer = wallet === null ? null : new Contract(address, TICKET_BROKER_ABI, wallet)
  const confirmations = init.confirmations ?? 1

  const needWriter = (): Contract => {
    if (writer === null) throw new ChainError('CHAIN_ERROR_CONFIG', 'this broker client has no key: it cannot send transactions')
    return writer
  }

  let config: BrokerConfig | undefined

  return {
    address,
    wallet,
    async config (options) {
      if (config !== undefined) return config
      config = await call('read broker config', options, async () => {
        const [network, unlockPeriod, redeemWindow] = await Promise.all([
          init.provider.getNetwork(),
          reader.unlockPeriod() as Promise<bigint>,
          reader.redeemWindow() as Promise<bigint>
        ])
        return { chainId: network.chainId, broker: address, unlockPeriod, redeemWindow }
      })
      return config
    },
    async blockNumber (options) {
      return await call('read block number', options, async () => BigInt(await init.provider.getBlockNumber()))
    },
    async senderInfo (sender, options): Promise<SenderInfo> {
      return await call('read sender info', options, async () => {
        const r = await reader.getSenderInfo(sender) as [bigint, bigint, bigint, bigint, bigint, bigint, boolean]
        return {
          deposit: r[0],
          withdrawBlock: r[1],
          reserve: { funds: r[2], allocBase: r[3], maxRecipients: Number(r[4]), epoch: r[5], frozen: r[6] }
        }
      })
    },
    async claimableReserve (sender, recipient, options) {
      return await call('read claimable reserve', options, async () => await reader.claimableReserve(sender, recipient) as bigint)
    },
    async isTicketUsed (ticketHash, options) {
      return await call('read used tickets', options, async () => await reader.usedTickets(ticketHash) as boolean)
    },
    async gasPrice (options) {
      return await call('read gas price', options, async () => {
        const fee = await init.provider.getFeeData()
        return fee.gasPrice ?? fee.maxFeePerGas ?? 0n
      })
    },
    async estimateRedeemGas (ticket, signature, recipientRand, options) {
      const c = needWriter()
      return await call('estimate redemption gas', options, async () =>
        await c.redeemWinningTicket.estimateGas(ticketTuple(ticket), bytesToHex(signature), recipientRand))
    },
    async findRedemption (ticketHash, fromBlock, options) {
      return await call('find redemption', options, async () => {
        const logs = await init.provider.getLogs({
          address,
          fromBlock: fromBlock < 0n ? 0 : Number(fromBlock),
          toBlock: 'latest',
          topics: [ticketBrokerInterface.getEvent('WinningTicketRedeemed')?.topicHash ?? null, ticketHash]
        })
        if (logs.length === 0) return null
        const receipt = await init.provider.getTransactionReceipt(logs[0].transactionHash)
        if (receipt === null) return null
        return redemptionOf(receipt, ticketHash)
      })
    },
    async redeemWinningTicket (ticket, signature, recipientRand, options): Promise<Redemption> {
      const c = needWriter()
      return await call('redeem winning ticket', options, async () => {
        const tx = await c.redeemWinningTicket(ticketTuple(ticket), bytesToHex(signature), recipientRand)
        const receipt = await tx.wait(confirmations) as TransactionReceipt
        return redemptionOf(receipt)
      })
    }
  }
}

function redemptionOf (receipt: TransactionReceipt, onlyTicket?: string): Redemption {
  let fromDeposit = 0n
  let fromReserve = 0n
  for (const log of receipt.logs) {
    const parsed = ticketBrokerInterface.parseLog(log)
    if (parsed?.name === 'WinningTicketRedeemed' && (onlyTicket === undefined || parsed.args.ticketHash === onlyTicket)) {
      fromDeposit += parsed.args.fromDeposit as bigint
      fromReserve += parsed.args.fromReserve as bigint
    }
  }
  return {
    txHash: receipt.hash,
    blockNumber: BigInt(receipt.blockNumber),
    paid: fromDeposit + fromReserve,
    fromDeposit,
    fromReserve,
    feeWei: receipt.gasUsed * receipt.gasPrice
  }
}
