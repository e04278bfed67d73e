import { expect } from 'chai'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { ticketBrokerInterface } from '../../src/payments/chain/abi.js'
import { createEthersBroker } from '../../src/payments/chain/ethers-broker.js'
import { manualClock } from '../../src/payments/clock.js'
import { PaymentError } from '../../src/payments/errors.js'
import { createPaymentMetrics } from '../../src/payments/metrics.js'
import { createPaymentRecipient } from '../../src/payments/payment-recipient.js'
import { createPaymentSender } from '../../src/payments/payment-sender.js'
import { createRedeemer } from '../../src/payments/redeemer.js'
import { createSqliteTicketStore } from '../../src/payments/store/sqlite-ticket-store.js'
import { ticketEV, type TicketParams } from '../../src/payments/ticket.js'
import { decodeTicketBatch, decodeTicketParams, encodeTicketBatch, encodeTicketParams } from '../../src/payments/wire.js'
import { silentLogger } from '../../src/observability/logger.js'
import { startChainFixture, type ChainFixture } from './fixtures.js'

const ETH = 10n ** 18n
const JOBS = 300

/**
 * A gateway pays an orchestrator for JOBS jobs of one ticket-EV each through the wire
 * form, refreshing params as they expire; the orchestrator stores its winners and redeems
 * them on anvil. Each ticket wins with p = 1/8 (face value 8 x EV), so the winners are
 * Binomial(300, 1/8): mean 37.5, sd 5.73. The test states that the on-chain earnings
 * lie within 4 sd of the expected value of the work (outside with probability < 1e-4),
 * and that every win was paid exactly its face value.
 */
describe('payments: settlement of paid jobs on anvil', function () {
  this.timeout(60_000)
  let fx: ChainFixture
  let dir: string
  before(async () => {
    fx = await startChainFixture({ unlockPeriodBlocks: 50n, redeemWindowBlocks: 500n })
    dir = mkdtempSync(join(tmpdir(), 'shoal-settle-'))
  })
  after(async () => {
    rmSync(dir, { recursive: true, force: true })
    await fx?.stop()
  })

  it(`on-chain earnings for ${JOBS} jobs match their expected value within the stated bound`, async () => {
    const clock = manualClock()
    const register = new Registry()
    const metrics = createPaymentMetrics(register)
    const gateway = fx.wallets[1]
    const orch = fx.wallets[2]
    await (await fx.broker(1).fundDepositAndReserve(5n * ETH, 4n * ETH, 4, { value: 9n * ETH })).wait()

    const store = createSqliteTicketStore(join(dir, 'tickets.sqlite'))
    const orchBroker = createEthersBroker({ provider: fx.provider, address: fx.deployment.address, privateKey: orch.privateKey })
    const FACE = 100_000n * 10n ** 9n * 100n // redeemGas x gasPrice x multiplier = 0.01 ETH
    const EV = FACE / 8n
    const recipient = createPaymentRecipient({
      privateKey: orch.privateKey, broker: orchBroker, store, ev: EV, redeemGas: 100_000n, gasPrice: 10n ** 9n, clock, metrics,
      options: { paramsExpirationBlocks: 2n }
    })
    const sender = createPaymentSender({
      privateKey: gateway.privateKey,
      broker: createEthersBroker({ provider: fx.provider, address: fx.deployment.address }),
      caps: { maxTicketEV: EV, maxJobEV: 2n * EV },
      clock
    })
    const fetchParams = async (): Promise<TicketParams> =>
      decodeTicketParams(encodeTicketParams(await recipient.ticketParams(sender.address)))

    // the orchestrator redeems as it goes: pending winners shrink the max float it can offer
    const redeemer = createRedeemer({ broker: orchBroker, store, clock, metrics, logger: silentLogger(), options: { batchSize: 500 } })
    let params = await fetchParams()
    expect(params.faceValue).to.equal(FACE)
    let refreshed = 0
    for (let job = 0; job < JOBS; job++) {
      if (job > 0 && job % 40 === 0) { // time passes: params expire, winners get redeemed
        await fx.mine(1)
        clock.advance(2000)
        await redeemer.redeemDue()
      }
      let payment
      try {
        payment = await sender.paymentFor({ recipient: recipient.address, params, feeWei: EV })
      } catch (err) {
        expect((err as PaymentError).code).to.equal('PAYMENT_ERROR_PARAMS_EXPIRED')
        params = await fetchParams()
        refreshed++
        payment = await sender.paymentFor({ recipient: recipient.address, params, feeWei: EV })
      }
      expect(payment.batch?.tickets).to.have.length(1)
      const wire = encodeTicketBatch(payment.batch!)
      await recipient.receive(decodeTicketBatch(wire))
      recipient.requireBalance(sender.address, EV)
      recipient.debit(sender.address, EV)
    }
    expect(refreshed).to.be.greaterThan(0)
    expect(recipient.balance(sender.address)).to.equal(0n)

    await fx.mine(3)
    await redeemer.redeemDue()
    const summary = store.summary()
    expect(summary.pending.count).to.equal(0)
    const winners = summary.redeemed.count

    // earnings as the chain records them
    const logs = await fx.provider.getLogs({ address: fx.deployment.address, fromBlock: 0, toBlock: 'latest', topics: [ticketBrokerInterface.getEvent('WinningTicketRedeemed')!.topicHash] })
    const paid = logs.map(l => ticketBrokerInterface.parseLog(l)!).filter(l => (l.args.recipient as string).toLowerCase() === recipient.address)
      .reduce((sum, l) => sum + (l.args.fromDeposit as bigint) + (l.args.fromReserve as bigint), 0n)
    expect(paid).to.equal(BigInt(winners) * FACE)

    const expected = BigInt(JOBS) * ticketEV(FACE, params.winProb)
    const sd = Math.sqrt(JOBS * (1 / 8) * (7 / 8)) * Number(FACE)
    const deviation = Math.abs(Number(paid - expected))
    process.stdout.write(`      ${JOBS} jobs: ${winners} winners (expected 37.5), earned ${Number(paid) / 1e18} ETH vs EV ${Number(expected) / 1e18} ETH (${(deviation / sd).toFixed(2)} sd)\n`)
    expect(deviation).to.be.lessThan(4 * sd)

    const m = async (name: string): Promise<number> => ((await register.getSingleMetric(name)?.get())?.values ?? []).reduce((a, v) => a + v.value, 0)
    expect(await m('shoal_payments_winning_tickets_total')).to.equal(winners)
    expect(await m('shoal_payments_redeemed_wei_total')).to.equal(Number(paid))
    expect(await m('shoal_payments_tickets_received_total')).to.equal(JOBS)
    store.close()
  })
})
