import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { expect } from 'chai'
import { Wallet } from 'ethers'
import { createEthBinding } from '../../src/identity/binding.js'
import { createJobPayer } from '../../src/gateway/payments.js'
import { billableUnits } from '../../src/kernel/billing.js'
import type { InferenceJob } from '../../src/kernel/job.js'
import { silentLogger } from '../../src/observability/logger.js'
import { OrchestratorJobError } from '../../src/orchestrator/errors.js'
import { modelKey } from '../../src/kernel/model-key.js'
import { createPaidExecutor, type PaidExecutor } from '../../src/orchestrator/payments.js'
import { manualClock } from '../../src/payments/clock.js'
import { decodeJobPayment, decodeReceipt, encodeReceipt } from '../../src/payments/job-payment.js'
import { createPaymentRecipient, type PaymentRecipient } from '../../src/payments/payment-recipient.js'
import { createPaymentSender, type PaymentSender } from '../../src/payments/payment-sender.js'
import { createTicketSigner } from '../../src/identity/ethereum.js'
import { createMemoryTicketStore } from '../../src/payments/ticket-store.js'
import { PaymentRequiredError, type AiClient, type AiJobResult, type AiQuote, type AiRunJobOptions } from '../../src/protocols/ai/index.js'
import { readAll } from '../helpers/streams.js'
import { StubBroker } from '../payments/stubs.js'

const ETH = 10n ** 18n
const job: InferenceJob = { pipeline: 'text-to-image', modelId: 'shoal/noop', params: { prompt: 'a fish', width: 512, height: 512 }, inputs: [] }
const PRICE = { pricePerUnit: 1000n, pixelsPerUnit: 1n }
const fee = billableUnits(job) * PRICE.pricePerUnit

/**
 * The gateway's side of payment (createJobPayer) against the orchestrator's real
 * acceptance (createPaidExecutor), joined by an in-memory stand-in for the /shoal/ai
 * client: what the payer builds is what the orchestrator checks, with no network.
 */
describe('gateway/payments: paying for a job (no chain, no network)', () => {
  const gwEthKey = Wallet.createRandom().privateKey
  const gwAddress = createTicketSigner(gwEthKey).address
  let gwPeer: PeerId
  let orchPeer: PeerId
  let identity: { address: string, binding: string }
  let broker: StubBroker
  let recipient: PaymentRecipient
  let sender: PaymentSender
  let paid: PaidExecutor
  /** what each attempt sent: the job payment, and the quote's age limit */
  let sent: Array<{ payment: Uint8Array<ArrayBuffer> | null, quoteMaxAgeMs?: number }>
  /** a charge the orchestrator reports below the fee (an LLM stopping early) */
  let chargeOverride: bigint | null

  before(async () => {
    gwPeer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    orchPeer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    identity = { address: gwAddress, binding: (await createEthBinding(gwPeer.toString(), gwEthKey)).ethBinding }
  })

  function senderWith (caps: Record<string, bigint | number> = {}): PaymentSender {
    return createPaymentSender({ privateKey: gwEthKey, broker, clock: manualClock(), caps: { maxTicketEV: ETH, ...caps } })
  }

  beforeEach(() => {
    broker = new StubBroker()
    broker.fund(gwAddress, ETH, ETH, 4)
    recipient = createPaymentRecipient({
      privateKey: Wallet.createRandom().privateKey, broker, store: createMemoryTicketStore(), secret: new Uint8Array(32).fill(3),
      ev: 10n ** 12n, redeemGas: 100_000n, gasPrice: 10n ** 9n, clock: manualClock(), options: { paramsExpirationBlocks: 10n, countDeposit: false }
    })
    sender = senderWith()
    sent = []
    chargeOverride = null
    paid = createPaidExecutor({
      executor: { execute: async () => ({ status: 200, contentType: 'application/json', body: (async function * () { yield new TextEncoder().encode('{}') })() }) },
      recipient, prices: new Map([[modelKey({ pipeline: job.pipeline, modelId: job.modelId }), PRICE]]), logger: silentLogger(), metrics: null
    })
  })

  /** The /shoal/ai client, in memory: quote, payer, payment, admit, execute, Final. */
  const client = (): AiClient => ({
    runJob: async (_peer: PeerId, j: InferenceJob, options: AiRunJobOptions = {}): Promise<AiJobResult> => {
      const signal = new AbortController().signal
      let quote: AiQuote = await paid.quote(gwPeer, { signal })
      const named = options.payer?.(quote)
      if (named !== undefined) quote = await paid.quote(gwPeer, { signal, payment: named })
      const payment = (await options.payment?.(quote)) ?? null
      sent.push({ payment, quoteMaxAgeMs: options.quoteMaxAgeMs })
      try {
        await paid.admit?.({ requestId: 'r', pipeline: j.pipeline, modelId: j.modelId, params: j.params, inputs: [], payment, deadline: Date.now() + 60_000 }, { peerId: gwPeer, signal })
        const result = await paid.execute(j, { signal, requestId: 'r', peerId: gwPeer, payment, deadline: Date.now() + 60_000, onProgress: () => {} })
        const body = await readAll(result.body)
        const completion = await result.complete?.()
        // an orchestrator reporting a lower charge reports the credit that leaves too
        const receipt = chargeOverride === null || completion?.receipt === undefined
          ? completion?.receipt
          : encodeReceipt({ charged: chargeOverride, balance: decodeReceipt(completion.receipt).balance + fee - chargeOverride })
        return { requestId: 'r', peerId: orchPeer.toString(), status: result.status, contentType: result.contentType, body: (async function * () { yield body })(), final: Promise.resolve({ receipt }) }
      } catch (err) {
        if (err instanceof OrchestratorJobError && err.code === 'PAYMENT_REQUIRED') throw new PaymentRequiredError(err.message)
        throw err
      }
    }
  }) as unknown as AiClient

  const run = async (): Promise<AiJobResult> => {
    const payer = createJobPayer({ client: client(), sender, identity, logger: silentLogger() })
    return await payer.runJob(orchPeer, job, { signal: new AbortController().signal, requestId: 'r' })
  }

  it('on first contact names its address to get ticket params, and pays the first job with tickets', async () => {
    const result = await run()
    await result.final
    expect(sent).to.have.length(1)
    const payment = decodeJobPayment(sent[0].payment)
    expect(payment?.sender).to.equal(gwAddress)
    expect(payment?.tickets, 'the first job carries tickets').to.not.equal(null)
    // the orchestrator charged the fee; the rest of the tickets' value is credit both sides agree on
    const orchestratorBalance = recipient.balance(gwAddress)
    await new Promise(resolve => setImmediate(resolve))
    const ticketRecipient = payment?.tickets?.params.recipient as string
    expect(sender.credit(ticketRecipient)).to.equal(orchestratorBalance)
  })

  it('pays the next job from the credit the first batch left, without new tickets', async () => {
    await (await run()).final
    const first = decodeJobPayment(sent[0].payment)
    const to = first?.tickets?.params.recipient as string
    await new Promise(resolve => setImmediate(resolve))
    const credit = sender.credit(to)
    expect(credit >= fee, 'one batch of 1e12-wei tickets covers more than one 2.6e8-wei job').to.equal(true)
    await (await run()).final
    const second = decodeJobPayment(sent[1].payment)
    expect(second?.tickets).to.equal(null)
    expect(recipient.balance(gwAddress)).to.equal(credit - fee)
  })

  it('gives back the part of the fee the orchestrator did not charge', async () => {
    chargeOverride = fee / 4n
    const result = await run()
    const payment = decodeJobPayment(sent[0].payment)
    const to = payment?.tickets?.params.recipient as string
    await result.final
    await new Promise(resolve => setImmediate(resolve))
    const credit = sender.credit(to)
    // the orchestrator really debited the whole fee, but reported a quarter: the gateway
    // believes its receipt and gives back the other three quarters
    expect(credit).to.equal(recipient.balance(gwAddress) + fee - fee / 4n)
  })

  it('refuses a job beyond its own cap as JOB_ERROR_GATEWAY_LIMIT, naming the limit: no orchestrator is blamed', async () => {
    sender = senderWith({ maxJobEV: 1n })
    const err = await run().then(() => null, (e: { code?: string, details?: Record<string, unknown> }) => e)
    expect(err).to.have.property('code', 'JOB_ERROR_GATEWAY_LIMIT')
    expect(err?.details).to.include({ limit: 'maxJobEV' })
  })
})
