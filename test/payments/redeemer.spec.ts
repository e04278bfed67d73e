import { expect } from 'chai'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import { Registry } from 'prom-client'
import type { Broker } from '../../src/payments/broker.js'
import { createEthersBroker } from '../../src/payments/chain/ethers-broker.js'
import { manualClock } from '../../src/payments/clock.js'
import { ChainError } from '../../src/payments/errors.js'
import { createPaymentMetrics } from '../../src/payments/metrics.js'
import { createPaymentRecipient } from '../../src/payments/payment-recipient.js'
import { createPaymentSender } from '../../src/payments/payment-sender.js'
import { createRedeemer } from '../../src/payments/redeemer.js'
import { createSqliteTicketStore } from '../../src/payments/store/sqlite-ticket-store.js'
import type { TicketStore, WinningTicket } from '../../src/payments/ticket-store.js'
import { decodeTicketBatch, decodeTicketParams, encodeTicketBatch } from '../../src/payments/wire.js'
import { silentLogger } from '../../src/observability/logger.js'
import { makeTicket, startChainFixture, type ChainFixture } from './fixtures.js'

const ETH = 10n ** 18n

describe('payments: redemption loop (anvil)', function () {
  this.timeout(30_000)
  let fx: ChainFixture
  let snap: string
  let dir: string
  let store: TicketStore
  let broker: ReturnType<typeof createEthersBroker>
  let gatewayKey: string
  let orch: string
  const clock = manualClock()

  before(async () => {
    fx = await startChainFixture({ unlockPeriodBlocks: 50n, redeemWindowBlocks: 20n })
    gatewayKey = fx.wallets[1].privateKey
    orch = fx.wallets[2].address.toLowerCase()
    await (await fx.broker(1).fundDepositAndReserve(ETH, ETH, 2, { value: 2n * ETH })).wait()
    broker = createEthersBroker({ provider: fx.provider, address: fx.deployment.address, privateKey: fx.wallets[2].privateKey })
  })
  after(async () => { await fx?.stop() })
  beforeEach(async () => {
    snap = await fx.snapshot()
    dir = mkdtempSync(join(tmpdir(), 'shoal-redeem-'))
    store = createSqliteTicketStore(join(dir, 'tickets.sqlite'))
  })
  afterEach(async () => {
    store.close()
    rmSync(dir, { recursive: true, force: true })
    await fx.revert(snap)
  })

  const storeTicket = (t: ReturnType<typeof makeTicket>): WinningTicket => {
    const w = { ticketHash: t.hash, ticket: t.ticket, signature: t.sig, recipientRand: t.rand, domain: fx.domain, receivedAt: clock.now() }
    store.addWinner(w)
    return w
  }
  const redeemerWith = (b: Broker = broker, register = new Registry()): ReturnType<typeof createRedeemer> =>
    createRedeemer({ broker: b, store, clock, metrics: createPaymentMetrics(register), logger: silentLogger(), options: { retryBaseMs: 1000 } })

  it('waits until the params expired, then redeems and records the payment', async () => {
    const recipient = createPaymentRecipient({ privateKey: fx.wallets[2].privateKey, broker, store, ev: 10n ** 16n, gasPrice: 10n ** 9n, redeemGas: 100_000n, clock, options: { paramsExpirationBlocks: 3n } })
    const sender = createPaymentSender({ privateKey: gatewayKey, broker: createEthersBroker({ provider: fx.provider, address: fx.deployment.address }), caps: { maxTicketEV: ETH }, clock })
    const params = await recipient.ticketParams(sender.address)
    const pay = await sender.paymentFor({ recipient: orch, params, feeWei: 10n ** 16n })
    const r = await recipient.receive(decodeTicketBatch(encodeTicketBatch(pay.batch!)))
    expect(r.winners).to.equal(1)
    const register = new Registry()
    const redeemer = redeemerWith(broker, register)
    expect((await redeemer.redeemDue()).waiting).to.equal(1)
    await fx.mine(4)
    const before = await fx.provider.getBalance(orch)
    const pass = await redeemer.redeemDue()
    expect(pass.redeemed).to.equal(1)
    const [w] = store.list()
    expect(w.status).to.equal('redeemed')
    expect(w.paidWei).to.equal(10n ** 16n)
    const receipt = await fx.provider.getTransactionReceipt(w.txHash!)
    expect(await fx.provider.getBalance(orch)).to.equal(before + 10n ** 16n - receipt!.gasUsed * receipt!.gasPrice)
    const values = (await register.getSingleMetric('shoal_payments_redemptions_total')?.get())?.values ?? []
    expect(values.find(v => v.labels.result === 'redeemed')?.value).to.equal(1)
  })

  it('leaves a win that would not cover the gas pending, and looks again later', async () => {
    const w = storeTicket(makeTicket({ signer: gatewayKey, recipient: orch, domain: fx.domain, faceValue: 1000n, expirationBlock: await fx.blockNumber() - 1n }))
    const pass = await redeemerWith().redeemDue()
    expect(pass.skipped_gas).to.equal(1)
    const got = store.get(w.ticketHash)!
    expect(got.status).to.equal('pending')
    expect(got.nextAttemptAt).to.be.greaterThan(clock.now())
    expect(await broker.isTicketUsed(w.ticketHash)).to.equal(false)
  })

  it('retries a failed transaction with backoff, then redeems', async () => {
    const w = storeTicket(makeTicket({ signer: gatewayKey, recipient: orch, domain: fx.domain, expirationBlock: await fx.blockNumber() - 1n }))
    let fail = true
    const flaky: Broker = {
      ...broker,
      redeemWinningTicket: async (...args) => {
        if (fail) { fail = false; throw new ChainError('CHAIN_ERROR_RPC', 'connection reset') }
        return await broker.redeemWinningTicket(...args)
      }
    }
    const redeemer = redeemerWith(flaky)
    expect((await redeemer.redeemDue()).retry).to.equal(1)
    expect(store.get(w.ticketHash)).to.include({ status: 'pending', attempts: 1, lastError: 'connection reset' })
    expect((await redeemer.redeemDue()).redeemed).to.equal(0) // not due yet
    clock.advance(1000)
    expect((await redeemer.redeemDue()).redeemed).to.equal(1)
    expect(store.get(w.ticketHash)?.status).to.equal('redeemed')
  })

  it('gives up on tickets the contract refuses for good, and on closed redeem windows', async () => {
    const now = await fx.blockNumber()
    const losing = storeTicket(makeTicket({ signer: gatewayKey, recipient: orch, domain: fx.domain, winProb: 1n, expirationBlock: now - 1n }))
    const late = storeTicket(makeTicket({ signer: gatewayKey, recipient: orch, domain: fx.domain, expirationBlock: now - 21n > 0n ? now - 21n : 0n }))
    await fx.mine(25)
    const pass = await redeemerWith().redeemDue()
    expect(pass.refused + pass.expired).to.equal(2)
    expect(store.get(losing.ticketHash)?.status).to.be.oneOf(['failed', 'expired'])
    expect(store.get(late.ticketHash)?.status).to.equal('expired')
  })

  it('recognises a ticket someone else already redeemed, with its transaction', async () => {
    const t = makeTicket({ signer: gatewayKey, recipient: orch, domain: fx.domain, expirationBlock: await fx.blockNumber() - 1n })
    const w = storeTicket(t)
    const receipt = await (await fx.broker(0).redeemWinningTicket(t.tuple, t.sigHex, t.rand)).wait()
    expect((await redeemerWith().redeemDue()).already_used).to.equal(1)
    expect(store.get(w.ticketHash)).to.include({ status: 'redeemed', txHash: receipt.hash, paidWei: t.ticket.faceValue })
  })

  it('start/stop run passes in the background', async () => {
    const w = storeTicket(makeTicket({ signer: gatewayKey, recipient: orch, domain: fx.domain, expirationBlock: await fx.blockNumber() - 1n }))
    const redeemer = createRedeemer({ broker, store, clock, metrics: null, logger: silentLogger(), options: { intervalMs: 20 } })
    redeemer.start()
    const deadline = Date.now() + 5000
    while (store.get(w.ticketHash)?.status !== 'redeemed' && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
    await redeemer.stop()
    expect(store.get(w.ticketHash)?.status).to.equal('redeemed')
  })

  it('crash: a recipient process killed right after accepting a winner; after restart the ticket is redeemed on-chain', async function () {
    this.timeout(30_000)
    const storePath = join(dir, 'crash', 'tickets.sqlite')
    const sender = createPaymentSender({ privateKey: gatewayKey, broker: createEthersBroker({ provider: fx.provider, address: fx.deployment.address }), caps: { maxTicketEV: ETH } })
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./crash-recipient.ts', import.meta.url)),
      fx.chain.rpcUrl, fx.deployment.address, fx.wallets[2].privateKey, storePath, sender.address], { stdio: ['pipe', 'pipe', 'inherit'] })
    const exited = new Promise<NodeJS.Signals | null>(resolve => child.once('exit', (_code, signal) => { resolve(signal) }))
    try {
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
      const params = decodeTicketParams(Buffer.from(JSON.parse((await lines.next()).value as string).params as string, 'hex'))
      const pay = await sender.paymentFor({ recipient: orch, params, feeWei: 10n ** 16n })
      child.stdin.write(`${Buffer.from(encodeTicketBatch(pay.batch!)).toString('hex')}\n`)
      const ack = JSON.parse((await lines.next()).value as string)
      expect(ack).to.deep.equal({ accepted: 1, winners: 1 })
    } finally {
      child.kill('SIGKILL') // no close, no flush: the crash
    }
    expect(await exited).to.equal('SIGKILL')

    // restart: a new store on the same file and a new redeemer
    const reopened = createSqliteTicketStore(storePath)
    try {
      const [w] = reopened.list()
      expect(w.status).to.equal('pending')
      await fx.mine(5)
      const redeemer = createRedeemer({ broker, store: reopened, clock, metrics: null, logger: silentLogger() })
      expect((await redeemer.redeemDue()).redeemed).to.equal(1)
      expect(await broker.isTicketUsed(w.ticketHash)).to.equal(true)
      expect(reopened.get(w.ticketHash)?.status).to.equal('redeemed')
      const found = await broker.findRedemption(w.ticketHash, 0n)
      expect(found?.paid).to.equal(10n ** 16n)
    } finally {
      reopened.close()
    }
  })
})
