import type { AbortOptions, Broker } from './broker.js'
import { PaymentError } from './errors.js'
import type { SenderCaps, SenderOptions } from './options.js'
import type { TicketSigner } from '../identity/ethereum.js'
import { ticketEV, ticketHash, ticketOf, type TicketBatch, type TicketParams } from './ticket.js'

/**
 * Makes tickets for the recipients this node pays (go-livepeer's Sender): checks a
 * recipient's params against its caps and max float, and signs batches with nonces that
 * only increase per recipientRandHash.
 */
export interface Sender {
  /** lower-case address tickets are signed by */
  readonly address: string
  /**
   * Throws a PaymentError when tickets should not be made with these params:
   * PAYMENT_ERROR_PARAMS_INVALID (other recipient, chain or broker, zero values, too far
   * ahead), PAYMENT_ERROR_PARAMS_EXPIRED, PAYMENT_ERROR_TICKET_EV_OVER_CAP,
   * PAYMENT_ERROR_FACE_VALUE_OVER_MAX_FLOAT. Returns the EV of one ticket.
   */
  validateTicketParams: (params: TicketParams, expectedRecipient: string, options?: AbortOptions) => Promise<{ ev: bigint }>
  /** signs `count` tickets with the next nonces of these params' session and counts their EV as pending */
  createTicketBatch: (params: TicketParams, count: number) => TicketBatch
  /**
   * The largest face value this sender can back for `recipient`:
   * max(0, deposit - pendingEV) + the reserve `recipient` may still claim, where
   * pendingEV is the expected value of tickets sent whose redeem window is still open
   * (the part of the deposit already promised, on average).
   */
  maxFloat: (recipient: string, options?: AbortOptions) => Promise<bigint>
}

export interface SenderDeps {
  signer: TicketSigner
  /** a cached broker is best: params are validated per job */
  broker: Broker
  caps: SenderCaps
  options: SenderOptions
}

interface Session { nonce: bigint, expirationBlock: bigint }

export function createSender (deps: SenderDeps): Sender {
  const { signer, broker, caps } = deps
  const address = signer.address
  const sessions = new Map<string, Session>()
  // expected value sent, by the last block in which it may still be redeemed
  const pendingByBlock = new Map<bigint, bigint>()
  let redeemWindow: bigint | undefined

  const pendingEV = (currentBlock: bigint): bigint => {
    let sum = 0n
    for (const [until, ev] of pendingByBlock) {
      if (until < currentBlock) pendingByBlock.delete(until)
      else sum += ev
    }
    return sum
  }

  const maxFloatAt = async (recipient: string, currentBlock: bigint, options?: AbortOptions): Promise<bigint> => {
    const [info, claimable] = await Promise.all([
      broker.senderInfo(address, options),
      broker.claimableReserve(address, recipient, options)
    ])
    const free = info.deposit - pendingEV(currentBlock)
    return (free > 0n ? free : 0n) + claimable
  }

  return {
    address,

    async validateTicketParams (params, expectedRecipient, options) {
      const [config, block] = await Promise.all([broker.config(options), broker.blockNumber(options)])
      redeemWindow = config.redeemWindow
      // tickets for the orchestrator we are talking to, and nobody else
      if (params.recipient !== expectedRecipient) {
        throw new PaymentError('PAYMENT_ERROR_PARAMS_INVALID', `params name recipient ${params.recipient}, expected ${expectedRecipient}`)
      }
      // bound to our broker on our chain: elsewhere our deposit does not back them
      if (params.chainId !== config.chainId || params.broker !== config.broker) {
        throw new PaymentError('PAYMENT_ERROR_PARAMS_INVALID', 'params are for another chain or broker')
      }
      if (params.faceValue <= 0n || params.winProb <= 0n) {
        throw new PaymentError('PAYMENT_ERROR_PARAMS_INVALID', 'params must have a positive faceValue and winProb')
      }
      if (block > params.expirationBlock) {
        throw new PaymentError('PAYMENT_ERROR_PARAMS_EXPIRED', `params expired at block ${params.expirationBlock} (now ${block})`)
      }
      // far-future params would keep winners redeemable past an unlock
      if (params.expirationBlock - block > caps.maxParamsLifetimeBlocks) {
        throw new PaymentError('PAYMENT_ERROR_PARAMS_INVALID', `params expire ${params.expirationBlock - block} blocks ahead (cap ${caps.maxParamsLifetimeBlocks})`)
      }
      const ev = ticketEV(params.faceValue, params.winProb)
      if (ev > caps.maxTicketEV) {
        throw new PaymentError('PAYMENT_ERROR_TICKET_EV_OVER_CAP', `ticket EV ${ev} wei is over the cap ${caps.maxTicketEV}`, { ev: ev.toString() })
      }
      if (ev <= 0n) {
        throw new PaymentError('PAYMENT_ERROR_PARAMS_INVALID', 'ticket EV rounds to zero')
      }
      if (caps.maxFaceValue !== undefined && params.faceValue > caps.maxFaceValue) {
        throw new PaymentError('PAYMENT_ERROR_FACE_VALUE_OVER_MAX_FLOAT', `face value ${params.faceValue} is over the cap ${caps.maxFaceValue}`)
      }
      const maxFloat = await maxFloatAt(params.recipient, block, options)
      if (params.faceValue > maxFloat) {
        throw new PaymentError('PAYMENT_ERROR_FACE_VALUE_OVER_MAX_FLOAT', `face value ${params.faceValue} is over the max float ${maxFloat}`, {
          faceValue: params.faceValue.toString(),
          maxFloat: maxFloat.toString()
        })
      }
      return { ev }
    },

    createTicketBatch (params, count) {
      if (!Number.isInteger(count) || count < 1) throw new RangeError('count must be a positive integer')
      let session = sessions.get(params.recipientRandHash)
      if (session === undefined) {
        if (sessions.size >= deps.options.maxSessions) {
          // drop the session that expires first: its params are the least useful
          let oldest: string | undefined
          let oldestBlock: bigint | undefined
          for (const [k, s] of sessions) {
            if (oldestBlock === undefined || s.expirationBlock < oldestBlock) { oldest = k; oldestBlock = s.expirationBlock }
          }
          if (oldest !== undefined) sessions.delete(oldest)
        }
        session = { nonce: 0n, expirationBlock: params.expirationBlock }
        sessions.set(params.recipientRandHash, session)
      }
      const domain = { chainId: params.chainId, broker: params.broker }
      const tickets = []
      for (let i = 0; i < count; i++) {
        session.nonce += 1n
        const ticket = ticketOf(params, address, session.nonce)
        tickets.push({ senderNonce: session.nonce, signature: signer.sign(ticketHash(ticket, domain)) })
      }
      const until = params.expirationBlock + (redeemWindow ?? 0n)
      const ev = ticketEV(params.faceValue, params.winProb) * BigInt(count)
      pendingByBlock.set(until, (pendingByBlock.get(until) ?? 0n) + ev)
      return { params, sender: address, tickets }
    },

    async maxFloat (recipient, options) {
      return await maxFloatAt(recipient, await broker.blockNumber(options), options)
    }
  }
}
