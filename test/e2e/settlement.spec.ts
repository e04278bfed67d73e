import { expect } from 'chai'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Contract } from 'ethers'
import { TICKET_BROKER_ABI } from '../../src/payments/chain/index.js'
import { startTestnetChain, type TestnetChain } from '../../src/testnet/local-chain.js'
import { startProcessMesh, type ProcessMesh } from '../../src/testnet/process-mesh.js'
import { pngOf, upscaleForm, waitFor } from './helpers.js'

const MODEL = 'upscalerjs/esrgan-slim-x2'
/** face value = 150k redemption gas x 1 gwei x 100 */
const FACE_VALUE = 150_000n * 1_000_000_000n * 100n
const GAS_PRICE = '1000000000'

/** Prometheus text: the sum of the samples of `name` whose labels contain `labels` (e.g. 'result="accepted"'). */
async function scrape (url: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(url)).text()
  let sum = 0
  for (const line of text.split('\n')) {
    if ((line.startsWith(`${name} `) || line.startsWith(`${name}{`)) && line.includes(labels)) sum += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return sum
}

async function scrapeAll (urls: string[], name: string, labels = ''): Promise<number> {
  return (await Promise.all(urls.map(async u => await scrape(u, name, labels)))).reduce((a, b) => a + b, 0)
}

async function redemptionsTo (chain: TestnetChain, recipients: string[]): Promise<Array<{ recipient: string, faceValue: bigint }>> {
  const broker = new Contract(chain.brokerAddress, TICKET_BROKER_ABI, chain.provider)
  const events = await broker.queryFilter(broker.filters.WinningTicketRedeemed(), 0, 'latest')
  const wanted = new Set(recipients.map(r => r.toLowerCase()))
  return events
    .map(e => (e as unknown as { args: { recipient: string, faceValue: bigint } }).args)
    .filter(args => wanted.has(args.recipient.toLowerCase()))
    .map(args => ({ recipient: args.recipient.toLowerCase(), faceValue: args.faceValue }))
}

async function startPaidMesh (chain: TestnetChain, options: { ticketEV: bigint, pricePerPixel: bigint, orchestrators: number, capacity: number }): Promise<ProcessMesh> {
  return await startProcessMesh({
    dataDir: await mkdtemp(join(tmpdir(), 'shoal-settle-')),
    orchestrators: options.orchestrators,
    models: () => [{ pipeline: 'upscale', model_id: MODEL, warm: true, capacity: options.capacity, price_per_unit: options.pricePerPixel.toString(), pixels_per_unit: '1' }],
    gatewayPort: 0,
    payments: { chain, depositWei: 10n ** 19n, reserveWei: 10n ** 19n },
    extraArgs: {
      // this test's tickets are worth more than the default cap per ticket (1e13 wei)
      gateway: ['--default-model', `upscale=${MODEL}`, '--max-ticket-ev', FACE_VALUE.toString()],
      orchestrator: () => ['--ticket-ev', options.ticketEV.toString(), '--gas-price', GAS_PRICE, '--metrics-port', '0']
    }
  })
}

describe('e2e: paid jobs settle on-chain', function () {
  this.timeout(300_000)
  let chain: TestnetChain

  before(async () => { chain = await startTestnetChain({ blockTimeSec: 1 }) })
  after(async () => { await chain?.stop() })

  describe('a few hundred paid jobs through the mesh', () => {
    let mesh: ProcessMesh
    // each 16x16 job costs 256 px x price = exactly one ticket's EV, so every job sends one ticket
    const TICKET_EV = FACE_VALUE / 15n
    const PRICE = TICKET_EV / 256n
    const JOBS = 240

    before(async () => { mesh = await startPaidMesh(chain, { ticketEV: TICKET_EV, pricePerPixel: PRICE, orchestrators: 2, capacity: 2 }) })
    after(async () => { await mesh?.stop() })

    it('on-chain earnings match the expected value of the work, within 4 standard deviations', async () => {
      const image = await pngOf(16, 16)
      let next = 0
      const statuses: number[] = []
      await Promise.all([0, 1, 2, 3].map(async () => {
        while (next < JOBS) {
          next++
          const res = await fetch(`${mesh.gateway.url}/upscale`, { method: 'POST', body: upscaleForm(image) })
          statuses.push(res.status)
          await res.arrayBuffer()
        }
      }))
      expect(statuses.filter(s => s !== 200), 'statuses other than 200').to.deep.equal([])

      const ticketsSent = await scrape(`${mesh.gateway.url}/metrics`, 'shoal_payments_tickets_sent_total')
      const metrics = mesh.orchestrators.map(o => o.metricsUrl!)
      const accepted = await scrapeAll(metrics, 'shoal_payments_tickets_received_total', 'result="accepted"')
      const credited = await scrapeAll(metrics, 'shoal_payments_ev_credited_wei_total')
      const debited = await scrapeAll(metrics, 'shoal_payments_debited_wei_total')
      // no free work: every job was charged exactly price x pixels, and covered by credited tickets
      expect(debited).to.equal(Number(PRICE * 256n) * JOBS)
      expect(credited).to.equal(accepted * Number(TICKET_EV))
      expect(credited).to.be.at.least(debited)
      // the gateway paid every job (a ticket is worth one job here); a few more go out when params
      // expire or concurrent jobs race the credit estimate, and stay as credit for later jobs
      expect(accepted).to.be.at.least(JOBS).and.at.most(ticketsSent)
      console.log(`      ${JOBS} jobs: ${ticketsSent} tickets sent, ${accepted} accepted; credit left at the orchestrators ${(credited - debited) / Number(TICKET_EV)} tickets' worth`)

      // wait until every winner the orchestrators stored has been redeemed (params expire after 10 blocks)
      const winners = await scrapeAll(metrics, 'shoal_payments_winning_tickets_total')
      const redeemed = await waitFor(async () => {
        const events = await redemptionsTo(chain, mesh.orchestrators.map(o => o.ethAddress))
        return events.length >= winners ? events : undefined
      }, 90_000, `${winners} redemptions on-chain`)
      const earned = redeemed.reduce((sum, e) => sum + e.faceValue, 0n)
      expect(earned).to.equal(FACE_VALUE * BigInt(winners))

      // winners ~ Binomial(accepted tickets, p) with p = EV / faceValue: earnings within 4 sigma of
      // the expected value of the tickets (a false failure has probability below 1e-4)
      const p = Number(TICKET_EV) / Number(FACE_VALUE)
      const mean = accepted * p
      const sigma = Math.sqrt(accepted * p * (1 - p))
      const expectedWei = Number(TICKET_EV) * accepted
      console.log(`      ${accepted} tickets, ${winners} winners (expected ${mean.toFixed(1)} +- ${sigma.toFixed(1)}); earned ${Number(earned) / 1e18} ETH vs expected ${expectedWei / 1e18} ETH (${((winners - mean) / sigma).toFixed(2)} sigma)`)
      expect(Math.abs(winners - mean)).to.be.at.most(4 * sigma)
    })
  })

  describe('crash safety', () => {
    let mesh: ProcessMesh
    before(async () => {
      // EV = face value: every ticket wins
      mesh = await startPaidMesh(chain, { ticketEV: FACE_VALUE, pricePerPixel: FACE_VALUE / 256n, orchestrators: 1, capacity: 1 })
    })
    after(async () => { await mesh?.stop() })

    it('an orchestrator killed right after accepting a winning ticket redeems it after restart', async () => {
      const [orchestrator] = mesh.orchestrators
      const res = await fetch(`${mesh.gateway.url}/upscale`, { method: 'POST', body: upscaleForm(await pngOf(16, 16)) })
      expect(res.status).to.equal(200)
      await res.arrayBuffer()
      // the winner was stored before the job was acknowledged; kill before its params expire (10 blocks)
      await orchestrator.kill()
      expect(await redemptionsTo(chain, [orchestrator.ethAddress])).to.have.length(0)
      const restarted = await mesh.addOrchestrator(0)
      expect(restarted.peerId).to.equal(orchestrator.peerId)
      const redeemed = await waitFor(async () => {
        const events = await redemptionsTo(chain, [orchestrator.ethAddress])
        return events.length > 0 ? events : undefined
      }, 60_000, 'the winning ticket to be redeemed after the restart')
      expect(redeemed[0].faceValue).to.equal(FACE_VALUE)
    })
  })
})
