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
/**
 * the gateway pays at most this per session. The swap below spends up to 22 fees: 4 ahead
 * and 2 delivered at the first orchestrator's price, 4 ahead and 4 delivered at the
 * second's (twice the price); on a quiet machine the 4 come out within one interval and
 * are paid in one payment, which a smaller cap refuses.
 */
const CAP = 28n * SEGMENT_FEE
/** the first test publishes until the session is refused: the cap is reached well before this */
const MAX_SEGMENTS = 40
/** 4 segments ahead: the segments in flight may come out within one payment interval */
const PREPAY_PIXELS = 4 * 128 * 128 * 10

function metric (text: string, name: string): number {
  const line = text.split('\n').find(l => l.startsWith(name + ' ') || l.startsWith(name + '{'))
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1))
}

interface Paid { jobs: number, ticketsSent: number, evSentWei: string }
/** what the gateway paid each orchestrator since it started, by peer id (its dashboard's data) */
async function paidByPeer (url: string): Promise<Map<string, Paid>> {
  const data = await (await fetch(`${url}/dashboard/data`)).json() as { orchestrators: Array<{ peerId: string, payments: Paid | null }> }
  return new Map(data.orchestrators.map(o => [o.peerId, o.payments ?? { jobs: 0, ticketsSent: 0, evSentWei: '0' }]))
}

/**
 * Live video paid by the interval on a local chain: the gateway prepays, then pays every
 * interval for the pixels it received (width x height x frames); with a per-session cap
 * it stops paying, and the orchestrator ends the session within an interval when the
 * credit no longer covers the next segment. The gateway's status says why. After a swap
 * the new orchestrator is prepaid and paid by the interval, and the old one gets nothing
 * more.
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
      orchestrators: 2,
      // the second dearer: sessions start on the first (the cheaper), a swap goes to the second
      models: (i) => [{ pipeline: 'live-video-to-video', model_id: LIVE_MODEL_ID, warm: true, capacity: 2, price_per_unit: (PRICE * BigInt(i + 1)).toString(), pixels_per_unit: '1' }],
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
    if (dir !== undefined && process.env.SHOAL_KEEP_TEST_LOGS === undefined) await rm(dir, { recursive: true, force: true })
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
    // publish until the session is refused; it must end well before MAX_SEGMENTS
    let published = 0
    for (; published < MAX_SEGMENTS; published++) {
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
    expect(status.orchestrator, 'the cheaper orchestrator').to.equal(m.orchestrators[0].peerId)
    const metrics = await (await fetch(m.orchestrators[0].metricsUrl as string)).text()
    expect(metric(metrics, 'shoal_orchestrator_live_pixels_total')).to.equal(status.gateway.pixels_out)
    expect(metric(metrics, 'shoal_orchestrator_live_payments_total{result="accepted"}')).to.be.greaterThan(1)
    expect(metrics).to.match(/shoal_orchestrator_live_sessions_total\{outcome="PAYMENT_REQUIRED"\} 1/)
    // credit ran out within about one segment past what was paid (tickets are worth their EV)
    expect(delivered).to.be.greaterThan(2)
    expect(published).to.be.lessThan(MAX_SEGMENTS)
  })

  it('after a swap pays the new orchestrator ahead and by the interval, and the old one gets no more tickets', async () => {
    const m = mesh as ProcessMesh
    const url = m.gateway.url
    const status = async (): Promise<Record<string, any>> => await (await fetch(`${url}${BASE}/swap/status`)).json() as Record<string, any>
    const publish = async (seq: number): Promise<void> => {
      const r = await fetch(`${url}${BASE}/swap/in/${seq}`, { method: 'POST', body: segments[seq % segments.length], headers: { 'content-type': 'video/mp2t' }, signal: AbortSignal.timeout(120_000) })
      expect(r.status, await r.text()).to.equal(200)
    }
    const ticketsReceived = async (o: ProcessMesh['orchestrators'][number]): Promise<number> => metric(await (await fetch(o.metricsUrl as string)).text(), 'shoal_payments_tickets_received_total{result="accepted"}')
    const paid0 = await paidByPeer(url)
    const received0 = await Promise.all(m.orchestrators.map(ticketsReceived))
    const res = await fetch(`${url}${BASE}/swap/start`, { method: 'POST' })
    expect(res.status, await res.clone().text()).to.equal(200)
    let delivered = 0
    const reading = (async () => {
      for (let seq = 0; ; seq++) {
        const out = await fetch(`${url}${BASE}/swap/out/${seq}`, { signal: AbortSignal.timeout(120_000) })
        if (out.status !== 200) return
        await out.arrayBuffer()
        delivered++
      }
    })()
    for (const seq of [0, 1]) await publish(seq)
    // on the cheaper orchestrator, where the first test ran this gateway's credit down: it prepays again
    await waitFor(async () => delivered >= 2 ? true : undefined, 60_000, 'two outputs')
    const first = (await status()).orchestrator as string
    expect(first).to.equal(m.orchestrators[0].peerId)
    const victimIndex = 0
    const victim = m.orchestrators[victimIndex]
    const other = m.orchestrators[1 - victimIndex]
    // paid ahead, then by the interval for what it delivered
    await waitFor(async () => ((await paidByPeer(url)).get(first)?.jobs ?? 0) >= (paid0.get(first)?.jobs ?? 0) + 2 ? true : undefined, 30_000, 'an interval payment to the first orchestrator')

    // the first one stalls (stopped, not dead: it could still take tickets) with a segment in flight
    process.kill(victim.pid, 'SIGSTOP')
    let atSwap: Paid | undefined
    try {
      await publish(2)
      const swapped = await waitFor(async () => { const st = await status(); return st.gateway.swaps.length > 0 && st.state === 'running' ? st : undefined }, 60_000, 'a swap')
      atSwap = (await paidByPeer(url)).get(first)
      expect(swapped.orchestrator).to.equal(other.peerId)
      expect(swapped.gateway.swaps[0]).to.include({ from: first, to: other.peerId })
      expect(swapped.gateway.swaps[0].reason).to.match(/^STALLED/)
      const before = delivered
      for (const seq of [3, 4, 5]) await publish(seq)
      await waitFor(async () => delivered >= before + 3 ? true : undefined, 60_000, 'output from the new orchestrator')
      // the new one: prepaid at the swap, then paid by the interval
      const paidOther = await waitFor(async () => { const p = (await paidByPeer(url)).get(other.peerId); return p !== undefined && p.jobs >= (paid0.get(other.peerId)?.jobs ?? 0) + 2 ? p : undefined }, 30_000, 'an interval payment to the new orchestrator')
      expect(paidOther.ticketsSent).to.be.greaterThan(paid0.get(other.peerId)?.ticketsSent ?? 0)
      // two more intervals: still nothing for the old one
      await new Promise(resolve => setTimeout(resolve, 2_500))
      // (a stalled orchestrator may have left the directory, and the dashboard, by now: what
      // it received is checked on its own side below)
      const firstNow = (await paidByPeer(url)).get(first)
      if (firstNow !== undefined) expect(firstNow).to.deep.equal(atSwap)
    } finally {
      process.kill(victim.pid, 'SIGCONT')
    }
    // running again, the old one ends its session and holds no ticket beyond those sent before the swap
    await waitFor(async () => metric(await (await fetch(victim.metricsUrl as string)).text(), 'shoal_orchestrator_live_sessions') === 0 ? true : undefined, 30_000, 'the old session ended')
    expect(await ticketsReceived(victim) - received0[victimIndex]).to.be.at.most((atSwap?.ticketsSent ?? 0) - (paid0.get(first)?.ticketsSent ?? 0))
    // the new one received every ticket the gateway sent it
    await waitFor(async () => await ticketsReceived(other) - received0[1 - victimIndex] === ((await paidByPeer(url)).get(other.peerId)?.ticketsSent ?? 0) - (paid0.get(other.peerId)?.ticketsSent ?? 0) ? true : undefined, 10_000, 'the new orchestrator received its tickets')
    expect((await fetch(`${url}${BASE}/swap/stop`, { method: 'POST' })).status).to.equal(200)
    await reading
  })
})
