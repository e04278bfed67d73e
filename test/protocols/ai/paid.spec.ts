import { expect } from 'chai'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { Wallet, parseEther } from 'ethers'
import { Registry } from 'prom-client'
import { createEthBinding } from '../../../src/identity/binding.js'
import type { SendJob } from '../../../src/gateway/dispatch/index.js'
import type { InferenceJob, RunnerResponse } from '../../../src/kernel/job.js'
import { silentLogger } from '../../../src/observability/logger.js'
import { createShoalNode, type ShoalLibp2p } from '../../../src/p2p/node.js'
import { createEthersBroker } from '../../../src/payments/chain/index.js'
import { createPaymentSender, type PaymentSender } from '../../../src/payments/index.js'
import { decodeQuotePayment, encodeJobPayment } from '../../../src/payments/job-payment.js'
import type { SenderCaps } from '../../../src/payments/options.js'
import { createAiClient, type ModelLoad } from '../../../src/protocols/ai/index.js'
import { aiSend } from '../../../src/roles/ai-send.js'
import { startOrchestrator, type OrchestratorRole } from '../../../src/roles/orchestrator.js'
import { startTestnetChain, type TestnetChain } from '../../../src/testnet/local-chain.js'
import { metricValue, readAll, waitFor } from './helpers.js'

const MODEL = 'test/llm'
const PRICE_WEI_PER_TOKEN = 1_000_000_000n
const TICKET_EV = 10n ** 13n

/**
 * An ai-runner-compatible LLM runner: streams two tokens, or, for a prompt of "hold",
 * holds the request open until the caller goes away (counting the aborts it saw).
 */
interface TestRunner { url: string, held: () => number, aborted: () => number, server: Server }

async function startRunner (): Promise<TestRunner> {
  let held = 0
  let aborted = 0
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const json = (value: unknown): void => { res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value)) }
    if (req.method === 'GET' && req.url === '/health') { json({ status: 'OK' }); return }
    if (req.method === 'GET' && req.url === '/version') { json({ pipeline: 'llm', model_id: MODEL, version: 'test-1' }); return }
    let body = ''
    req.on('data', (c: Buffer) => { body += c.toString() })
    req.on('end', () => {
      const params = JSON.parse(body) as { messages?: Array<{ content?: string }> }
      if (params.messages?.[0]?.content === 'hold') {
        held++
        res.on('close', () => { held--; aborted++ })
        return
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.end('data: {"choices":[{"delta":{"content":"a"}}]}\n\ndata: {"choices":[{"delta":{"content":"b"}}],"usage":{"completion_tokens":2}}\n\ndata: [DONE]\n\n')
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, held: () => held, aborted: () => aborted, server }
}

const llmJob = (content: string, maxTokens = 16): InferenceJob => ({ pipeline: 'llm', modelId: MODEL, params: { model: MODEL, messages: [{ role: 'user', content }], max_tokens: maxTokens, stream: true }, inputs: [] })

interface Gateway {
  node: ShoalLibp2p
  send: SendJob
  sender: PaymentSender
  register: Registry
  loads: Array<{ peerId: string, loads: ModelLoad[] }>
  stop: () => Promise<void>
}

/**
 * A gateway as `shoal gateway` builds its sends (`aiSend` with ticket payments), on a
 * real libp2p node with a fresh key, paying from a funded account on the local chain:
 * on payment paths, the orchestrator and the chain are real.
 */
describe('protocols/ai with payments: first job paid, cancelled jobs not charged, gateway limits', function () {
  this.timeout(120_000)
  let chain: TestnetChain
  let orchestrator: OrchestratorRole
  let runner: TestRunner
  let dataDir: string
  const gateways: Gateway[] = []

  async function gateway (caps: Partial<SenderCaps> = {}): Promise<Gateway> {
    const wallet = new Wallet(Wallet.createRandom().privateKey)
    await chain.fundSender(wallet.privateKey, parseEther('1'), parseEther('1'), 8)
    const node = await createShoalNode({ role: 'gateway', privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    await node.start()
    await node.dial(orchestrator.mesh.node.getMultiaddrs()[0])
    const sender = createPaymentSender({ privateKey: wallet.privateKey, broker: createEthersBroker({ provider: chain.provider, address: chain.brokerAddress }), caps })
    const { ethBinding } = await createEthBinding(node.peerId.toString(), wallet.privateKey)
    const register = new Registry()
    const loads: Gateway['loads'] = []
    const send = aiSend(node, {
      logger: silentLogger(),
      register,
      payments: { sender, identity: { address: sender.address, binding: ethBinding } },
      onLoad: (peerId, l) => { loads.push({ peerId, loads: l }) }
    })
    const g = { node, send, sender, register, loads, stop: async () => { await node.stop() } }
    gateways.push(g)
    return g
  }

  const orchestratorMetric = async (name: string, labels: Record<string, string> = {}): Promise<number> => await metricValue(orchestrator.register, name, labels)
  const balanceAt = (g: Gateway): bigint => orchestrator.payments?.recipient.balance(g.sender.address) ?? -1n
  const creditOf = (g: Gateway): bigint => g.sender.credit(orchestrator.keys.ethereum.address)

  async function run (g: Gateway, job: InferenceJob, options: { signal?: AbortSignal, firstByteDeadlineMs?: number } = {}): Promise<string> {
    const res: RunnerResponse = await g.send(orchestrator.peerId, job, { signal: options.signal ?? AbortSignal.timeout(30_000), requestId: `req-${Math.random().toString(36).slice(2)}`, ...options })
    const text = Buffer.from(await readAll(res.body)).toString()
    await (res as { final?: Promise<unknown> }).final
    return text
  }

  before(async () => {
    chain = await startTestnetChain({ blockTimeSec: 1 })
    runner = await startRunner()
    dataDir = await mkdtemp(join(tmpdir(), 'shoal-ai-paid-'))
    orchestrator = await startOrchestrator({
      node: { role: 'orchestrator', dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], bootstrap: [], addressScope: 'private' },
      models: [{ pipeline: 'llm', modelId: MODEL, warm: true, capacity: 4, url: runner.url, optimizationFlags: {}, pricePerUnit: PRICE_WEI_PER_TOKEN.toString(), pixelsPerUnit: '1', currency: 'WEI' }],
      payments: { enabled: true, rpcUrl: chain.rpcUrl, brokerAddress: chain.brokerAddress, ticketEV: TICKET_EV, gasPrice: 10n ** 9n }
    }, silentLogger())
    await chain.sendEth(orchestrator.keys.ethereum.address, parseEther('10'))
  })

  after(async () => {
    for (const g of gateways) await g.stop().catch(() => {})
    await orchestrator?.stop()
    await new Promise(resolve => runner?.server.close(resolve))
    await chain?.stop()
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
  })

  it('serves a fresh gateway\'s first job in one attempt, with tickets from the first quote and no PAYMENT_REQUIRED', async () => {
    const refusedBefore = await orchestratorMetric('shoal_ai_server_jobs_total', { code: 'PAYMENT_REQUIRED' })
    const refusalsBefore = await orchestratorMetric('shoal_orchestrator_payment_refusals_total')
    const chargedBefore = await orchestratorMetric('shoal_orchestrator_jobs_charged_total')
    const g = await gateway()
    expect(await run(g, llmJob('hello'))).to.include('[DONE]')
    // one job on the wire, answered OK: no refusal first, no second try
    expect(await metricValue(g.register, 'shoal_ai_client_jobs_total')).to.equal(1)
    expect(await metricValue(g.register, 'shoal_ai_client_jobs_total', { outcome: 'OK' })).to.equal(1)
    expect(await orchestratorMetric('shoal_ai_server_jobs_total', { code: 'PAYMENT_REQUIRED' })).to.equal(refusedBefore)
    expect(await orchestratorMetric('shoal_orchestrator_payment_refusals_total')).to.equal(refusalsBefore)
    expect(await orchestratorMetric('shoal_orchestrator_jobs_charged_total')).to.equal(chargedBefore + 1)
    // charged the 2 tokens delivered, out of one ticket's credit; both sides agree on what is left
    expect(balanceAt(g)).to.equal(TICKET_EV - 2n * PRICE_WEI_PER_TOKEN)
    await waitFor(() => creditOf(g) === balanceAt(g), 5_000, 'the gateway\'s credit estimate to follow the receipt')
    // the connection told the gateway about free slots
    expect(g.loads.at(-1)).to.deep.equal({ peerId: orchestrator.peerId, loads: [{ pipeline: 'llm', modelId: MODEL, capacity: 4, inUse: 0 }] })
  })

  it('debits nothing for a job cancelled at its first-byte deadline, and the gateway\'s estimate stays equal to the orchestrator\'s balance', async () => {
    const g = await gateway()
    expect(await run(g, llmJob('warm up'))).to.include('[DONE]')
    await waitFor(() => creditOf(g) === balanceAt(g), 5_000, 'estimate after the first job')
    const chargedBefore = await orchestratorMetric('shoal_orchestrator_jobs_charged_total')
    const cancelledBefore = await orchestratorMetric('shoal_ai_server_jobs_total', { code: 'CANCELLED' })
    const abortedBefore = runner.aborted()
    // a job large enough to need new tickets: the credit left does not cover 20,000 tokens
    const err = await run(g, llmJob('hold', 20_000), { firstByteDeadlineMs: 1_000 }).catch(e => e)
    expect(err).to.have.property('code', 'JOB_ERROR_DEADLINE_EXCEEDED')
    expect(err.details).to.have.property('phase', 'first-byte')
    // the orchestrator aborted its runner call and answered CANCELLED
    await waitFor(() => runner.aborted() === abortedBefore + 1, 10_000, 'the runner request to be aborted')
    await waitFor(async () => await orchestratorMetric('shoal_ai_server_jobs_total', { code: 'CANCELLED' }) === cancelledBefore + 1, 10_000, 'Final CANCELLED')
    expect(await orchestratorMetric('shoal_orchestrator_jobs_charged_total')).to.equal(chargedBefore)
    // the tickets sent with it were credited and nothing was debited: the balance grew by them
    const balance = balanceAt(g)
    expect(balance > TICKET_EV - 2n * PRICE_WEI_PER_TOKEN).to.equal(true)
    await waitFor(() => creditOf(g) === balance, 5_000, `the gateway's estimate (${creditOf(g)}) to equal the orchestrator's balance (${balance})`)
    // and the next job is paid from that credit, both sides still agreeing
    expect(await run(g, llmJob('after'))).to.include('[DONE]')
    expect(balanceAt(g)).to.equal(balance - 2n * PRICE_WEI_PER_TOKEN)
    await waitFor(() => creditOf(g) === balanceAt(g), 5_000, 'estimate after the next job')
  })

  it('debits nothing for a job the gateway aborts (a hedge loser), and keeps the estimate right', async () => {
    const g = await gateway()
    expect(await run(g, llmJob('warm up'))).to.include('[DONE]')
    const chargedBefore = await orchestratorMetric('shoal_orchestrator_jobs_charged_total')
    const heldBefore = runner.aborted()
    const controller = new AbortController()
    const pending = run(g, llmJob('hold', 20_000), { signal: controller.signal }).catch(e => e)
    await waitFor(() => runner.held() > 0, 10_000, 'the runner to hold the job')
    controller.abort(new Error('another attempt won'))
    expect(await pending).to.have.property('code', 'AI_ERROR_ABORTED')
    await waitFor(() => runner.aborted() === heldBefore + 1, 10_000, 'the runner request to be aborted')
    expect(await orchestratorMetric('shoal_orchestrator_jobs_charged_total')).to.equal(chargedBefore)
    await waitFor(() => creditOf(g) === balanceAt(g), 5_000, `the gateway's estimate (${creditOf(g)}) to equal the orchestrator's balance (${balanceAt(g)})`)
  })

  it('refuses a job over the gateway\'s own ticket caps as JOB_ERROR_GATEWAY_LIMIT naming the limit, before sending it', async () => {
    const serverJobsBefore = await orchestratorMetric('shoal_ai_server_jobs_total')
    const capped = await gateway({ maxJobEV: TICKET_EV / 2n })
    const err = await run(capped, llmJob('too dear')).catch(e => e)
    expect(err).to.have.property('name', 'GatewayLimitError')
    expect(err).to.have.property('code', 'JOB_ERROR_GATEWAY_LIMIT')
    expect(err.details).to.have.property('limit', 'maxJobEV')
    expect(err.message).to.include('maxJobEV').and.include(String(TICKET_EV / 2n))
    const batch = await gateway({ maxTicketsPerBatch: 2 })
    const many = await run(batch, llmJob('long', 100_000)).catch(e => e)
    expect(many).to.have.property('code', 'JOB_ERROR_GATEWAY_LIMIT')
    expect(many.details).to.have.property('limit', 'maxTicketsPerBatch')
    expect(many.message).to.match(/needs \d+ tickets; at most 2/)
    // no job reached the orchestrator; the gateways' estimates are untouched
    expect(await orchestratorMetric('shoal_ai_server_jobs_total')).to.equal(serverJobsBefore)
    expect(creditOf(capped)).to.equal(0n)
    expect(creditOf(batch)).to.equal(0n)
  })

  it('issues no ticket params to a QuoteRequest naming a payer bound to another peer', async () => {
    const wallet = new Wallet(Wallet.createRandom().privateKey)
    await chain.fundSender(wallet.privateKey, parseEther('1'), parseEther('1'), 8)
    const node = await createShoalNode({ role: 'gateway', privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    await node.start()
    try {
      await node.dial(orchestrator.mesh.node.getMultiaddrs()[0])
      const client = createAiClient({ dialProtocol: node.dialProtocol.bind(node) })
      // a binding signed for some other peer id: whoever holds it must not get params for this address
      const other = await createShoalNode({ role: 'gateway', privateKey: await generateKeyPair('Ed25519'), listen: [] })
      const { ethBinding } = await createEthBinding(other.peerId.toString(), wallet.privateKey)
      const stolen = encodeJobPayment({ sender: wallet.address.toLowerCase(), binding: ethBinding, tickets: null })
      const refusalsBefore = await orchestratorMetric('shoal_orchestrator_payment_refusals_total', { reason: 'bad_binding' })
      let quoted: ReturnType<typeof decodeQuotePayment> | undefined
      const err = await client.runJob(orchestrator.mesh.node.peerId, llmJob('x'), {
        payer: () => stolen,
        payment: (quote) => { quoted = decodeQuotePayment(quote.payment); return stolen }
      }).catch(e => e)
      expect(quoted).to.equal(null)
      expect(err).to.have.property('name', 'PaymentRequiredError')
      expect(await orchestratorMetric('shoal_orchestrator_payment_refusals_total', { reason: 'bad_binding' })).to.be.greaterThan(refusalsBefore)
      await client.stop()
    } finally {
      await node.stop()
    }
  })
})
