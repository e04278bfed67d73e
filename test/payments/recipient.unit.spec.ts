import { expect } from 'chai'
import { Wallet } from 'ethers'
import { Registry } from 'prom-client'
import { manualClock } from '../../src/payments/clock.js'
import { PaymentError, TicketError } from '../../src/payments/errors.js'
import { createPaymentMetrics } from '../../src/payments/metrics.js'
import { createPaymentRecipient, type PaymentRecipient } from '../../src/payments/payment-recipient.js'
import { createPaymentSender, type PaymentSender } from '../../src/payments/payment-sender.js'
import { createTicketSigner } from '../../src/identity/ethereum.js'
import { MAX_WIN_PROB, ticketEV, ticketHash, ticketOf, type TicketBatch } from '../../src/payments/ticket.js'
import { createMemoryTicketStore, type TicketStore } from '../../src/payments/ticket-store.js'
import { decodeTicketBatch, decodeTicketParams, encodeTicketBatch, encodeTicketParams } from '../../src/payments/wire.js'
import { StubBroker } from './stubs.js'

const ETH = 10n ** 18n
const GWEI = 10n ** 9n

function seededBytes (): (n: number) => Uint8Array {
  let i = 0
  return (n) => { i++; return new Uint8Array(n).map((_, j) => (i * 31 + j * 7) & 0xff) }
}

/** The wire between the two sides: what the lead's protocol carries. */
const overWire = (b: TicketBatch): TicketBatch => decodeTicketBatch(encodeTicketBatch(b))

describe('payments: recipient (orchestrator side)', () => {
  const orchKey = Wallet.createRandom().privateKey
  const gwKey = Wallet.createRandom().privateKey
  const gw = createTicketSigner(gwKey).address
  let broker: StubBroker
  let store: TicketStore
  let register: Registry
  let metrics: ReturnType<typeof createPaymentMetrics>
  let recipient: PaymentRecipient
  let sender: PaymentSender
  const clock = manualClock()

  const make = (over: { ev?: bigint, countDeposit?: boolean } = {}): PaymentRecipient => createPaymentRecipient({
    privateKey: orchKey,
    broker,
    store,
    secret: new Uint8Array(32).fill(9),
    ev: over.ev ?? 10n ** 12n,
    redeemGas: 100_000n,
    gasPrice: GWEI,
    clock,
    randomBytes: seededBytes(),
    metrics,
    options: { paramsExpirationBlocks: 10n, countDeposit: over.countDeposit ?? false }
  })

  beforeEach(() => {
    broker = new StubBroker()
    broker.fund(gw, ETH, ETH, 4)
    store = createMemoryTicketStore()
    register = new Registry()
    metrics = createPaymentMetrics(register)
    recipient = make()
    sender = createPaymentSender({ privateKey: gwKey, broker, clock, caps: { maxTicketEV: ETH } })
  })

  const received = async (): Promise<Record<string, number>> => {
    const values = (await register.getSingleMetric('shoal_payments_tickets_received_total')?.get())?.values ?? []
    return Object.fromEntries(values.map(v => [String(v.labels.result), v.value]))
  }
  const metric = async (name: string): Promise<number> =>
    ((await register.getSingleMetric(name)?.get())?.values ?? []).reduce((a, v) => a + v.value, 0)

  const refusal = async (p: Promise<unknown>): Promise<TicketError> => {
    try { await p } catch (err) {
      expect(err).to.be.instanceOf(TicketError)
      return err as TicketError
    }
    return expect.fail('not refused') as never
  }

  describe('ticket params', () => {
    it('sets the face value from redemption gas x multiplier, winProb from the EV, expiry from the block', async () => {
      const p = await recipient.ticketParams(gw)
      expect(p.recipient).to.equal(recipient.address)
      expect(p.faceValue).to.equal(100_000n * GWEI * 100n)
      const ev = ticketEV(p.faceValue, p.winProb)
      expect(ev >= 10n ** 12n - 1n && ev <= 10n ** 12n, String(ev)).to.equal(true)
      expect(p.expirationBlock).to.equal(broker.block + 10n)
      expect(p.chainId).to.equal(broker.cfg.chainId)
      expect(p.broker).to.equal(broker.cfg.broker)
      expect(decodeTicketParams(encodeTicketParams(p))).to.deep.equal(p)
      const q = await recipient.ticketParams(gw)
      expect(q.seed).to.not.equal(p.seed)
      expect(q.recipientRandHash).to.not.equal(p.recipientRandHash)
    })

    it('clamps the face value to the reserve share minus pending winners, and refuses when that cannot cover gas', async () => {
      broker.fund(gw, ETH, 4n * 10n ** 15n, 4) // share 1e15 < desired 1e16
      const p = await recipient.ticketParams(gw)
      expect(p.faceValue).to.equal(10n ** 15n)
      store.addWinner({ ticketHash: `0x${'01'.repeat(32)}`, ticket: { ...ticketOf(p, gw, 1n) }, signature: new Uint8Array(65), recipientRand: 1n, domain: broker.cfg, receivedAt: 0 })
      // all of the share is pending: nothing left to back a ticket
      try {
        await recipient.ticketParams(gw)
        expect.fail('issued')
      } catch (err) {
        expect(err).to.be.instanceOf(PaymentError)
        expect((err as PaymentError).code).to.equal('PAYMENT_ERROR_SENDER_MAX_FLOAT_TOO_LOW')
      }
      expect(await metric('shoal_payments_ticket_params_total')).to.equal(2)
    })

    it('counts the deposit only when told to', async () => {
      broker.fund(gw, ETH, 0n, 1)
      try {
        await recipient.ticketParams(gw)
        expect.fail('issued')
      } catch (err) {
        expect((err as PaymentError).code).to.equal('PAYMENT_ERROR_SENDER_MAX_FLOAT_TOO_LOW')
      }
      const trusting = make({ countDeposit: true })
      expect((await trusting.ticketParams(gw)).faceValue).to.equal(10n ** 16n)
    })

    it('reports an unreachable chain as PAYMENT_ERROR_BROKER_UNAVAILABLE', async () => {
      broker.failWith = new Error('ECONNREFUSED')
      try {
        await recipient.ticketParams(gw)
        expect.fail('issued')
      } catch (err) {
        expect((err as PaymentError).code).to.equal('PAYMENT_ERROR_BROKER_UNAVAILABLE')
      }
    })

    it('refuses unfunded and unlocking senders', async () => {
      const stranger = Wallet.createRandom().address.toLowerCase()
      expect((await refusal(recipient.ticketParams(stranger))).code).to.equal('TICKET_ERROR_SENDER_UNFUNDED')
      broker.senders.get(gw)!.withdrawBlock = 500n
      recipient.broker.invalidateSender(gw)
      expect((await refusal(recipient.ticketParams(gw))).code).to.equal('TICKET_ERROR_SENDER_UNLOCKING')
    })
  })

  describe('receiving tickets', () => {
    it('credits each valid ticket\'s EV, keeps the balance across jobs, debits work, refuses short balances', async () => {
      const params = await recipient.ticketParams(gw)
      const ev = ticketEV(params.faceValue, params.winProb)
      const pay = await sender.paymentFor({ recipient: recipient.address, params, feeWei: 3n * ev })
      const r = await recipient.receive(overWire(pay.batch!))
      expect(r.accepted).to.equal(3)
      expect(r.credited).to.equal(3n * ev)
      expect(recipient.balance(gw)).to.equal(3n * ev)
      recipient.requireBalance(gw, 3n * ev)
      expect(recipient.debit(gw, 2n * ev)).to.equal(ev)
      try {
        recipient.requireBalance(gw, 2n * ev)
        expect.fail('not refused')
      } catch (err) {
        expect(err).to.be.instanceOf(PaymentError)
        expect((err as PaymentError).code).to.equal('PAYMENT_ERROR_INSUFFICIENT_BALANCE')
      }
      expect((await received()).accepted).to.equal(3)
      expect(await metric('shoal_payments_ev_credited_wei_total')).to.equal(Number(3n * ev))
      expect(await metric('shoal_payments_insufficient_balance_total')).to.equal(1)
    })

    it('stores winners before returning; none are lost or double-counted', async () => {
      recipient = make({ ev: 10n ** 16n }) // EV = face value: every ticket wins
      const params = await recipient.ticketParams(gw)
      expect(params.winProb).to.equal(MAX_WIN_PROB)
      const pay = await sender.paymentFor({ recipient: recipient.address, params, feeWei: 2n * 10n ** 16n })
      const r = await recipient.receive(overWire(pay.batch!))
      expect(r.winners).to.equal(2)
      const pending = store.list({ status: 'pending' })
      expect(pending).to.have.length(2)
      expect(pending.map(w => w.ticket.senderNonce).sort()).to.deep.equal([1n, 2n])
      expect(store.pendingFaceValue(gw, recipient.address)).to.equal(2n * 10n ** 16n)
      expect(await metric('shoal_payments_winning_tickets_total')).to.equal(2)
    })

    it('refuses a replayed nonce (TICKET_ERROR_NONCE_REPLAYED), crediting nothing for it', async () => {
      const params = await recipient.ticketParams(gw)
      const ev = ticketEV(params.faceValue, params.winProb)
      const pay = await sender.paymentFor({ recipient: recipient.address, params, feeWei: ev })
      await recipient.receive(overWire(pay.batch!))
      const err = await refusal(recipient.receive(overWire(pay.batch!)))
      expect(err.code).to.equal('TICKET_ERROR_NONCE_REPLAYED')
      expect(err.details?.credited).to.equal('0')
      expect(recipient.balance(gw)).to.equal(ev)
      expect((await received()).TICKET_ERROR_NONCE_REPLAYED).to.equal(1)
    })

    it('refuses a forged signature (TICKET_ERROR_BAD_SIGNATURE)', async () => {
      const params = await recipient.ticketParams(gw)
      const forger = createTicketSigner(Wallet.createRandom().privateKey)
      const ticket = ticketOf(params, gw, 1n)
      const batch = { params, sender: gw, tickets: [{ senderNonce: 1n, signature: forger.sign(ticketHash(ticket, broker.cfg)) }] }
      expect((await refusal(recipient.receive(overWire(batch)))).code).to.equal('TICKET_ERROR_BAD_SIGNATURE')
      expect(recipient.balance(gw)).to.equal(0n)
      expect((await received()).TICKET_ERROR_BAD_SIGNATURE).to.equal(1)
    })

    it('refuses tickets for another recipient (TICKET_ERROR_WRONG_RECIPIENT)', async () => {
      const other = createPaymentRecipient({ privateKey: Wallet.createRandom().privateKey, broker, clock })
      const params = await other.ticketParams(gw)
      const pay = await sender.paymentFor({ recipient: other.address, params, feeWei: 10n ** 12n })
      expect((await refusal(recipient.receive(overWire(pay.batch!)))).code).to.equal('TICKET_ERROR_WRONG_RECIPIENT')
    })

    it('refuses params altered by the sender or not issued by this recipient (TICKET_ERROR_RECIPIENT_RAND_HASH)', async () => {
      const params = await recipient.ticketParams(gw)
      const richer = { ...params, faceValue: params.faceValue * 2n } // EV doubled, same commitment
      const s = (): PaymentSender => createPaymentSender({ privateKey: gwKey, broker, clock, caps: { maxTicketEV: ETH } })
      const pay = await s().paymentFor({ recipient: recipient.address, params: richer, feeWei: 1n })
      expect((await refusal(recipient.receive(overWire(pay.batch!)))).code).to.equal('TICKET_ERROR_RECIPIENT_RAND_HASH')
      const invented = { ...params, recipientRandHash: `0x${'77'.repeat(32)}` }
      const pay2 = await s().paymentFor({ recipient: recipient.address, params: invented, feeWei: 1n })
      expect((await refusal(recipient.receive(overWire(pay2.batch!)))).code).to.equal('TICKET_ERROR_RECIPIENT_RAND_HASH')
      // params issued to another sender do not validate for this one
      const thief = createPaymentSender({ privateKey: Wallet.createRandom().privateKey, broker, clock })
      broker.fund(thief.address, ETH, ETH, 4)
      const pay3 = await thief.paymentFor({ recipient: recipient.address, params, feeWei: 1n })
      expect((await refusal(recipient.receive(overWire(pay3.batch!)))).code).to.equal('TICKET_ERROR_RECIPIENT_RAND_HASH')
    })

    it('refuses expired params (TICKET_ERROR_PARAMS_EXPIRED) but keeps an expired winner for redemption', async () => {
      recipient = make({ ev: 10n ** 16n })
      const params = await recipient.ticketParams(gw)
      const pay = await sender.paymentFor({ recipient: recipient.address, params, feeWei: 10n ** 16n })
      broker.block = params.expirationBlock + 1n
      clock.advance(2000)
      const err = await refusal(recipient.receive(overWire(pay.batch!)))
      expect(err.code).to.equal('TICKET_ERROR_PARAMS_EXPIRED')
      expect(err.details?.winners).to.equal(1)
      expect(recipient.balance(gw)).to.equal(0n)
      expect(store.list({ status: 'pending' })).to.have.length(1)
    })

    it('refuses tickets from an unfunded or unlocking sender', async () => {
      const params = await recipient.ticketParams(gw)
      const pay = await sender.paymentFor({ recipient: recipient.address, params, feeWei: 10n ** 12n })
      broker.senders.get(gw)!.withdrawBlock = 500n
      recipient.broker.invalidateSender(gw)
      expect((await refusal(recipient.receive(overWire(pay.batch!)))).code).to.equal('TICKET_ERROR_SENDER_UNLOCKING')
      broker.fund(gw, 0n, 0n, 1)
      recipient.broker.invalidateSender(gw)
      expect((await refusal(recipient.receive(overWire(pay.batch!)))).code).to.equal('TICKET_ERROR_SENDER_UNFUNDED')
      const counts = await received()
      expect(counts.TICKET_ERROR_SENDER_UNLOCKING).to.equal(1)
      expect(counts.TICKET_ERROR_SENDER_UNFUNDED).to.equal(1)
    })

    it('credits the good tickets of a mixed batch and reports the first refusal with the totals', async () => {
      const params = await recipient.ticketParams(gw)
      const ev = ticketEV(params.faceValue, params.winProb)
      const pay = await sender.paymentFor({ recipient: recipient.address, params, feeWei: 2n * ev })
      const batch = overWire(pay.batch!)
      batch.tickets.push({ senderNonce: 99n, signature: new Uint8Array(65) })
      const err = await refusal(recipient.receive(batch))
      expect(err.code).to.equal('TICKET_ERROR_BAD_SIGNATURE')
      expect(err.details).to.include({ credited: (2n * ev).toString(), accepted: 2, rejected: 1 })
      expect(recipient.balance(gw)).to.equal(2n * ev)
    })

    it('bounds nonces per params (TICKET_ERROR_TOO_MANY_NONCES) and batch sizes (TICKET_ERROR_INVALID_PARAMS)', async () => {
      const small = createPaymentRecipient({
        privateKey: orchKey, broker, store, clock, gasPrice: GWEI, redeemGas: 100_000n, ev: 10n ** 12n,
        options: { maxNoncesPerParams: 2, maxTicketsPerBatch: 3 }
      })
      const params = await small.ticketParams(gw)
      const ev = ticketEV(params.faceValue, params.winProb)
      const p1 = await sender.paymentFor({ recipient: small.address, params, feeWei: 2n * ev })
      await small.receive(overWire(p1.batch!))
      const p2 = await sender.paymentFor({ recipient: small.address, params, feeWei: ev })
      expect((await refusal(small.receive(overWire(p2.batch!)))).code).to.equal('TICKET_ERROR_TOO_MANY_NONCES')
      const p3 = await sender.paymentFor({ recipient: small.address, params: await small.ticketParams(gw), feeWei: 4n * ev })
      expect((await refusal(small.receive(overWire(p3.batch!)))).code).to.equal('TICKET_ERROR_INVALID_PARAMS')
    })
  })
})
