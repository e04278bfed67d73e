import { expect } from 'chai'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { Wallet, parseEther } from 'ethers'
import { createEthBinding } from '../../src/identity/binding.js'
import type { InferenceJob } from '../../src/kernel/job.js'
import { JobError } from '../../src/kernel/job-outcome.js'
import { silentLogger } from '../../src/observability/logger.js'
import { createShoalNode, type ShoalLibp2p } from '../../src/p2p/node.js'
import { createEthersBroker, createChainOperations } from '../../src/payments/chain/index.js'
import { createPaymentSender, type PaymentSender, type TicketBatch } from '../../src/payments/index.js'
import { decodeQuotePayment, encodeJobPayment } from '../../src/payments/job-payment.js'
import { createTicketSigner } from '../../src/identity/ethereum.js'
import { domainOf, ticketHash, ticketOf } from '../../src/payments/ticket.js'
import { createAiClient, type AiClient } from '../../src/protocols/ai/index.js'
import { startOrchestrator, type OrchestratorRole } from '../../src/roles/orchestrator.js'
import { startTestnetChain, type TestnetChain } from '../../src/testnet/local-chain.js'
import { pngOf } from './helpers.js'
import { RawAiStream } from '../protocols/ai/hostile-peer.js'
import { metricValue } from '../helpers/metrics.js'

const MODEL = 'upscalerjs/esrgan-slim-x2'
const PRICE_WEI_PER_PIXEL = 1_000_000_000n

function randomWallet (): Wallet {
  return new Wallet(Wallet.createRandom().privateKey)
}

/** A gateway-like peer that speaks /shoal/ai itself, so it can send whatever payment it likes. */
interface Attacker {
  node: ShoalLibp2p
  client: AiClient
  wallet: Wallet
  binding: string
  stop: () => Promise<void>
}

/**
 * Each attack is tried by a real peer over a real libp2p connection against an
 * orchestrator paid on a real chain; the orchestrator refuses and counts the refusal.
 */
describe('e2e: payment attacks are refused by the orchestrator', function () {
  this.timeout(120_000)
  let chain: TestnetChain
  let orchestrator: OrchestratorRole
  let job: InferenceJob

  async function attacker (wallet: Wallet): Promise<Attacker> {
    const key = await generateKeyPair('Ed25519')
    const node = await createShoalNode({ role: 'gateway', privateKey: key, listen: ['/ip4/127.0.0.1/tcp/0'] })
    await node.start()
    await node.dial(orchestrator.mesh.node.getMultiaddrs()[0])
    const client = createAiClient({ dialProtocol: node.dialProtocol.bind(node), logger: silentLogger() })
    const { ethBinding } = await createEthBinding(node.peerId.toString(), wallet.privateKey)
    return { node, client, wallet, binding: ethBinding, stop: async () => { await node.stop() } }
  }

  async function fundedWallet (deposit = parseEther('1'), reserve = parseEther('1')): Promise<Wallet> {
    const wallet = randomWallet()
    await chain.fundSender(wallet.privateKey, deposit, reserve, 8)
    return wallet
  }

  /** Runs the job with this payment; returns the error code the orchestrator answered with, or 'OK'. */
  async function send (a: Attacker, payment: Uint8Array<ArrayBuffer> | null): Promise<string> {
    try {
      const res = await a.client.runJob(orchestrator.mesh.node.peerId, job, { payment: () => payment, deadlineMs: 30_000 })
      for await (const _ of res.body) { /* drain */ }
      await res.final
      return 'OK'
    } catch (err) {
      return err instanceof JobError ? err.outcome : (err as Error).name
    }
  }

  /** Binds the attacker's address (first job, no tickets), then fetches ticket params issued to it. */
  async function paramsFor (a: Attacker): Promise<ReturnType<typeof decodeQuotePayment>> {
    expect(await send(a, encodeJobPayment({ sender: a.wallet.address.toLowerCase(), binding: a.binding, tickets: null }))).to.equal('PAYMENT_REQUIRED')
    const quote = await a.client.getQuote(orchestrator.mesh.node.peerId, { maxAgeMs: 0 })
    const params = decodeQuotePayment(quote.payment)
    expect(params, 'ticket params for a bound, funded gateway').to.not.equal(null)
    return params
  }

  function senderFor (wallet: Wallet): PaymentSender {
    return createPaymentSender({ privateKey: wallet.privateKey, broker: createEthersBroker({ provider: chain.provider, address: chain.brokerAddress }) })
  }

  async function validBatch (a: Attacker, sender: PaymentSender): Promise<TicketBatch> {
    const params = await paramsFor(a)
    const payment = await sender.paymentFor({ recipient: params!.recipient, params: params!, feeWei: 10n ** 13n })
    expect(payment.batch).to.not.equal(null)
    return payment.batch!
  }

  function paid (a: Attacker, batch: TicketBatch): Uint8Array<ArrayBuffer> {
    return encodeJobPayment({ sender: batch.sender.toLowerCase(), binding: a.binding, tickets: batch })
  }

  async function expectTicketRefusal (code: string, attempt: () => Promise<string>): Promise<void> {
    const register = orchestrator.register
    const before = await metricValue(register, 'shoal_payments_tickets_received_total', { result: code })
    const refusalsBefore = await metricValue(register, 'shoal_orchestrator_payment_refusals_total', { reason: 'ticket_refused' })
    expect(await attempt()).to.equal('PAYMENT_REQUIRED')
    expect(await metricValue(register, 'shoal_payments_tickets_received_total', { result: code }), code).to.be.greaterThan(before)
    expect(await metricValue(register, 'shoal_orchestrator_payment_refusals_total', { reason: 'ticket_refused' })).to.equal(refusalsBefore + 1)
  }

  before(async () => {
    chain = await startTestnetChain({ blockTimeSec: 1 })
    const dataDir = await mkdtemp(join(tmpdir(), 'shoal-pay-'))
    orchestrator = await startOrchestrator({
      node: { role: 'orchestrator', dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], bootstrap: [], addressScope: 'private' },
      models: [{ pipeline: 'upscale', modelId: MODEL, warm: true, capacity: 4, optimizationFlags: {}, pricePerUnit: PRICE_WEI_PER_PIXEL.toString(), pixelsPerUnit: '1', currency: 'WEI' }],
      payments: { enabled: true, rpcUrl: chain.rpcUrl, brokerAddress: chain.brokerAddress, ticketEV: 10n ** 13n, gasPrice: 10n ** 9n }
    }, silentLogger())
    await chain.sendEth(orchestrator.keys.ethereum.address, parseEther('10'))
    const image = await pngOf(16, 16)
    job = { pipeline: 'upscale', modelId: MODEL, params: { prompt: 'x', model_id: MODEL }, inputs: [{ field: 'image', filename: 'x.png', contentType: 'image/png', data: image }] }
  })

  after(async () => {
    await orchestrator?.stop()
    await chain?.stop()
  })

  it('control: a funded gateway paying valid tickets gets its job done and is debited', async () => {
    const a = await attacker(await fundedWallet())
    try {
      const batch = await validBatch(a, senderFor(a.wallet))
      expect(await send(a, paid(a, batch))).to.equal('OK')
      expect(await metricValue(orchestrator.register, 'shoal_orchestrator_jobs_charged_total', {})).to.be.greaterThan(0)
    } finally { await a.stop() }
  })

  it('refuses a job with no payment at all', async () => {
    const a = await attacker(randomWallet())
    try {
      const before = await metricValue(orchestrator.register, 'shoal_orchestrator_payment_refusals_total', { reason: 'no_payment' })
      expect(await send(a, null)).to.equal('PAYMENT_REQUIRED')
      expect(await metricValue(orchestrator.register, 'shoal_orchestrator_payment_refusals_total', { reason: 'no_payment' })).to.equal(before + 1)
    } finally { await a.stop() }
  })

  it('refuses a gateway asking for work beyond its credit', async () => {
    const a = await attacker(await fundedWallet())
    try {
      const before = await metricValue(orchestrator.register, 'shoal_orchestrator_payment_refusals_total', { reason: 'insufficient_balance' })
      // bound and funded on chain, but it sends no tickets: no credit, no work
      expect(await send(a, encodeJobPayment({ sender: a.wallet.address.toLowerCase(), binding: a.binding, tickets: null }))).to.equal('PAYMENT_REQUIRED')
      expect(await metricValue(orchestrator.register, 'shoal_orchestrator_payment_refusals_total', { reason: 'insufficient_balance' })).to.equal(before + 1)
    } finally { await a.stop() }
  })

  it('refuses a ticket-less header whose declared input its credit cannot pay, before the input is uploaded', async () => {
    const a = await attacker(await fundedWallet())
    try {
      // one valid job leaves credit (one ticket's worth), as in issue 10
      expect(await send(a, paid(a, await validBatch(a, senderFor(a.wallet))))).to.equal('OK')
      const before = await metricValue(orchestrator.register, 'shoal_orchestrator_payment_refusals_total', { reason: 'insufficient_balance' })
      const raw = await RawAiStream.open(a.node, orchestrator.mesh.node.peerId)
      await raw.header({
        pipeline: 'upscale',
        modelId: MODEL,
        deadlineMs: 60_000,
        payment: encodeJobPayment({ sender: a.wallet.address.toLowerCase(), binding: a.binding, tickets: null }),
        inputs: [{ field: 'image', filename: 'big.png', contentType: 'image/png', size: 100_000_000 }]
      })
      const answer = await raw.answer()
      expect(answer.kind === 'final' ? answer.final.code : answer.kind).to.equal('PAYMENT_REQUIRED')
      expect(answer.kind === 'final' && answer.final.message).to.match(/for the declared input/)
      expect(await metricValue(orchestrator.register, 'shoal_orchestrator_payment_refusals_total', { reason: 'insufficient_balance' })).to.equal(before + 1)
      raw.reset()
    } finally { await a.stop() }
  })

  it('refuses an address bound to another peer (someone else\'s credit)', async () => {
    const victim = await fundedWallet()
    const a = await attacker(randomWallet())
    try {
      const other = await createEthBinding((await generateKeyPair('Ed25519')).publicKey.toString(), victim.privateKey)
      const before = await metricValue(orchestrator.register, 'shoal_orchestrator_payment_refusals_total', { reason: 'bad_binding' })
      expect(await send(a, encodeJobPayment({ sender: victim.address.toLowerCase(), binding: other.ethBinding, tickets: null }))).to.equal('PAYMENT_REQUIRED')
      expect(await metricValue(orchestrator.register, 'shoal_orchestrator_payment_refusals_total', { reason: 'bad_binding' })).to.equal(before + 1)
    } finally { await a.stop() }
  })

  it('refuses a replayed nonce', async () => {
    const a = await attacker(await fundedWallet())
    try {
      const batch = await validBatch(a, senderFor(a.wallet))
      expect(await send(a, paid(a, batch))).to.equal('OK')
      await expectTicketRefusal('TICKET_ERROR_NONCE_REPLAYED', async () => await send(a, paid(a, batch)))
    } finally { await a.stop() }
  })

  it('refuses a forged signature', async () => {
    const a = await attacker(await fundedWallet())
    try {
      const batch = await validBatch(a, senderFor(a.wallet))
      const forged = { ...batch, tickets: batch.tickets.map(t => ({ ...t, signature: Uint8Array.from(t.signature, (b, i) => i === 5 ? b ^ 0xff : b) })) }
      await expectTicketRefusal('TICKET_ERROR_BAD_SIGNATURE', async () => await send(a, paid(a, forged)))
    } finally { await a.stop() }
  })

  it('refuses a ticket for another recipient', async () => {
    const a = await attacker(await fundedWallet())
    try {
      const batch = await validBatch(a, senderFor(a.wallet))
      const other = { ...batch, params: { ...batch.params, recipient: randomWallet().address.toLowerCase() } }
      await expectTicketRefusal('TICKET_ERROR_WRONG_RECIPIENT', async () => await send(a, paid(a, other)))
    } finally { await a.stop() }
  })

  it('refuses a wrong recipientRandHash', async () => {
    const a = await attacker(await fundedWallet())
    try {
      const batch = await validBatch(a, senderFor(a.wallet))
      const wrong = { ...batch, params: { ...batch.params, recipientRandHash: '0x' + '11'.repeat(32) } }
      await expectTicketRefusal('TICKET_ERROR_RECIPIENT_RAND_HASH', async () => await send(a, paid(a, wrong)))
    } finally { await a.stop() }
  })

  it('refuses tickets on expired params', async () => {
    const a = await attacker(await fundedWallet())
    try {
      const batch = await validBatch(a, senderFor(a.wallet))
      await chain.provider.send('anvil_mine', ['0x20'])
      await new Promise(resolve => setTimeout(resolve, 1_100)) // the recipient caches the block number for 1 s
      await expectTicketRefusal('TICKET_ERROR_PARAMS_EXPIRED', async () => await send(a, paid(a, batch)))
    } finally { await a.stop() }
  })

  it('refuses an unfunded sender', async () => {
    const funded = await attacker(await fundedWallet())
    const broke = randomWallet()
    const a = await attacker(broke)
    try {
      const template = await validBatch(funded, senderFor(funded.wallet))
      const signer = createTicketSigner(broke.privateKey)
      const sender = broke.address.toLowerCase()
      const tickets = [1n].map(senderNonce => ({ senderNonce, signature: signer.sign(ticketHash(ticketOf(template.params, sender, senderNonce), domainOf(template.params))) }))
      await expectTicketRefusal('TICKET_ERROR_SENDER_UNFUNDED', async () => await send(a, paid(a, { params: template.params, sender, tickets })))
    } finally { await a.stop(); await funded.stop() }
  })

  it('refuses a sender that is unlocking its funds', async () => {
    const wallet = await fundedWallet()
    const a = await attacker(wallet)
    try {
      const batch = await validBatch(a, senderFor(wallet))
      await createChainOperations({ provider: chain.provider, broker: chain.brokerAddress, privateKey: wallet.privateKey }).unlock()
      await new Promise(resolve => setTimeout(resolve, 5_500)) // past the recipient's 5 s cache of sender state
      await expectTicketRefusal('TICKET_ERROR_SENDER_UNLOCKING', async () => await send(a, paid(a, batch)))
    } finally { await a.stop() }
  })

  it('a gateway refuses an orchestrator asking for a face value over its max float', async () => {
    // real params as this orchestrator issues them (face value 150k gas x 1 gwei x 100 = 0.015 ETH) ...
    const rich = await attacker(await fundedWallet())
    // ... offered to a gateway whose deposit and reserve are far below that face value
    const poor = await fundedWallet(10n ** 12n, 10n ** 12n)
    try {
      const params = await paramsFor(rich)
      const sender = senderFor(poor)
      expect(await sender.maxFloat(params!.recipient) < params!.faceValue, 'max float below the face value').to.equal(true)
      const err = await sender.paymentFor({ recipient: params!.recipient, params: params!, feeWei: 10n ** 13n }).catch(e => e)
      expect(err).to.have.property('code', 'PAYMENT_ERROR_FACE_VALUE_OVER_MAX_FLOAT')
    } finally { await rich.stop() }
  })
})
