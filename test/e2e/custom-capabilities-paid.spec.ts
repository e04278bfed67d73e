import { expect } from 'chai'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Contract } from 'ethers'
import { TICKET_BROKER_ABI } from '../../src/payments/chain/index.js'
import { startTestnetChain, type TestnetChain } from '../../src/testnet/local-chain.js'
import { startProcessMesh, type ProcessMesh } from '../../src/testnet/process-mesh.js'
import { post } from '../helpers/custom-http.js'
import { waitFor } from './helpers.js'

/**
 * A paid custom capability run as a process (the docker/custom-example app, no Docker):
 * priced per second of compute and per request, through a real mesh on a local chain.
 * Every charge is checked to the wei, and the winning tickets settle on the TicketBroker.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const APP = join(ROOT, 'docker/custom-example/server.mjs')
const NAME = 'example'
/** face value = 150k redemption gas x 1 gwei x 100; every ticket wins (EV = face value) */
const FACE_VALUE = 150_000n * 1_000_000_000n * 100n
const PRICE_PER_SECOND = FACE_VALUE / 10n
const PRICE_PER_REQUEST = FACE_VALUE / 4n + 1n

async function scrape (url: string, name: string): Promise<bigint> {
  const text = await (await fetch(url)).text()
  return text.split('\n').filter(l => l.startsWith(`${name} `) || l.startsWith(`${name}{`)).reduce((sum, l) => sum + BigInt(Math.round(Number(l.slice(l.lastIndexOf(' ') + 1)))), 0n)
}

describe('e2e: a paid custom capability (process runner): per second and per request, settled on-chain', function () {
  this.timeout(120_000)
  let chain: TestnetChain
  let mesh: ProcessMesh
  let url: string

  before(async function () {
    this.timeout(600_000)
    chain = await startTestnetChain({ blockTimeSec: 1 })
    const dataDir = await mkdtemp(join(tmpdir(), 'shoal-custom-paid-'))
    const file = join(dataDir, 'capabilities.json')
    await writeFile(file, JSON.stringify([{
      name: NAME,
      description: 'the custom-example app, paid',
      command: [process.execPath, APP],
      capacity: 2,
      price_per_second: PRICE_PER_SECOND.toString(),
      price_per_request: PRICE_PER_REQUEST.toString(),
      timeout_seconds: 30
    }]))
    mesh = await startProcessMesh({
      dataDir,
      orchestrators: 1,
      models: () => [],
      gatewayPort: 0,
      payments: { chain, depositWei: 10n ** 19n, reserveWei: 10n ** 19n },
      extraArgs: {
        gateway: ['--max-ticket-ev', FACE_VALUE.toString()],
        orchestrator: () => ['--custom-capabilities', file, '--ticket-ev', FACE_VALUE.toString(), '--gas-price', '1000000000', '--metrics-port', '0']
      }
    })
    url = mesh.gateway.url
    await waitFor(async () => {
      const { capabilities } = await (await fetch(`${url}/capabilities`)).json() as { capabilities: Array<{ name: string }> }
      return capabilities.some(c => c.name === NAME) ? true : undefined
    }, 30_000, 'the capability listed')
  })
  after(async function () {
    this.timeout(60_000)
    await mesh?.stop()
    await chain?.stop()
  })

  it('lists and announces the price per request', async () => {
    const { capabilities } = await (await fetch(`${url}/capabilities`)).json() as { capabilities: Array<{ name: string, orchestrators: Array<{ price_per_second_wei: string, price_per_request_wei: string }> }> }
    const [listed] = capabilities.find(c => c.name === NAME)!.orchestrators
    expect(listed).to.deep.include({ price_per_second_wei: PRICE_PER_SECOND.toString(), price_per_request_wei: PRICE_PER_REQUEST.toString() })
    const rows = await (await fetch(`${url}/network/orchestrators`)).json() as Array<{ models: Array<{ pipeline: string, pricePerRequest?: string }> }>
    expect(rows.flatMap(r => r.models).filter(m => m.pipeline === 'custom').map(m => m.pricePerRequest)).to.deep.equal([PRICE_PER_REQUEST.toString()])
  })

  it('charges ceil(ms x price per second / 1000) + the price per request, to the wei, and the tickets settle on-chain', async () => {
    let charged = 0n
    for (let i = 0; i < 4; i++) {
      const res = await post(`${url}/capability/${NAME}/sleep?ms=300`, '', { 'x-shoal-timeout': '5' })
      expect(res.status, res.body.toString()).to.equal(200)
      const ms = BigInt(String(res.headers['x-shoal-compute-ms']))
      expect(Number(ms)).to.be.at.least(300).and.below(5_000)
      const wei = BigInt(String(res.headers['x-shoal-charged-wei']))
      expect(wei).to.equal((ms * PRICE_PER_SECOND + 999n) / 1000n + PRICE_PER_REQUEST)
      charged += wei
    }
    // an answer other than 2xx is not charged, the price per request included
    const refused = await post(`${url}/capability/${NAME}/sleep?ms=nope`, '', { 'x-shoal-timeout': '5' })
    expect(refused.status).to.equal(400)
    expect(refused.headers['x-shoal-charged-wei']).to.equal('0')

    const metrics = mesh.orchestrators[0].metricsUrl!
    const debited = await scrape(metrics, 'shoal_payments_debited_wei_total')
    // Prometheus counters are doubles: equal to the wei charged within their precision
    expect(Number(debited)).to.be.closeTo(Number(charged), Number(charged) * 1e-12)
    const winners = await scrape(metrics, 'shoal_payments_winning_tickets_total')
    expect(Number(winners)).to.be.at.least(1)
    const broker = new Contract(chain.brokerAddress, TICKET_BROKER_ABI, chain.provider)
    const recipient = mesh.orchestrators[0].ethAddress.toLowerCase()
    const redeemed = await waitFor(async () => {
      const events = (await broker.queryFilter(broker.filters.WinningTicketRedeemed(), 0, 'latest'))
        .map(e => (e as unknown as { args: { recipient: string, faceValue: bigint } }).args)
        .filter(a => a.recipient.toLowerCase() === recipient)
      return BigInt(events.length) >= winners ? events : undefined
    }, 60_000, `${winners} redemptions on-chain`)
    const earned = redeemed.reduce((sum, e) => sum + e.faceValue, 0n)
    expect(earned).to.equal(FACE_VALUE * winners)
    expect(earned >= debited, `earned ${earned} >= debited ${debited}`).to.equal(true)
    console.log(`      ${charged} wei charged for 4 x 300 ms (${PRICE_PER_REQUEST} wei of it per request each); ${winners} winning tickets redeemed, ${earned} wei on-chain`)
  })
})
