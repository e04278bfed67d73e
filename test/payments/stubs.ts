import type { Broker, BrokerConfig, Redemption, SenderInfo } from '../../src/payments/broker.js'
import { ChainError } from '../../src/payments/errors.js'
import type { Ticket } from '../../src/payments/ticket.js'

/**
 * A hand-written Broker for unit tests (go-livepeer's stubBroker): state is set directly,
 * calls are counted, and redemptions are recorded instead of sent.
 */
export class StubBroker implements Broker {
  cfg: BrokerConfig = { chainId: 31337n, broker: '0x00000000000000000000000000000000000b0b0b', unlockPeriod: 100n, redeemWindow: 1000n }
  block = 100n
  gas = 1_000_000_000n
  senders = new Map<string, SenderInfo>()
  claimable = new Map<string, bigint>()
  used = new Set<string>()
  redeemed: Array<{ ticket: Ticket, recipientRand: bigint }> = []
  calls: Record<string, number> = {}
  /** when set, every call throws it */
  failWith: Error | null = null
  /** when set, redeemWinningTicket throws it once */
  redeemFailsOnce: Error | null = null
  estimateGas = 80_000n

  private hit (name: string): void {
    this.calls[name] = (this.calls[name] ?? 0) + 1
    if (this.failWith !== null) throw this.failWith
  }

  fund (sender: string, deposit: bigint, reserve = 0n, maxRecipients = 1): void {
    this.senders.set(sender, {
      deposit,
      withdrawBlock: 0n,
      reserve: { funds: reserve, allocBase: 0n, maxRecipients, epoch: 0n, frozen: false }
    })
  }

  async config (): Promise<BrokerConfig> { this.hit('config'); return this.cfg }
  async blockNumber (): Promise<bigint> { this.hit('blockNumber'); return this.block }
  async senderInfo (sender: string): Promise<SenderInfo> {
    this.hit('senderInfo')
    return this.senders.get(sender) ?? { deposit: 0n, withdrawBlock: 0n, reserve: { funds: 0n, allocBase: 0n, maxRecipients: 0, epoch: 0n, frozen: false } }
  }

  async claimableReserve (sender: string, recipient: string): Promise<bigint> {
    this.hit('claimableReserve')
    const explicit = this.claimable.get(`${sender}:${recipient}`)
    if (explicit !== undefined) return explicit
    const info = this.senders.get(sender)
    if (info === undefined || info.reserve.maxRecipients === 0) return 0n
    return info.reserve.funds / BigInt(info.reserve.maxRecipients)
  }

  async isTicketUsed (hash: string): Promise<boolean> { this.hit('isTicketUsed'); return this.used.has(hash) }
  async gasPrice (): Promise<bigint> { this.hit('gasPrice'); return this.gas }
  async estimateRedeemGas (): Promise<bigint> { this.hit('estimateRedeemGas'); return this.estimateGas }
  async findRedemption (): Promise<Redemption | null> { this.hit('findRedemption'); return null }
  async redeemWinningTicket (ticket: Ticket, _sig: Uint8Array, recipientRand: bigint): Promise<Redemption> {
    this.hit('redeemWinningTicket')
    if (this.redeemFailsOnce !== null) {
      const err = this.redeemFailsOnce
      this.redeemFailsOnce = null
      throw err
    }
    this.redeemed.push({ ticket, recipientRand })
    return { txHash: `0x${'ab'.repeat(32)}`, blockNumber: this.block, paid: ticket.faceValue, fromDeposit: ticket.faceValue, fromReserve: 0n, feeWei: 0n }
  }
}

export function reverted (reason: string): ChainError {
  return new ChainError('CHAIN_ERROR_REVERTED', `reverted (${reason})`, { reason })
}
