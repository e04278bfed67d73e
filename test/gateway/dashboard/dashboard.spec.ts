import { expect } from 'chai'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseEther } from 'ethers'
import { CHROMIUM } from '../../helpers/chromium.js'
import puppeteer, { type Browser, type Page } from 'puppeteer-core'
import sharp from 'sharp'
import { NOOP_MODEL_ID } from '../../../src/cpu-runner/models/noop.js'
import { startTestnetChain, type TestnetChain } from '../../../src/testnet/local-chain.js'
import { startProcessMesh, type ProcessMesh } from '../../../src/testnet/process-mesh.js'

interface Row { data: Record<string, string>, cells: string[], titles: string[] }

/** A table of the page as its rows' data attributes, cell texts and cell titles (run in the page: no DOM types here). */
async function table (page: Page, id: string): Promise<Row[]> {
  return await page.evaluate(`[...document.querySelectorAll('#${id} tbody tr')].map(r => ({
    data: { ...r.dataset },
    cells: [...r.querySelectorAll('td')].map(td => td.textContent),
    titles: [...r.querySelectorAll('td')].map(td => td.title)
  }))`) as Row[]
}

async function text (page: Page, selector: string): Promise<string> {
  return await page.evaluate(`document.querySelector(${JSON.stringify(selector)}).textContent`) as string
}

/**
 * The dashboard in headless Chromium against a real paying mesh of `shoal` processes
 * (bootstrap, one orchestrator running the echo model in a CPU runner process, a
 * gateway): after a paid request and a failed one, the page shows the orchestrator with
 * its model, price and measured success, both requests with their attempts, the mesh's
 * connections and the tickets sent.
 */
describe('gateway/dashboard: the page in headless Chromium against a real mesh', function () {
  this.timeout(180_000)
  let chain: TestnetChain | undefined
  let mesh: ProcessMesh | undefined
  let browser: Browser | undefined
  let dir: string | undefined

  before(async function () {
    if (CHROMIUM === undefined) {
      // eslint-disable-next-line no-console
      console.log('      no Chromium here (apt-get install -y chromium, or set CHROMIUM_PATH)')
      this.skip()
    }
    this.timeout(240_000)
    dir = await mkdtemp(join(tmpdir(), 'shoal-dashboard-'))
    chain = await startTestnetChain({ blockTimeSec: 1 })
    mesh = await startProcessMesh({
      dataDir: dir,
      orchestrators: 1,
      models: () => [{ pipeline: 'image-to-image', model_id: NOOP_MODEL_ID, warm: true, capacity: 2, price_per_unit: '1000000000', pixels_per_unit: '1' }],
      gatewayPort: 0,
      logLevel: 'info',
      payments: { chain, depositWei: parseEther('10'), reserveWei: parseEther('10') }
    })
    await chain.sendEth(mesh.orchestrators[0]?.ethAddress ?? '', parseEther('10'))
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] })
  })

  after(async () => {
    await browser?.close()
    await mesh?.stop()
    await chain?.stop()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('shows the orchestrator, the requests with their attempts, the connections and the payments', async () => {
    if (mesh === undefined || browser === undefined) throw new Error('not started')
    const url = mesh.gateway.url
    const orchestrator = mesh.orchestrators[0]?.peerId ?? ''
    const image = await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 0, g: 90, b: 160 } } }).png().toBuffer()
    const form = new FormData()
    form.set('prompt', 'bluer')
    form.set('model_id', NOOP_MODEL_ID)
    form.set('image', new Blob([image], { type: 'image/png' }), 'in.png')
    const ok = await fetch(`${url}/image-to-image`, { method: 'POST', body: form })
    expect(ok.status, await ok.clone().text()).to.equal(200)
    await ok.arrayBuffer()
    const okId = ok.headers.get('x-shoal-request-id') ?? ''
    const missing = await fetch(`${url}/text-to-image`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'x', model_id: 'nobody/serves-this' }) })
    expect(missing.status).to.equal(503)
    const missingId = missing.headers.get('x-shoal-request-id') ?? ''

    const page = await browser.newPage()
    const errors: string[] = []
    page.on('pageerror', (err) => { errors.push(String(err)) })
    await page.goto(`${url}/dashboard`, { waitUntil: 'load' })
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 30_000 })
    // both requests listed, the successful one with its attempt on the orchestrator
    await page.waitForFunction(`document.querySelector('#requests tr[data-request="${okId}"] td.status')?.textContent.startsWith('200') === true`, { timeout: 30_000 })
    const requests = await table(page, 'requests')
    const okRow = requests.find(r => r.data.request === okId)
    const missingRow = requests.find(r => r.data.request === missingId)
    expect(okRow?.cells.slice(2, 4)).to.deep.equal(['image-to-image', NOOP_MODEL_ID])
    expect(okRow?.cells[7]).to.match(new RegExp(`^${orchestrator.slice(0, 8)}…${orchestrator.slice(-6)} success \\d+ms$`))
    expect(missingRow?.cells[4]).to.equal('503 GATEWAY_ERROR_NO_ORCHESTRATOR')
    expect(missingRow?.cells[7]).to.equal('')

    // the orchestrator with its model, price, the success the gateway measured, and credit left from the tickets
    const rows = await table(page, 'orchestrators')
    expect(rows.map(r => [r.data.peer, r.data.model])).to.deep.equal([[orchestrator, NOOP_MODEL_ID]])
    const cells = rows[0]?.cells ?? []
    expect(cells.slice(1, 6)).to.deep.equal(['image-to-image', NOOP_MODEL_ID, 'warm', '2', 'available'])
    expect(cells[6]).to.equal('1000000000 per pixel')
    expect(cells[7]).to.equal('1')
    expect(cells[8]).to.equal('100%')
    expect(cells[10]).to.equal('proven')
    expect(cells[11]).to.match(/ ETH$/)

    // the mesh: at least the bootstrap and the orchestrator are connected
    const connected = (await table(page, 'connections')).map(r => r.titles[0])
    expect(connected).to.include(orchestrator)
    expect(connected).to.include(mesh.bootstrap.peerId)
    expect(Number(await text(page, '#mesh-connections'))).to.equal(connected.length)
    // one paid job: at least one ticket, a positive expected value
    expect(Number(await text(page, '#tickets-sent'))).to.be.greaterThan(0)
    expect(await text(page, '#ev-sent')).to.match(/^0\.\d*[1-9]\d* ETH$|^[1-9][\d.]* ETH$/)

    // payments per orchestrator: the job, its tickets and their expected value, the credit, and the
    // winning tickets the chain records (read from the broker's events; few or none after one job)
    const ethAddress = (mesh.orchestrators[0]?.ethAddress ?? '').toLowerCase()
    const paid = (await table(page, 'payments')).find(r => r.data.peer === orchestrator)
    expect(paid?.cells[1]?.toLowerCase()).to.equal(ethAddress)
    expect(paid?.cells[2]).to.equal('1')
    const tickets = Number(paid?.cells[3])
    expect(tickets).to.be.greaterThan(0)
    // every ticket's expected value is the orchestrator's ticket EV (1e12 wei by default)
    expect(paid?.cells[4]).to.equal(`${(tickets * 1e12 / 1e18).toFixed(9).replace(/0+$/, '')} ETH`)
    // 16 x 16 pixels at 1 gwei
    expect(paid?.cells[5]).to.equal('0.000000256 ETH')
    expect(paid?.cells[6]).to.match(/ ETH$/)
    expect(paid?.cells[7]).to.match(/^\d+$/)
    expect(Number(paid?.cells[7])).to.be.at.most(tickets)
    expect(paid?.cells[8]).to.match(/ ETH$/)
    expect(errors).to.deep.equal([])
    await page.close()
  })

  it('serves its JSON with bigints as strings and no request inputs', async () => {
    if (mesh === undefined) throw new Error('not started')
    const data = await (await fetch(`${mesh.gateway.url}/dashboard/data`)).json() as { requests: Array<Record<string, unknown>>, payments: { evSentWei: string }, orchestrators: Array<{ payments: Record<string, unknown> | null }> }
    expect(data.payments.evSentWei).to.match(/^\d+$/)
    const paid = data.orchestrators[0]?.payments
    for (const key of ['evSentWei', 'feesWei', 'winningPaidWei']) expect(paid?.[key]).to.match(/^\d+$/)
    expect(paid?.jobs).to.equal(1)
    for (const r of data.requests) expect(Object.keys(r)).to.not.include.members(['params', 'inputs', 'prompt'])
  })
})
