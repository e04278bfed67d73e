import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { expect } from 'chai'
import { Wallet } from 'ethers'
import { Registry } from 'prom-client'
import { createEthBinding } from '../../src/identity/binding.js'
import { billableUnits } from '../../src/kernel/billing.js'
import type { InferenceJob } from '../../src/kernel/job.js'
import { silentLogger } from '../../src/observability/logger.js'
import { createOrchestratorMetrics } from '../../src/orchestrator/metrics.js'
import type { WeiPrice } from '../../src/orchestrator/offers.js'
import { modelKey } from '../../src/kernel/model-key.js'
import { createPaidExecutor, type PaidExecutor } from '../../src/orchestrator/payments.js'
import { manualClock } from '../../src/payments/clock.js'
import { decodeQuotePayment, decodeReceipt, encodeJobPayment } from '../../src/payments/job-payment.js'
import { createPaymentMetrics } from '../../src/payments/metrics.js'
import { createPaymentRecipient, type PaymentRecipient } from '../../src/payments/payment-recipient.js'
import { createPaymentSender, type PaymentSender } from '../../src/payments/payment-sender.js'
import { createTicketSigner } from '../../src/identity/ethereum.js'
import { createMemoryTicketStore } from '../../src/payments/ticket-store.js'
import type { AiExecutionResult, AiJobAdmission } from '../../src/protocols/ai/index.js'
import { metricValue } from '../helpers/metrics.js'
import { readAll } from '../helpers/streams.js'
import { StubBroker } from '../payments/stubs.js'

const ETH = 10n ** 18n
const PRICE: WeiPrice = { pricePerUnit: 1000n, pixelsPerUnit: 1n }

/** A job priced from its params alone: 512x512 = 262,144 units at 1,000 wei. */
const job: InferenceJob = { pipeline: 'text-to-image', modelId: 'shoal/noop', params: { prompt: 'a fish', width: 512, height: 512 }, inputs: [] }
const fee = billableUnits(job) * PRICE.pricePerUnit

describe('orchestrator/payments: accepting a job\'s payment (no chain, no network)', () => {
  const gwEthKey = Wallet.createRandom().privateKey
  const gwAddress = createTicketSigner(gwEthKey).address
  let gwPeer: PeerId
  let otherPeer: PeerId
  let binding: string
  let broker: StubBroker
  let recipient: PaymentRecipient
  let sender: PaymentSender
  let register: Registry
  let paid: PaidExecutor
  let status: number
  const signal = new AbortController().signal

  before(async () => {
    gwPeer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    otherPeer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    binding = (await createEthBinding(gwPeer.toString(), gwEthKey)).ethBinding
  })

  beforeEach(() => {
    broker = new StubBroker()
    broker.fund(gwAddress, ETH, ETH, 4)
    const clock = manualClock()
    register = new Registry()
    recipient = createPaymentRecipient({
      privateKey: Wallet.createRandom().privateKey,
      broker,
      store: createMemoryTicketStore(),
      secret: new Uint8Array(32).fill(7),
      ev: 10n ** 12n,
      redeemGas: 100_000n,
      gasPrice: 10n ** 9n,
      clock,
      metrics: createPaymentMetrics(register),
      options: { paramsExpirationBlocks: 10n, countDeposit: false }
    })
    sender = createPaymentSender({ privateKey: gwEthKey, broker, clock, caps: { maxTicketEV: ETH } })
    status = 200
    paid = createPaidExecutor({
      executor: {
        execute: async (): Promise<AiExecutionResult> => ({
          status,
          contentType: 'application/json',
          body: (async function * () { yield new TextEncoder().encode('{"images":[]}') })()
        })
      },
      recipient,
      prices: new Map([[modelKey({ pipeline: job.pipeline, modelId: job.modelId }), PRICE]]),
      logger: silentLogger(),
      metrics: createOrchestratorMetrics(register)
    })
  })

  const admit = async (h: AiJobAdmission, options: { peerId: PeerId, signal: AbortSignal }): Promise<void> => { await paid.admit?.(h, options) }
  const withoutTickets = (): Uint8Array<ArrayBuffer> => encodeJobPayment({ sender: gwAddress, binding, tickets: null })
  const header = (payment: Uint8Array<ArrayBuffer> | null, over: Partial<AiJobAdmission> = {}): AiJobAdmission =>
    ({ requestId: 'job-1', pipeline: job.pipeline, modelId: job.modelId, params: job.params, inputs: [], payment, deadline: Date.now() + 60_000, ...over })
  const refusal = async (promise: Promise<unknown>): Promise<{ code?: string, details?: { reason?: string } } | null> =>
    await promise.then(() => null, (err: { code?: string, details?: { reason?: string } }) => err)

  /** Tickets worth `feeWei` from the params the orchestrator quotes to this gateway. */
  async function ticketsFor (feeWei: bigint): Promise<Uint8Array<ArrayBuffer>> {
    const quote = await paid.quote(gwPeer, { signal, payment: withoutTickets() })
    const params = decodeQuotePayment(quote.payment)
    if (params === null) throw new Error('no ticket params quoted')
    const payment = await sender.paymentFor({ recipient: params.recipient, params, feeWei }, { signal })
    return encodeJobPayment({ sender: gwAddress, binding, tickets: payment.batch })
  }

  it('refuses, before any input, a job with no payment, a malformed one, or an address not bound to the peer', async () => {
    expect(await refusal(admit(header(null), { peerId: gwPeer, signal }))).to.deep.include({ code: 'PAYMENT_REQUIRED' })
    expect(await refusal(admit(header(new Uint8Array([0x0a, 0x03, 0x01, 0x02, 0x03])), { peerId: gwPeer, signal }))).to.have.nested.property('details.reason', 'malformed')
    // the binding names gwPeer: another peer cannot spend that address's credit
    expect(await refusal(admit(header(withoutTickets()), { peerId: otherPeer, signal }))).to.have.nested.property('details.reason', 'bad_binding')
    expect(await metricValue(register, 'shoal_orchestrator_payment_refusals_total', { reason: 'no_payment' })).to.equal(1)
    expect(await metricValue(register, 'shoal_orchestrator_payment_refusals_total', { reason: 'bad_binding' })).to.equal(1)
  })

  it('quotes ticket params only to a gateway whose address binding verified', async () => {
    const anonymous = await paid.quote(gwPeer, { signal })
    expect(decodeQuotePayment(anonymous.payment)).to.equal(null)
    expect(anonymous.prices).to.deep.include({ pipeline: job.pipeline, modelId: job.modelId, pricePerUnit: '1000', pixelsPerUnit: '1' })
    const forged = await paid.quote(otherPeer, { signal, payment: withoutTickets() })
    expect(decodeQuotePayment(forged.payment)).to.equal(null)
    const named = await paid.quote(gwPeer, { signal, payment: withoutTickets() })
    expect(decodeQuotePayment(named.payment)).to.have.property('recipient')
  })

  it('refuses a bound gateway without credit, and one whose credit does not cover the declared input', async () => {
    expect(await refusal(admit(header(withoutTickets()), { peerId: gwPeer, signal }))).to.have.nested.property('details.reason', 'insufficient_balance')
    // credit for the small job, then an upscale declaring 64 MB of input: at least 8M pixels, at 1 gwei each
    const payment = await ticketsFor(fee)
    await admit(header(payment), { peerId: gwPeer, signal })
    const big = header(withoutTickets(), { pipeline: 'upscale', inputs: [{ field: 'image', filename: 'a.png', contentType: 'image/png', size: 64 * 1024 * 1024 }] })
    paid = createPaidExecutor({ executor: { execute: async () => { throw new Error('not reached') } }, recipient, prices: new Map([[modelKey({ pipeline: 'upscale', modelId: job.modelId }), { pricePerUnit: 10n ** 9n, pixelsPerUnit: 1n }]]), logger: silentLogger(), metrics: null })
    await paid.quote(gwPeer, { signal, payment: withoutTickets() })
    expect(recipient.balance(gwAddress) < 8_000_000n * 10n ** 9n, 'the credit is below the declared input\'s price').to.equal(true)
    const err = await refusal(admit(big, { peerId: gwPeer, signal }))
    expect(err).to.have.nested.property('details.reason', 'insufficient_balance')
    expect((err as unknown as Error).message).to.match(/declared input/)
  })

  it('credits the tickets at admission, charges price x units once the result is delivered, keeps the rest as credit', async () => {
    const payment = await ticketsFor(fee * 3n)
    await admit(header(payment), { peerId: gwPeer, signal })
    const credited = recipient.balance(gwAddress)
    expect(credited >= fee).to.equal(true)
    const result = await paid.execute(job, { signal, requestId: 'job-1', peerId: gwPeer, payment, deadline: Date.now() + 60_000, onProgress: () => {} })
    expect(String(await readAll(result.body))).to.equal('{"images":[]}')
    const completion = await result.complete?.()
    expect(decodeReceipt(completion!.receipt!)).to.deep.equal({ charged: fee, balance: credited - fee, units: Number(billableUnits(job)) })
    expect(recipient.balance(gwAddress)).to.equal(credited - fee)
  })

  it('adds the price per request to the charge, and requires credit for it before the job runs', async () => {
    // more than one ticket's worth (EV 1e12): the units' tickets alone cannot cover it
    const perRequest = 5n * 10n ** 12n + 7n
    paid = createPaidExecutor({
      executor: { execute: async (): Promise<AiExecutionResult> => ({ status: 200, contentType: 'text/plain', body: (async function * () { yield new TextEncoder().encode('ok') })() }) },
      recipient,
      prices: new Map([[modelKey({ pipeline: job.pipeline, modelId: job.modelId }), { ...PRICE, pricePerRequest: perRequest }]]),
      logger: silentLogger(),
      metrics: null
    })
    // the units alone: not enough once the request has its own price
    const short = await ticketsFor(fee)
    const refused = await refusal(admit(header(short), { peerId: gwPeer, signal }))
    expect(refused).to.have.nested.property('details.reason', 'insufficient_balance')
    expect((refused as { message?: string }).message).to.match(/and the price per request/)
    const payment = await ticketsFor((fee + perRequest) * 2n)
    await admit(header(payment), { peerId: gwPeer, signal })
    const credited = recipient.balance(gwAddress)
    const result = await paid.execute(job, { signal, requestId: 'job-1', peerId: gwPeer, payment, deadline: Date.now() + 60_000, onProgress: () => {} })
    await readAll(result.body)
    const completion = await result.complete?.()
    expect(decodeReceipt(completion!.receipt!)).to.deep.equal({ charged: fee + perRequest, balance: credited - fee - perRequest, units: Number(billableUnits(job)) })
    expect(completion?.charge?.chargedWei).to.equal((fee + perRequest).toString())
  })

  it('does not charge a job the runner failed', async () => {
    const payment = await ticketsFor(fee)
    await admit(header(payment), { peerId: gwPeer, signal })
    const credited = recipient.balance(gwAddress)
    status = 500
    const result = await paid.execute(job, { signal, requestId: 'job-1', peerId: gwPeer, payment, deadline: Date.now() + 60_000, onProgress: () => {} })
    await readAll(result.body)
    expect(decodeReceipt((await result.complete?.())!.receipt!)).to.deep.equal({ charged: 0n, balance: credited })
    expect(recipient.balance(gwAddress)).to.equal(credited)
  })

  it('refuses to execute when the balance no longer covers the job (spent by another job meanwhile)', async () => {
    const payment = await ticketsFor(fee)
    await admit(header(payment), { peerId: gwPeer, signal })
    recipient.debit(gwAddress, recipient.balance(gwAddress))
    const err = await refusal(paid.execute(job, { signal, requestId: 'job-2', peerId: gwPeer, payment: withoutTickets(), deadline: Date.now() + 60_000, onProgress: () => {} }))
    expect(err).to.deep.include({ code: 'PAYMENT_REQUIRED' })
    expect(err).to.have.nested.property('details.reason', 'insufficient_balance')
  })
})
