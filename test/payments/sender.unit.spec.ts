import { expect } from 'chai'
import { Wallet } from 'ethers'
import { Registry } from 'prom-client'
import { manualClock } from '../../src/payments/clock.js'
import { PaymentError } from '../../src/payments/errors.js'
import { createPaymentMetrics } from '../../src/payments/metrics.js'
import { defaultSenderCaps, defaultSenderOptions } from '../../src/payments/options.js'
import { createPaymentSender } from '../../src/payments/payment-sender.js'
import { createSender } from '../../src/payments/sender.js'
import { createSignatureVerifier, createTicketSigner } from '../../src/identity/ethereum.js'
import { MAX_WIN_PROB, ticketEV, ticketHash, ticketOf, winProbFor, type TicketParams } from '../../src/payments/ticket.js'
import { StubBroker } from './stubs.js'

const ETH = 10n ** 18n
const key = Wallet.createRandom().privateKey
const signer = createTicketSigner(key)
const recipient = Wallet.createRandom().address.toLowerCase()

function paramsFor (broker: StubBroker, over: Partial<TicketParams> = {}): TicketParams {
  const faceValue = over.faceValue ?? 10n ** 16n
  return {
    recipient,
    faceValue,
    winProb: winProbFor(10n ** 12n, faceValue),
    recipientRandHash: `0x${'aa'.repeat(32)}`,
    seed: `0x${'bb'.repeat(32)}`,
    expirationBlock: broker.block + 10n,
    chainId: broker.cfg.chainId,
    broker: broker.cfg.broker,
    ...over
  }
}

async function code (p: Promise<unknown>): Promise<string> {
  try { await p } catch (err) {
    expect(err).to.be.instanceOf(PaymentError)
    return (err as PaymentError).code
  }
  return 'none'
}

describe('payments: sender', () => {
  let broker: StubBroker
  beforeEach(() => {
    broker = new StubBroker()
    broker.fund(signer.address, ETH, ETH, 10)
  })
  const sender = (caps = {}): ReturnType<typeof createSender> =>
    createSender({ signer, broker, caps: { ...defaultSenderCaps, ...caps }, options: defaultSenderOptions })

  it('signs tickets the validator accepts, with nonces that only increase per recipientRandHash', () => {
    const s = sender()
    const p1 = paramsFor(broker)
    const p2 = paramsFor(broker, { recipientRandHash: `0x${'cc'.repeat(32)}` })
    expect(s.createTicketBatch(p1, 3).tickets.map(t => t.senderNonce)).to.deep.equal([1n, 2n, 3n])
    expect(s.createTicketBatch(p2, 1).tickets.map(t => t.senderNonce)).to.deep.equal([1n])
    const b = s.createTicketBatch(p1, 2)
    expect(b.tickets.map(t => t.senderNonce)).to.deep.equal([4n, 5n])
    const verifier = createSignatureVerifier()
    for (const t of b.tickets) {
      const hash = ticketHash(ticketOf(p1, b.sender, t.senderNonce), { chainId: p1.chainId, broker: p1.broker })
      expect(verifier.verify(signer.address, hash, t.signature)).to.equal(true)
    }
  })

  it('accepts good params and returns the ticket EV', async () => {
    const p = paramsFor(broker)
    expect((await sender().validateTicketParams(p, recipient)).ev).to.equal(ticketEV(p.faceValue, p.winProb))
  })

  it('refuses params for another recipient, chain or broker, or with zero values (PAYMENT_ERROR_PARAMS_INVALID)', async () => {
    const s = sender()
    expect(await code(s.validateTicketParams(paramsFor(broker), Wallet.createRandom().address.toLowerCase()))).to.equal('PAYMENT_ERROR_PARAMS_INVALID')
    expect(await code(s.validateTicketParams(paramsFor(broker, { chainId: 1n }), recipient))).to.equal('PAYMENT_ERROR_PARAMS_INVALID')
    expect(await code(s.validateTicketParams(paramsFor(broker, { broker: recipient }), recipient))).to.equal('PAYMENT_ERROR_PARAMS_INVALID')
    expect(await code(s.validateTicketParams(paramsFor(broker, { winProb: 0n }), recipient))).to.equal('PAYMENT_ERROR_PARAMS_INVALID')
    expect(await code(s.validateTicketParams(paramsFor(broker, { expirationBlock: broker.block + 5000n }), recipient))).to.equal('PAYMENT_ERROR_PARAMS_INVALID')
  })

  it('refuses expired params (PAYMENT_ERROR_PARAMS_EXPIRED)', async () => {
    expect(await code(sender().validateTicketParams(paramsFor(broker, { expirationBlock: broker.block - 1n }), recipient))).to.equal('PAYMENT_ERROR_PARAMS_EXPIRED')
  })

  it('refuses a ticket EV over its cap (PAYMENT_ERROR_TICKET_EV_OVER_CAP)', async () => {
    const p = paramsFor(broker, { winProb: MAX_WIN_PROB })
    expect(await code(sender({ maxTicketEV: 10n ** 15n }).validateTicketParams(p, recipient))).to.equal('PAYMENT_ERROR_TICKET_EV_OVER_CAP')
  })

  it('refuses a face value over its max float or its maxFaceValue cap (PAYMENT_ERROR_FACE_VALUE_OVER_MAX_FLOAT)', async () => {
    const s = sender()
    // max float = deposit (1 ETH) + reserve share (1 ETH / 10)
    expect(await s.maxFloat(recipient)).to.equal(ETH + ETH / 10n)
    expect(await code(s.validateTicketParams(paramsFor(broker, { faceValue: ETH + ETH / 10n + 1n }), recipient))).to.equal('PAYMENT_ERROR_FACE_VALUE_OVER_MAX_FLOAT')
    expect(await code(s.validateTicketParams(paramsFor(broker, { faceValue: ETH + ETH / 10n }), recipient))).to.equal('none')
    expect(await code(sender({ maxFaceValue: 10n ** 15n }).validateTicketParams(paramsFor(broker), recipient))).to.equal('PAYMENT_ERROR_FACE_VALUE_OVER_MAX_FLOAT')
  })

  it('counts the EV of tickets in open redeem windows against the deposit, until their window closes', async () => {
    const s = sender({ maxTicketEV: ETH })
    const p = paramsFor(broker, { faceValue: ETH / 10n, winProb: MAX_WIN_PROB / 2n }) // EV 0.05 ETH
    const { ev } = await s.validateTicketParams(p, recipient)
    s.createTicketBatch(p, 4) // 0.2 ETH promised
    expect(await s.maxFloat(recipient)).to.equal(ETH - 4n * ev + ETH / 10n)
    broker.block = p.expirationBlock + broker.cfg.redeemWindow + 1n
    expect(await s.maxFloat(recipient)).to.equal(ETH + ETH / 10n)
  })
})

describe('payments: payment sender facade', () => {
  let broker: StubBroker
  const clock = manualClock()
  beforeEach(() => {
    broker = new StubBroker()
    broker.fund(signer.address, ETH, ETH, 10)
  })

  it('sends ceil((fee - credit) / EV) tickets and carries the surplus to the next job', async () => {
    const ps = createPaymentSender({ privateKey: key, broker, clock })
    const p = paramsFor(broker)
    const ev = ticketEV(p.faceValue, p.winProb)
    const a = await ps.paymentFor({ recipient, params: p, feeWei: ev * 5n / 2n })
    expect(a.batch?.tickets).to.have.length(3)
    expect(a.evWei).to.equal(3n * ev)
    expect(ps.credit(recipient)).to.equal(ev / 2n + (ev % 2n === 0n ? 0n : 1n))
    const b = await ps.paymentFor({ recipient, params: p, feeWei: ev / 4n })
    expect(b.batch).to.equal(null)
    const c = await ps.paymentFor({ recipient, params: p, feeWei: ev })
    expect(c.batch?.tickets).to.have.length(1)
    expect(c.batch?.tickets[0].senderNonce).to.equal(4n)
  })

  it('cancel undoes a refused payment; refund and setCredit adjust the credit', async () => {
    const ps = createPaymentSender({ privateKey: key, broker, clock })
    const p = paramsFor(broker)
    const ev = ticketEV(p.faceValue, p.winProb)
    const pay = await ps.paymentFor({ recipient, params: p, feeWei: ev })
    expect(ps.credit(recipient)).to.equal(0n)
    ps.cancel(pay)
    expect(ps.credit(recipient)).to.equal(0n)
    const pay2 = await ps.paymentFor({ recipient, params: p, feeWei: ev / 2n })
    expect(ps.credit(recipient)).to.equal(ev - ev / 2n)
    ps.refund(recipient, ev / 2n)
    expect(ps.credit(recipient)).to.equal(ev)
    ps.setCredit(recipient, ev * 10n) // never raised by the recipient's word
    expect(ps.credit(recipient)).to.equal(ev)
    ps.setCredit(recipient, 1n)
    expect(ps.credit(recipient)).to.equal(1n)
    expect(pay2.batch).to.not.equal(null)
  })

  it('refuses a job needing more than maxJobEV and counts refusals by code', async () => {
    const register = new Registry()
    const metrics = createPaymentMetrics(register)
    const ps = createPaymentSender({ privateKey: key, broker, clock, metrics, caps: { maxJobEV: 10n ** 13n } })
    const p = paramsFor(broker)
    expect(await code(ps.paymentFor({ recipient, params: p, feeWei: 10n ** 14n }))).to.equal('PAYMENT_ERROR_JOB_EV_OVER_CAP')
    expect(await code(ps.paymentFor({ recipient, params: { ...p, faceValue: 2n * ETH, winProb: winProbFor(10n ** 12n, 2n * ETH) }, feeWei: 10n ** 12n }))).to.equal('PAYMENT_ERROR_FACE_VALUE_OVER_MAX_FLOAT')
    const values = (await register.getSingleMetric('shoal_payments_sender_refused_total')?.get())?.values ?? []
    expect(values.map(v => [v.labels.code, v.value])).to.deep.include.members([
      ['PAYMENT_ERROR_JOB_EV_OVER_CAP', 1], ['PAYMENT_ERROR_FACE_VALUE_OVER_MAX_FLOAT', 1]
    ])
    expect(ps.credit(recipient)).to.equal(0n)
  })

  it('reports an unreachable chain as PAYMENT_ERROR_BROKER_UNAVAILABLE', async () => {
    const ps = createPaymentSender({ privateKey: key, broker, clock })
    broker.failWith = new Error('ECONNREFUSED')
    expect(await code(ps.paymentFor({ recipient, params: paramsFor(broker), feeWei: 10n ** 12n }))).to.equal('PAYMENT_ERROR_BROKER_UNAVAILABLE')
  })
})
