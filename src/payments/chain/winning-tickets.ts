import { Contract, type JsonRpcProvider } from 'ethers'
import { normalizeAddress } from '../hex.js'
import { TICKET_BROKER_ABI, toChainError } from './abi.js'

/** A sender's tickets that won and were redeemed by one recipient, as the chain records them. */
export interface RecipientWinners {
  /** winning tickets redeemed */
  count: number
  /** what they paid, from the deposit and the reserve, in wei */
  paidWei: bigint
}

export interface WinningTicketLogInit {
  provider: JsonRpcProvider
  /** the TicketBroker's address */
  broker: string
  /** the sender whose winners are counted */
  sender: string
  /** first block scanned; default: the block at the first read (winners from then on) */
  fromBlock?: number
  /** blocks per eth_getLogs call */
  chunkBlocks?: number
  /** reads closer together than this reuse the last one */
  minIntervalMs?: number
}

/**
 * Counts a sender's winning tickets per recipient from the broker's
 * `WinningTicketRedeemed(ticketHash, sender, recipient, ...)` events: only the sender's
 * own winners are fetched (`sender` is an indexed topic), and each read scans only the
 * blocks since the previous one.
 */
export function createWinningTicketLog (init: WinningTicketLogInit) {
  const contract = new Contract(init.broker, TICKET_BROKER_ABI, init.provider)
  const filter = contract.filters.WinningTicketRedeemed?.(null, init.sender)
  const chunk = init.chunkBlocks ?? 5_000
  const minIntervalMs = init.minIntervalMs ?? 5_000
  const winners = new Map<string, RecipientWinners>()
  let next = init.fromBlock
  let lastReadAt = 0
  let reading: Promise<void> | undefined

  async function scan (): Promise<void> {
    if (filter === undefined) return
    const latest = await init.provider.getBlockNumber()
    next ??= latest
    while (next <= latest) {
      const to = Math.min(latest, next + chunk - 1)
      const logs = await contract.queryFilter(filter, next, to)
      for (const log of logs) {
        const args = (log as unknown as { args: { recipient: string, fromDeposit: bigint, fromReserve: bigint } }).args
        const recipient = normalizeAddress(args.recipient)
        const was = winners.get(recipient) ?? { count: 0, paidWei: 0n }
        winners.set(recipient, { count: was.count + 1, paidWei: was.paidWei + args.fromDeposit + args.fromReserve })
      }
      next = to + 1
    }
  }

  return {
    /** the winners per recipient (lower-case address), read from the chain at most every `minIntervalMs` */
    async read (): Promise<ReadonlyMap<string, RecipientWinners>> {
      if (Date.now() - lastReadAt >= minIntervalMs) {
        reading ??= scan().then(() => { lastReadAt = Date.now() }).finally(() => { reading = undefined })
        try {
          await reading
        } catch (err) {
          throw toChainError(err, 'read winning tickets')
        }
      }
      return winners
    }
  }
}

export type WinningTicketLog = ReturnType<typeof createWinningTicketLog>
