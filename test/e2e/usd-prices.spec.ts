import { expect } from 'chai'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseEther } from 'ethers'
import sharp from 'sharp'
import { NOOP_MODEL_ID } from '../../src/cpu-runner/models/noop.js'
import { startTestnetChain, TESTNET_USD_PER_ETH, type TestnetChain } from '../../src/testnet/local-chain.js'
import { startProcessMesh, type ProcessMesh } from '../../src/testnet/process-mesh.js'

interface ListedModel { pipeline: string, modelId: string, pricePerUnit: string, pixelsPerUnit: string, weiPerUnit?: string, usdPerUnit?: string | null, usdPerEth?: string | null }

/**
 * Prices in USD end to end: an orchestrator prices image-to-image at $0.000001 a pixel,
 * converted through the testnet chain's ETH/USD aggregator (AggregatorV3Interface); the
 * gateway shows the price in wei and in USD (its own feed) and pays it; a new answer on
 * the aggregator re-prices and re-announces.
 */
describe('e2e: prices in USD through the testnet chain\'s price feed', function () {
  this.timeout(180_000)
  let chain: TestnetChain
  let mesh: ProcessMesh | undefined
  let dir: string

  before(async function () {
    this.timeout(240_000)
    dir = await mkdtemp(join(tmpdir(), 'shoal-usd-'))
    chain = await startTestnetChain({ blockTimeSec: 1 })
    mesh = await startProcessMesh({
      dataDir: dir,
      orchestrators: 1,
      models: () => [{ pipeline: 'image-to-image', model_id: NOOP_MODEL_ID, warm: true, capacity: 2, price_per_unit: '0.000001', pixels_per_unit: '1', currency: 'USD' }],
      gatewayPort: 0,
      logLevel: 'info',
      payments: { chain, depositWei: parseEther('10'), reserveWei: parseEther('10') },
      extraArgs: { gateway: ['--price-feed-poll-ms', '300'], orchestrator: () => ['--price-feed-poll-ms', '300', '--metrics-port', '0'] }
    })
    await chain.sendEth(mesh.orchestrators[0]?.ethAddress ?? '', parseEther('10'))
  })

  after(async () => {
    await mesh?.stop()
    await chain?.stop()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  async function listed (): Promise<ListedModel | undefined> {
    const entries = await (await fetch(`${mesh?.gateway.url ?? ''}/network/orchestrators`)).json() as Array<{ models: ListedModel[] }>
    return entries.flatMap(e => e.models).find(m => m.modelId === NOOP_MODEL_ID)
  }

  async function until (what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms
    while (!await check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await new Promise(resolve => setTimeout(resolve, 200))
    }
  }

  it('announces the USD price in wei at the feed\'s rate, and the gateway shows it in wei and USD', async () => {
    expect(TESTNET_USD_PER_ETH).to.equal('2500')
    const model = await listed()
    // $0.000001 / 2500 USD per ETH = 4e-10 ETH = 400,000,000 wei a pixel
    expect(model).to.include({ pricePerUnit: '400000000', pixelsPerUnit: '1', weiPerUnit: '400000000', usdPerUnit: '0.000001', usdPerEth: '2500' })
  })

  it('a job priced in USD is paid and served', async () => {
    const form = new FormData()
    form.set('prompt', 'x')
    form.set('model_id', NOOP_MODEL_ID)
    form.set('image', new Blob([await sharp({ create: { width: 8, height: 8, channels: 3, background: '#123456' } }).png().toBuffer()], { type: 'image/png' }), 'in.png')
    const res = await fetch(`${mesh?.gateway.url ?? ''}/image-to-image`, { method: 'POST', body: form })
    expect(res.status, await res.clone().text()).to.equal(200)
    expect(res.headers.get('x-shoal-model')).to.equal(NOOP_MODEL_ID)
    await res.arrayBuffer()
    // the orchestrator charged it: 64 pixels x 400,000,000 wei
    const debited = async (): Promise<number> => Number(/^shoal_payments_debited_wei_total (\S+)/m.exec(await (await fetch(mesh?.orchestrators[0]?.metricsUrl ?? '')).text())?.[1] ?? 0)
    // booked when the job's final frame is written: shortly after the answer at most
    await until('the debit', async () => await debited() > 0, 10_000)
    expect(await debited()).to.equal(64 * 400_000_000)
  })

  it('a new answer on the aggregator re-prices and re-announces', async () => {
    await chain.postUsdPerEth('2000')
    // $0.000001 / 2000 = 500,000,000 wei
    // the orchestrator's feed and the gateway's (which converts wei back to USD) each poll the aggregator: wait for both
    await until('the new price in the directory, at the gateway\'s new rate', async () => { const m = await listed(); return m?.pricePerUnit === '500000000' && m.usdPerEth === '2000' })
    expect(await listed()).to.include({ usdPerUnit: '0.000001', usdPerEth: '2000' })
    const log = await readFile(join(dir, 'orchestrator-0.log'), 'utf8').catch(() => '')
    expect(log).to.not.include('"level":50')
  })
})
