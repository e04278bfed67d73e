import { TicketError } from './errors.js'
import { ZERO_ADDRESS } from './hex.js'
import type { SignatureVerifier } from '../identity/ethereum.js'
import { isWinningTicket, recipientRandHash, ticketHash, type Ticket, type TicketDomain } from './ticket.js'

/** Everything a single ticket is checked against, besides the ticket itself. */
export interface TicketValidationContext {
  /** this recipient's address (lower-case) */
  recipient: string
  /** the chain and broker this recipient redeems on */
  domain: TicketDomain
  /** the ticket's bound chain and broker, as carried by its params */
  ticketDomain: TicketDomain
  /** the preimage recomputed from the params' seed */
  recipientRand: bigint
  /** the latest block this recipient knows of */
  currentBlock: bigint
}

/**
 * Stateless checks on one ticket (the reference validator's). Nonce replay and the
 * sender's funds are stateful and checked by the recipient.
 */
export interface TicketValidator {
  /**
   * Throws a TicketError for the first failed check, in this order: recipient, domain,
   * sender, params, recipientRandHash, signature, expiry. Expiry is checked last, so a
   * ticket refused with TICKET_ERROR_PARAMS_EXPIRED passed every other check (the
   * recipient still keeps it if it wins). Returns the ticket hash.
   */
  validateTicket: (ticket: Ticket, signature: Uint8Array, ctx: TicketValidationContext) => Uint8Array
  /** keccak256(signature ‖ recipientRand) < winProb */
  isWinningTicket: (signature: Uint8Array, recipientRand: bigint, winProb: bigint) => boolean
}

export function createTicketValidator (deps: { verifier: SignatureVerifier }): TicketValidator {
  return {
    validateTicket (ticket, signature, ctx) {
      // the ticket must pay this recipient
      if (ticket.recipient !== ctx.recipient) {
        throw new TicketError('TICKET_ERROR_WRONG_RECIPIENT', `ticket recipient ${ticket.recipient} is not ${ctx.recipient}`)
      }
      // ... on the chain and contract this recipient redeems on
      if (ctx.ticketDomain.chainId !== ctx.domain.chainId || ctx.ticketDomain.broker !== ctx.domain.broker) {
        throw new TicketError('TICKET_ERROR_WRONG_DOMAIN', 'ticket is bound to another chain or broker')
      }
      // a zero sender has no funds and ecrecover returns zero for garbage
      if (ticket.sender === ZERO_ADDRESS) {
        throw new TicketError('TICKET_ERROR_INVALID_SENDER', 'ticket sender is the zero address')
      }
      // the contract refuses a zero face value; a zero winProb never wins
      if (ticket.faceValue <= 0n || ticket.winProb <= 0n) {
        throw new TicketError('TICKET_ERROR_INVALID_PARAMS', 'ticket faceValue and winProb must be positive')
      }
      // the params (face value, win probability, expiry, sender) are the ones this recipient issued
      if (recipientRandHash(ctx.recipientRand) !== ticket.recipientRandHash) {
        throw new TicketError('TICKET_ERROR_RECIPIENT_RAND_HASH', 'recipientRandHash does not match the params')
      }
      // signed by the sender (EIP-191, low-s, v in {27, 28})
      const hash = ticketHash(ticket, ctx.domain)
      if (!deps.verifier.verify(ticket.sender, hash, signature)) {
        throw new TicketError('TICKET_ERROR_BAD_SIGNATURE', 'ticket signature does not recover to the sender')
      }
      // the params are still in use
      if (ctx.currentBlock > ticket.expirationBlock) {
        throw new TicketError('TICKET_ERROR_PARAMS_EXPIRED', `ticket params expired at block ${ticket.expirationBlock}`, {
          expirationBlock: ticket.expirationBlock.toString(),
          currentBlock: ctx.currentBlock.toString()
        })
      }
      return hash
    },
    isWinningTicket
  }
}
