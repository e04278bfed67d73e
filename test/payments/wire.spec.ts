import { expect } from 'chai'
import { PaymentWireError } from '../../src/payments/errors.js'
import { MAX_WIN_PROB, type TicketBatch, type TicketParams } from '../../src/payments/ticket.js'
import { decodeTicketBatch, decodeTicketParams, encodeTicketBatch, encodeTicketParams } from '../../src/payments/wire.js'

const params: TicketParams = {
  recipient: '0x70997970c51812dc3a010c7d01b50e0d17dc79c8',
  faceValue: 3n * 10n ** 16n,
  winProb: MAX_WIN_PROB / 3n,
  recipientRandHash: `0x${'ab'.repeat(32)}`,
  seed: `0x${'cd'.repeat(32)}`,
  expirationBlock: 123n,
  chainId: 31337n,
  broker: '0x5fbdb2315678afecb367f032d93f642f64180aa3'
}
const batch: TicketBatch = {
  params,
  sender: '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266',
  tickets: [{ senderNonce: 1n, signature: new Uint8Array(65).fill(1) }, { senderNonce: 2n, signature: new Uint8Array(65).fill(2) }]
}

function wireError (fn: () => unknown): PaymentWireError {
  try { fn() } catch (err) {
    expect(err).to.be.instanceOf(PaymentWireError)
    expect((err as PaymentWireError).code).to.equal('PAYMENT_WIRE_ERROR_INVALID')
    return err as PaymentWireError
  }
  return expect.fail('no error') as never
}

describe('payments: wire form of params and batches', () => {
  it('round-trips params and batches through JSON text', () => {
    const p = JSON.parse(JSON.stringify(encodeTicketParams(params)))
    expect(decodeTicketParams(p)).to.deep.equal(params)
    const b = JSON.parse(JSON.stringify(encodeTicketBatch(batch)))
    expect(decodeTicketBatch(b)).to.deep.equal(batch)
    expect(p.faceValue).to.equal('30000000000000000')
    expect(b.tickets[0].signature).to.match(/^0x(01){65}$/)
  })

  it('lower-cases addresses and hashes and ignores unknown keys', () => {
    const p = { ...encodeTicketParams(params), recipient: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', extra: 1 }
    expect(decodeTicketParams(p).recipient).to.equal(params.recipient)
  })

  const bad: Array<[string, unknown, string]> = [
    ['not an object', 'x', 'params'],
    ['an array', [], 'params'],
    ['a number amount', { ...encodeTicketParams(params), faceValue: 5 }, 'params.faceValue'],
    ['a negative amount', { ...encodeTicketParams(params), faceValue: '-5' }, 'params.faceValue'],
    ['leading zeros', { ...encodeTicketParams(params), winProb: '007' }, 'params.winProb'],
    ['a hex amount', { ...encodeTicketParams(params), winProb: '0x10' }, 'params.winProb'],
    ['an amount over 2^256-1', { ...encodeTicketParams(params), winProb: (MAX_WIN_PROB + 1n).toString() }, 'params.winProb'],
    ['a short address', { ...encodeTicketParams(params), recipient: '0x1234' }, 'params.recipient'],
    ['a short hash', { ...encodeTicketParams(params), recipientRandHash: '0xab' }, 'params.recipientRandHash'],
    ['a missing seed', { ...encodeTicketParams(params), seed: undefined }, 'params.seed'],
    ['a non-hex broker', { ...encodeTicketParams(params), broker: `0x${'zz'.repeat(20)}` }, 'params.broker']
  ]
  for (const [what, value, path] of bad) {
    it(`refuses params with ${what} (details.path = ${path})`, () => {
      expect(wireError(() => decodeTicketParams(value)).details?.path).to.equal(path)
    })
  }

  it('refuses batches that are empty, too long, or carry malformed tickets', () => {
    const enc = encodeTicketBatch(batch)
    expect(wireError(() => decodeTicketBatch({ ...enc, tickets: [] })).details?.path).to.equal('batch.tickets')
    expect(wireError(() => decodeTicketBatch({ ...enc, tickets: 'x' })).details?.path).to.equal('batch.tickets')
    expect(wireError(() => decodeTicketBatch(enc, { maxTickets: 1 })).details?.path).to.equal('batch.tickets')
    expect(wireError(() => decodeTicketBatch({ ...enc, tickets: [{ senderNonce: '1', signature: '0x00' }] })).details?.path).to.equal('batch.tickets[0].signature')
    expect(wireError(() => decodeTicketBatch({ ...enc, tickets: [null] })).details?.path).to.equal('batch.tickets[0]')
    expect(wireError(() => decodeTicketBatch({ ...enc, sender: 7 })).details?.path).to.equal('batch.sender')
    expect(wireError(() => decodeTicketBatch({ ...enc, params: { ...enc.params, chainId: '' } })).details?.path).to.equal('batch.params.chainId')
  })
})
