import { expect } from 'chai'
import { PaymentWireError } from '../../src/payments/errors.js'
import { decodeJobPayment, decodeQuotePayment, decodeReceipt, encodeJobPayment, encodeQuotePayment, encodeReceipt } from '../../src/payments/job-payment.js'
import * as pb from '../../src/payments/pb/payment.js'
import { MAX_WIN_PROB, type TicketBatch, type TicketParams } from '../../src/payments/ticket.js'
import { decodeTicketBatch, decodeTicketParams, encodeTicketBatch, encodeTicketParams, ticketBatchMessage, ticketParamsMessage } from '../../src/payments/wire.js'

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

const paramsWith = (patch: Partial<pb.TicketParams>): Uint8Array => pb.TicketParams.encode({ ...ticketParamsMessage(params), ...patch })

describe('payments: wire form (protobuf) of params, batches, job payments and receipts', () => {
  it('round-trips params and batches; integers are minimal big-endian bytes, signatures 65 bytes', () => {
    expect(decodeTicketParams(encodeTicketParams(params))).to.deep.equal(params)
    expect(decodeTicketBatch(encodeTicketBatch(batch))).to.deep.equal(batch)
    const m = pb.TicketParams.decode(encodeTicketParams(params))
    expect(Buffer.from(m.chainId).toString('hex')).to.equal('7a69') // 31337
    expect(m.recipient.byteLength).to.equal(20)
    expect(pb.TicketBatch.decode(encodeTicketBatch(batch)).tickets[0].signature.byteLength).to.equal(65)
    // zero is empty
    expect(decodeTicketParams(encodeTicketParams({ ...params, expirationBlock: 0n })).expirationBlock).to.equal(0n)
  })

  const bad: Array<[string, Partial<pb.TicketParams>, string]> = [
    ['an amount with leading zero bytes', { faceValue: new Uint8Array([0, 1]) }, 'params.faceValue'],
    ['an amount over 2^256-1', { winProb: new Uint8Array(33).fill(1) }, 'params.winProb'],
    ['a short address', { recipient: new Uint8Array(19) }, 'params.recipient'],
    ['a short hash', { recipientRandHash: new Uint8Array(31) }, 'params.recipientRandHash'],
    ['a missing seed', { seed: new Uint8Array(0) }, 'params.seed'],
    ['a long broker', { broker: new Uint8Array(21) }, 'params.broker']
  ]
  for (const [what, patch, path] of bad) {
    it(`refuses params with ${what} (details.path = ${path})`, () => {
      expect(wireError(() => decodeTicketParams(paramsWith(patch))).details?.path).to.equal(path)
    })
  }

  it('refuses bytes that are not protobuf', () => {
    expect(wireError(() => decodeTicketParams(new Uint8Array([0x0a, 0x40]))).details?.path).to.equal('params')
  })

  it('refuses batches that are empty, too long, or carry malformed tickets', () => {
    const m = ticketBatchMessage(batch)
    const enc = (patch: Partial<pb.TicketBatch>): Uint8Array => pb.TicketBatch.encode({ ...m, ...patch })
    expect(wireError(() => decodeTicketBatch(enc({ tickets: [] }))).details?.path).to.equal('batch.tickets')
    expect(wireError(() => decodeTicketBatch(encodeTicketBatch(batch), { maxTickets: 1 })).details?.path).to.equal('batch.tickets')
    // more than the proto's limit is refused while decoding
    const many = Array.from({ length: 1001 }, () => m.tickets[0])
    expect(wireError(() => decodeTicketBatch(enc({ tickets: many }))).details?.path).to.equal('batch')
    expect(wireError(() => decodeTicketBatch(enc({ tickets: [{ senderNonce: new Uint8Array([1]), signature: new Uint8Array(1) }] }))).details?.path).to.equal('batch.tickets[0].signature')
    expect(wireError(() => decodeTicketBatch(enc({ sender: new Uint8Array(7) }))).details?.path).to.equal('batch.sender')
    expect(wireError(() => decodeTicketBatch(enc({ params: undefined }))).details?.path).to.equal('batch.params')
  })

  it('round-trips quote payments, job payments (with and without tickets) and receipts (credit or debt)', () => {
    expect(decodeQuotePayment(encodeQuotePayment(params))).to.deep.equal(params)
    expect(decodeQuotePayment(encodeQuotePayment(null))).to.equal(null)
    const binding = `0x${'11'.repeat(65)}`
    expect(decodeJobPayment(encodeJobPayment({ sender: batch.sender, binding, tickets: batch }))).to.deep.equal({ sender: batch.sender, binding, tickets: batch })
    expect(decodeJobPayment(encodeJobPayment({ sender: batch.sender, binding, tickets: null }))).to.deep.equal({ sender: batch.sender, binding, tickets: null })
    expect(decodeReceipt(encodeReceipt({ charged: 5n, balance: 7n, units: 3 }))).to.deep.equal({ charged: 5n, balance: 7n, units: 3 })
    expect(decodeReceipt(encodeReceipt({ charged: 5n, balance: -7n }))).to.deep.equal({ charged: 5n, balance: -7n })
    const other = { ...batch, sender: '0x' + '22'.repeat(20) }
    expect(wireError(() => decodeJobPayment(encodeJobPayment({ sender: batch.sender, binding, tickets: other }))).details?.path).to.equal('payment.tickets.sender')
    expect(wireError(() => decodeJobPayment(pb.JobPayment.encode({ sender: new Uint8Array(20), binding: new Uint8Array(64) }))).details?.path).to.equal('payment.binding')
    expect(wireError(() => decodeReceipt(pb.Receipt.encode({ charged: new Uint8Array(0), balance: new Uint8Array([1]), debt: new Uint8Array([1]) }))).details?.path).to.equal('receipt.debt')
  })
})
