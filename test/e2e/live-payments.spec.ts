import { expect } from 'chai'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LIVE_MODEL_ID } from '../../src/cpu-runner/live/model.js'
import { listCpuModels } from '../../src/cpu-runner/models/index.js'
import { startTestnetChain, type TestnetChain } from '../../src/testnet/local-chain.js'
import { startProcessMesh, type ProcessMesh } from '../../src/testnet/process-mesh.js'
import { personSegments } from '../protocols/live/media.js'
import { waitFor } from './helpers.js'

const BASE = '/live/video-to-video'
/** wei per pixel: a 128x128 segment of 10 frames costs 1.6e11 wei */
const PRICE = 1_000_000n
const SEGMENT_FEE = 128n * 128n * 10n * PRICE
const TICKET_EV = 200_000_000_000n
/** the gateway pays at most this per session: a few segments beyond the prepayment */
const CAP = 6n * SEGMENT_FEE
const PREPAY_PIXELS = 2 * 128 * 128 * 10

function metric (text: string, name: string): number {
  const line = text.split('\n').find(l => l.startsWith(name + ' ') || l.startsWith(name + '{'))
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1))
}

/**
 * Live video paid by the interval on a local chain: the gateway prepays, then pays every
 * interval for the pixels it received (width x height x frames); with a per-session cap
 * it stops paying, and the orchestrator ends the session within an interval when the
 * credit no longer covers the next segment. The gateway's status says why.
 */
describe('e2e: live video paid by the interval, and credit exhaustion', function () {
  this.timeout(300_000)
  let chain: TestnetChain
  let dir: string
  let mesh: ProcessMesh | undefined
  let segments: Uint8Array[]

  before(async function () {
    if (!listCpuModels().some(m => m.modelId === LIVE_MODEL_ID && m.available)) this.skip()
    segments = await personSegments({ size: 128, fps: 10, seconds: 4 })
    chain = await startTestnetChain({ blockTimeSec: 1 })
    dir = await mkdtemp(join(tmpdir(), 'shoal-e2e-live-paid-'))
    mesh = await startProcessMesh({
      dataDir: dir,
      orchestrators: 1,
      models: () => [{ pipeline: 'live-video-to-video', model_id: LIVE_MODEL_ID, warm: true, capacity: 2, price_per_unit: PRICE.toString(), pixels_per_unit: '1' }],
      gatewayPort: 0,
      payments: { chain, depositWei: 10n ** 19n, reserveWei: 10n ** 19n },
      extraArgs: {
        gateway: ['--live-prepay-pixels', String(PREPAY_PIXELS), '--live-max-wei-per-session', CAP.toString()],
        orchestrator: () => ['--ticket-ev', TICKET_EV.toString(), '--gas-price', '1000000000', '--metrics-port', '0', '--live-payment-interval', '1000']
      }
    })
  })

  after(async () => {
    await mesh?.stop()
    await chain?.stop()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('pays tickets every interval for the pixels delivered, then the orchestrator ends the session when the credit runs out', async () => {
    const m = mesh as ProcessMesh
    const url = m.gateway.url
    const res = await fetch(`${url}${BASE}/paid/start`, { method: 'POST' })
    expect(res.status, await res.clone().text()).to.equal(200)
    let delivered = 0
    const reading = (async () => {
      for (let seq = 0; ; seq++) {
        const out = await fetch(`${url}${BASE}/paid/out/${seq}`, { signal: AbortSignal.timeout(120_000) })
        if (out.status !== 200) return out
        await out.arrayBuffer()
        delivered++
      }
    })()
    // publish until the session is refused; it must end well before 30 segments
    let published = 0
    for (; published < 30; published++) {
      const r = await fetch(`${url}${BASE}/paid/in/${published}`, { method: 'POST', body: segments[published % segments.length], headers: { 'content-type': 'video/mp2t' }, signal: AbortSignal.timeout(120_000) })
      if (r.status !== 200) break
    }
    const end = await reading
    expect(end.status).to.equal(404)
    expect(end.headers.get('lp-trickle-closed')).to.equal('terminated')
    const status = await waitFor(async () => {
      const s = await (await fetch(`${url}${BASE}/paid/status`)).json() as Record<string, any>
      return s.state === 'payment_required' ? s : undefined
    }, 30_000, 'payment_required')
    expect(status.reason).to.match(/credit spent/)
    // the interval payments happened: more than the prepayment, never more than the cap
    const paid = BigInt(status.gateway.wei_paid)
    expect(paid > BigInt(PREPAY_PIXELS) * PRICE, `paid ${paid}`).to.equal(true)
    expect(paid <= CAP).to.equal(true)
    expect(status.gateway.errors.map((e: { message: string }) => e.message).join(' ')).to.match(/spending cap/)
    // what was delivered is what the orchestrator charged
    expect(status.gateway.pixels_out).to.equal(delivered * 128 * 128 * 10)
    const metrics = await (await fetch(m.orchestrators[0].metricsUrl as string)).text()
    expect(metric(metrics, 'shoal_orchestrator_live_pixels_total')).to.equal(status.gateway.pixels_out)
    expect(metric(metrics, 'shoal_orchestrator_live_payments_total{result="accepted"}')).to.be.greaterThan(1)
    expect(metrics).to.match(/shoal_orchestrator_live_sessions_total\{outcome="PAYMENT_REQUIRED"\} 1/)
    // credit ran out within about one segment past what was paid (tickets are worth their EV)
    expect(delivered).to.be.greaterThan(2)
    expect(published).to.be.lessThan(30)
  })
})
