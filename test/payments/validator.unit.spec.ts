import { expect } from 'chai'
import { Wallet } from 'ethers'
import { TicketError } from '../../src/payments/errors.js'
import { ZERO_ADDRESS } from '../../src/payments/hex.js'
import { createSignatureVerifier, createTicketSigner } from '../../src/identity/ethereum.js'
import { MAX_WIN_PROB, recipientRandHash, ticketHash, type Ticket } from '../../src/payments/ticket.js'
import { createTicketValidator, type TicketValidationContext } from '../../src/payments/validator.js'

describe('payments: ticket validator', () => {
  const validator = createTicketValidator({ verifier: createSignatureVerifier() })
  const senderKey = Wallet.createRandom().privateKey
  const signer = createTicketSigner(senderKey)
  const recipient = Wallet.createRandom().address.toLowerCase()
  const domain = { chainId: 31337n, broker: Wallet.createRandom().address.toLowerCase() }
  const rand = 987654321n

  const make = (over: Partial<Ticket> = {}): { ticket: Ticket, sig: Uint8Array } => {
    const ticket: Ticket = {
      recipient, sender: signer.address, faceValue: 1000n, winProb: MAX_WIN_PROB / 2n, senderNonce: 1n,
      recipientRandHash: recipientRandHash(rand), expirationBlock: 100n, ...over
    }
    return { ticket, sig: signer.sign(ticketHash(ticket, domain)) }
  }
  const ctx = (over: Partial<TicketValidationContext> = {}): TicketValidationContext =>
    ({ recipient, domain, ticketDomain: domain, recipientRand: rand, currentBlock: 100n, ...over })
  const code = (fn: () => unknown): string => {
    try { fn() } catch (err) {
      expect(err).to.be.instanceOf(TicketError)
      expect(err).to.have.property('name', 'TicketError')
      return (err as TicketError).code
    }
    return 'none'
  }

  it('accepts a valid ticket up to and including its expiration block, returning its hash', () => {
    const { ticket, sig } = make()
    expect(validator.validateTicket(ticket, sig, ctx())).to.deep.equal(ticketHash(ticket, domain))
  })

  it('refuses a ticket for another recipient (TICKET_ERROR_WRONG_RECIPIENT)', () => {
    const { ticket, sig } = make()
    expect(code(() => validator.validateTicket(ticket, sig, ctx({ recipient: Wallet.createRandom().address.toLowerCase() })))).to.equal('TICKET_ERROR_WRONG_RECIPIENT')
  })

  it('refuses a ticket bound to another chain or broker (TICKET_ERROR_WRONG_DOMAIN)', () => {
    const { ticket, sig } = make()
    expect(code(() => validator.validateTicket(ticket, sig, ctx({ ticketDomain: { ...domain, chainId: 1n } })))).to.equal('TICKET_ERROR_WRONG_DOMAIN')
  })

  it('refuses the zero sender (TICKET_ERROR_INVALID_SENDER)', () => {
    const { ticket, sig } = make({ sender: ZERO_ADDRESS })
    expect(code(() => validator.validateTicket(ticket, sig, ctx()))).to.equal('TICKET_ERROR_INVALID_SENDER')
  })

  it('refuses zero face value or win probability (TICKET_ERROR_INVALID_PARAMS)', () => {
    const a = make({ faceValue: 0n })
    expect(code(() => validator.validateTicket(a.ticket, a.sig, ctx()))).to.equal('TICKET_ERROR_INVALID_PARAMS')
    const b = make({ winProb: 0n })
    expect(code(() => validator.validateTicket(b.ticket, b.sig, ctx()))).to.equal('TICKET_ERROR_INVALID_PARAMS')
  })

  it('refuses a recipientRandHash that is not the commitment of the recomputed rand (TICKET_ERROR_RECIPIENT_RAND_HASH)', () => {
    const { ticket, sig } = make()
    expect(code(() => validator.validateTicket(ticket, sig, ctx({ recipientRand: rand + 1n })))).to.equal('TICKET_ERROR_RECIPIENT_RAND_HASH')
  })

  it('refuses a signature by anyone but the sender, or over other fields (TICKET_ERROR_BAD_SIGNATURE)', () => {
    const { ticket } = make()
    const forged = createTicketSigner(Wallet.createRandom().privateKey).sign(ticketHash(ticket, domain))
    expect(code(() => validator.validateTicket(ticket, forged, ctx()))).to.equal('TICKET_ERROR_BAD_SIGNATURE')
    const { sig } = make({ senderNonce: 2n })
    expect(code(() => validator.validateTicket(ticket, sig, ctx()))).to.equal('TICKET_ERROR_BAD_SIGNATURE')
    expect(code(() => validator.validateTicket(ticket, new Uint8Array(65), ctx()))).to.equal('TICKET_ERROR_BAD_SIGNATURE')
  })

  it('refuses expired params last, after every other check passed (TICKET_ERROR_PARAMS_EXPIRED)', () => {
    const { ticket, sig } = make()
    expect(code(() => validator.validateTicket(ticket, sig, ctx({ currentBlock: 101n })))).to.equal('TICKET_ERROR_PARAMS_EXPIRED')
    // a forged and expired ticket reports the forgery
    expect(code(() => validator.validateTicket(ticket, new Uint8Array(65), ctx({ currentBlock: 101n })))).to.equal('TICKET_ERROR_BAD_SIGNATURE')
  })
})
