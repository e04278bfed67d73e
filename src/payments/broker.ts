import type { Clock } from './clock.js'
import type { Ticket, TicketDomain } from './ticket.js'

/**
 * The contract's refusals (custom error names, `ChainError.details.reason`) after which
 * retrying the same redemption can never succeed. SenderUnfunded is not one: the sender
 * may fund again within the redeem window.
 */
export const PERMANENT_REDEEM_REVERTS: ReadonlySet<string> = new Set([
  'InvalidRecipient', 'InvalidSender', 'ZeroFaceValue', 'TicketExpired', 'TicketUsed',
  'InvalidRecipientRand', 'InvalidSignature', 'TicketNotWinning'
])

/** Options every broker call takes. */
export interface AbortOptions {
  signal?: AbortSignal
}

/** A sender's reserve on the broker (see the reserve rule in the contract and README). */
export interface ReserveInfo {
  funds: bigint
  /** the funds when the current epoch froze (its first claim); 0 while not frozen */
  allocBase: bigint
  maxRecipients: number
  epoch: bigint
  frozen: boolean
}

/** A sender's funds and unlock state on the broker. */
export interface SenderInfo {
  deposit: bigint
  /** first block withdraw() is allowed in; 0n while the sender is not unlocking */
  withdrawBlock: bigint
  reserve: ReserveInfo
}

/** Fixed settings of a deployed broker. */
export interface BrokerConfig extends TicketDomain {
  /** blocks between unlock() and withdraw() */
  unlockPeriod: bigint
  /** blocks after a ticket's expirationBlock during which it can still be redeemed */
  redeemWindow: bigint
}

/** A confirmed redemption. */
export interface Redemption {
  txHash: string
  blockNumber: bigint
  /** what the recipient received (may be less than the face value when the sender ran short) */
  paid: bigint
  fromDeposit: bigint
  fromReserve: bigint
  /** gas used x effective gas price */
  feeWei: bigint
}

/**
 * The TicketBroker contract as ticket logic sees it. Reads may be cached (see
 * `cachedBroker`); `redeemWinningTicket` throws a ChainError whose `details.reason` is
 * the contract's custom error name (TicketUsed, TicketNotWinning, SenderUnfunded, ...)
 * when the contract refuses, and CHAIN_ERROR_RPC when the chain could not be reached.
 */
export interface Broker {
  /** chain id, contract address and the contract's periods */
  config: (options?: AbortOptions) => Promise<BrokerConfig>
  /** the latest block number */
  blockNumber: (options?: AbortOptions) => Promise<bigint>
  /** a sender's deposit, reserve and unlock state */
  senderInfo: (sender: string, options?: AbortOptions) => Promise<SenderInfo>
  /** what `recipient` could claim from `sender`'s reserve right now */
  claimableReserve: (sender: string, recipient: string, options?: AbortOptions) => Promise<bigint>
  /** true once the ticket with this hash has been redeemed */
  isTicketUsed: (ticketHash: string, options?: AbortOptions) => Promise<boolean>
  /** the gas price a transaction would pay now (base fee + tip), in wei */
  gasPrice: (options?: AbortOptions) => Promise<bigint>
  /** gas a redemption would use; throws like redeemWinningTicket when it would revert */
  estimateRedeemGas: (ticket: Ticket, signature: Uint8Array, recipientRand: bigint, options?: AbortOptions) => Promise<bigint>
  /** the redemption of a ticket, looked up in the broker's logs from `fromBlock` on (null when none) */
  findRedemption: (ticketHash: string, fromBlock: bigint, options?: AbortOptions) => Promise<Redemption | null>
  /** submits a redemption and waits for it to be mined */
  redeemWinningTicket: (ticket: Ticket, signature: Uint8Array, recipientRand: bigint, options?: AbortOptions) => Promise<Redemption>
}

export interface CachedBrokerOptions {
  /** how long a block number is reused; default 1000 ms */
  blockTtlMs?: number
  /** how long a sender's info and reserve claimable are reused; default 5000 ms */
  senderTtlMs?: number
  /** how long the gas price is reused; default 15000 ms */
  gasPriceTtlMs?: number
}

/** A broker whose reads are cached for a short time, plus a way to drop a sender's cached state. */
export interface CachedBroker extends Broker {
  /** forget what is cached about `sender` (after a redemption, or when a peer says it funded) */
  invalidateSender: (sender: string) => void
}

interface Entry<T> { at: number, value: Promise<T> }

/**
 * Wraps a broker so that the hot path (every ticket batch) does not call the chain:
 * block number, sender info, claimable reserve and gas price are reused within their TTLs,
 * and concurrent callers share one request. Failed reads are not cached.
 */
export function cachedBroker (broker: Broker, clock: Clock, options: CachedBrokerOptions = {}): CachedBroker {
  const blockTtl = options.blockTtlMs ?? 1000
  const senderTtl = options.senderTtlMs ?? 5000
  const gasTtl = options.gasPriceTtlMs ?? 15_000
  let config: Promise<BrokerConfig> | undefined
  let block: Entry<bigint> | undefined
  let gas: Entry<bigint> | undefined
  const senders = new Map<string, Entry<SenderInfo>>()
  const claimables = new Map<string, Entry<bigint>>()
  const MAX_ENTRIES = 10_000

  function cached<T> (get: () => Entry<T> | undefined, set: (e: Entry<T> | undefined) => void, ttl: number, load: () => Promise<T>): Promise<T> {
    const now = clock.now()
    const hit = get()
    if (hit !== undefined && now - hit.at < ttl) return hit.value
    const value = load()
    const entry = { at: now, value }
    set(entry)
    value.catch(() => { if (get() === entry) set(undefined) })
    return value
  }

  function inMap<T> (map: Map<string, Entry<T>>, key: string, ttl: number, load: () => Promise<T>): Promise<T> {
    return cached(() => map.get(key), (e) => {
      if (e === undefined) { map.delete(key); return }
      if (!map.has(key) && map.size >= MAX_ENTRIES) map.delete(map.keys().next().value as string)
      map.set(key, e)
    }, ttl, load)
  }

  return {
    config: async (opts) => {
      config ??= broker.config(opts).catch((err: unknown) => { config = undefined; throw err })
      return await config
    },
    blockNumber: async (opts) => await cached(() => block, (e) => { block = e }, blockTtl, async () => await broker.blockNumber(opts)),
    senderInfo: async (sender, opts) => await inMap(senders, sender, senderTtl, async () => await broker.senderInfo(sender, opts)),
    claimableReserve: async (sender, recipient, opts) =>
      await inMap(claimables, `${sender}:${recipient}`, senderTtl, async () => await broker.claimableReserve(sender, recipient, opts)),
    gasPrice: async (opts) => await cached(() => gas, (e) => { gas = e }, gasTtl, async () => await broker.gasPrice(opts)),
    isTicketUsed: async (hash, opts) => await broker.isTicketUsed(hash, opts),
    estimateRedeemGas: async (t, s, r, opts) => await broker.estimateRedeemGas(t, s, r, opts),
    findRedemption: async (hash, from, opts) => await broker.findRedemption(hash, from, opts),
    redeemWinningTicket: async (t, s, r, opts) => {
      try {
        return await broker.redeemWinningTicket(t, s, r, opts)
      } finally {
        senders.delete(t.sender)
        for (const key of claimables.keys()) if (key.startsWith(`${t.sender}:`)) claimables.delete(key)
      }
    },
    invalidateSender: (sender) => {
      senders.delete(sender)
      for (const key of claimables.keys()) if (key.startsWith(`${sender}:`)) claimables.delete(key)
    }
  }
}
