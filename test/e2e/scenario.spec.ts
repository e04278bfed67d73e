/**
 * Issue 16, items 1 and 2: `shoal testnet --scenario scenarios/small-partition-kill.yaml`
 * runs 8 emulated hosts (a bootstrap, a gateway, 6 orchestrators, each in its own network
 * namespace, plus the chain's and the shared runner's), a steady load, a partition of two
 * orchestrators that heals, and a kill. Its report must match what happened: nothing is
 * served by a node while it is cut off or dead, every attempt sent to a cut-off node
 * fails, the numbers add up, payments were sent and settlement read from the chain; the
 * HTML page renders its plots in headless Chromium; every namespace of its lab is gone afterwards.
 * Needs root with `ip`, `iptables` and `tc` (.ci/run installs them); skipped otherwise.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import puppeteer from 'puppeteer-core'
import { shoalBin } from '../../src/testnet/package-root.js'
import { scenarioSupport } from '../../src/testnet/scenario/run.js'
import { listLabNamespaces } from '../../src/testnet/netns.js'
import { attemptsOf, type ScenarioReport } from '../../src/testnet/scenario/report.js'
import type { RequestRecord } from '../../src/testnet/scenario/load.js'
import { skipUnsupported } from '../helpers/skip.js'

const SCENARIO = 'scenarios/small-partition-kill.yaml'
const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => p !== undefined && p !== '' && existsSync(p))

describe('e2e: a scenario on emulated hosts (shoal testnet --scenario)', function () {
  this.timeout(400_000)
  let dir: string | undefined
  let report: ScenarioReport & { requests: RequestRecord[] }
  let htmlPath = ''
  /** this run's lab, from its output: other labs may come and go on the machine meanwhile */
  let labId: string | undefined

  before(async function () {
    skipUnsupported(this, await scenarioSupport())
    dir = await mkdtemp(join(tmpdir(), 'shoal-scenario-'))
    const out: string[] = []
    const child = spawn(process.execPath, [shoalBin(), 'testnet', '--scenario', SCENARIO, '--data-dir', dir, '--report-dir', join(dir, 'report')], { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.on('data', (c: Buffer) => { out.push(String(c)) })
    child.stderr.on('data', (c: Buffer) => { out.push(String(c)) })
    const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
    labId = /\blab (sh[0-9a-f]{4}):/.exec(out.join(''))?.[1]
    console.log(out.join('').split('\n').filter(l => /done in|mesh ready|partition|heal|kill/.test(l)).map(l => `      ${l.trim()}`).join('\n'))
    expect(code, out.join('')).to.equal(0)
    report = JSON.parse(await readFile(join(dir, 'report', 'report.json'), 'utf8'))
    htmlPath = join(dir, 'report', 'report.html')
  })

  after(async () => {
    if (dir !== undefined && process.env.SHOAL_KEEP_TEST_LOGS === undefined) await rm(dir, { recursive: true, force: true })
  })

  it('leaves no namespace of its lab behind', async () => {
    expect(labId, 'the run names its lab').to.be.a('string')
    expect(report.labId).to.equal(labId)
    expect(await listLabNamespaces(labId as string)).to.deep.equal([])
  })

  it('sent the whole load, and its numbers add up', () => {
    expect(report.totals.requests).to.equal(8 * 24)
    expect(report.requests).to.have.length(report.totals.requests)
    expect(report.perSecond.reduce((s, r) => s + r.sent, 0)).to.equal(report.totals.requests)
    expect(report.perSecond.reduce((s, r) => s + r.ok, 0)).to.equal(report.totals.ok)
    expect(report.orchestrators.reduce((s, o) => s + o.served, 0)).to.equal(report.requests.filter(r => r.status === 200 && r.orchestrator !== null).length)
    expect(report.phases.map(p => [p.from, p.to])).to.deep.equal([[0, 8], [8, 15], [15, 17], [17, 24]])
    expect(report.totals.successRate, JSON.stringify(report.totals)).to.be.at.least(0.8)
    expect(report.latencyMs.p50).to.be.a('number')
    expect(report.latencyMs.p99).to.be.at.least(report.latencyMs.p50 as number)
    expect(report.events.map(e => [e.action, e.error])).to.deep.equal([['partition', undefined], ['heal', undefined], ['kill', undefined]])
    // each event started when it was due (nothing before it acts on the same node or rules for long)
    for (const e of report.events) {
      expect(e.scheduledAtMs).to.equal(e.at * 1000)
      expect(e.startedAtMs, `${e.action} started on time`).to.be.within(e.scheduledAtMs, e.scheduledAtMs + 5_000)
      expect(e.finishedAtMs).to.be.at.least(e.startedAtMs)
    }
  })

  it('shows the partition: nothing served by the cut nodes while cut off, and every attempt to them failed', () => {
    const [cut, heal] = report.events
    const peerOf = new Map(report.nodes.map(n => [n.name, n.peerId]))
    const cutPeers = cut.nodes.map(n => peerOf.get(n))
    // the cut is complete once its rules are in (finishedAtMs); the heal starts at startedAtMs
    const from = cut.finishedAtMs
    const to = heal.startedAtMs
    const servedBefore = report.requests.filter(r => r.end < cut.startedAtMs && r.status === 200 && cutPeers.includes(r.orchestrator ?? ''))
    expect(servedBefore.length, 'the cut nodes served before the cut (or the check proves nothing)').to.be.greaterThan(0)
    const servedDuring = report.requests.filter(r => r.start >= from && r.end < to && r.status === 200 && cutPeers.includes(r.orchestrator ?? ''))
    expect(servedDuring, 'served by a cut-off node').to.deep.equal([])
    const attempts = report.requests.flatMap(r => attemptsOf(r)).filter(a => cutPeers.includes(a.peerId) && a.startedAt >= from && a.startedAt + a.ms < to)
    expect(attempts.filter(a => a.outcome === 'success'), 'successful attempts to cut-off nodes').to.deep.equal([])
    const others = report.requests.filter(r => r.start >= from && r.end < to && r.status === 200)
    expect(others.length, 'the others served during the partition').to.be.greaterThan(0)
  })

  it('shows the kill: the killed node serves nothing after it', () => {
    const kill = report.events[2]
    const killed = report.orchestrators.find(o => o.name === kill.nodes[0])
    expect(killed?.served, 'the killed node served before').to.be.greaterThan(0)
    expect((killed?.lastServedS as number) * 1000).to.be.below(kill.finishedAtMs)
    const after = report.requests.filter(r => r.start > kill.finishedAtMs)
    expect(after.filter(r => r.status === 200).length, 'the others served after the kill').to.be.greaterThan(0)
  })

  it('reports payments sent and the settlement read from the chain', () => {
    expect(report.payments?.ticketsSent).to.be.greaterThan(0)
    expect(BigInt(report.payments?.evSentWei ?? '0') > 0n).to.equal(true)
    expect(report.settlement).to.not.equal(null)
    expect(report.settlement?.redemptions, 'winning tickets redeemed on chain (one ticket in about 15 wins)').to.be.greaterThan(0)
    expect(report.orchestrators.reduce((s, o) => s + o.redeemedTickets, 0), 'every redemption is paid to a scenario orchestrator').to.equal(report.settlement?.redemptions)
  })

  it('samples the memory and load of the mesh', () => {
    expect(report.resources.samples.length).to.be.at.least(8)
    // 8 nodes, the runner and the bridges: well above one process's worth
    expect(report.resources.peakRssMb).to.be.greaterThan(500)
    expect(report.resources.samples[0].processes).to.be.at.least(10)
  })

  it('renders the HTML report with its plots in headless Chromium', async function () {
    if (CHROMIUM === undefined) {
      console.log('      no Chromium here (apt-get install -y chromium, or set CHROMIUM_PATH)')
      this.skip()
    }
    const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] })
    try {
      const page = await browser.newPage()
      const failures: string[] = []
      page.on('requestfailed', r => { failures.push(r.url()) })
      page.on('pageerror', e => { failures.push(String(e)) })
      const external: string[] = []
      page.on('request', r => { if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) external.push(r.url()) })
      await page.setViewport({ width: 1000, height: 800 })
      await page.goto(`file://${htmlPath}`, { waitUntil: 'load' })
      const seen = await page.evaluate(`(() => {
        const box = (id) => { const r = document.getElementById(id).getBoundingClientRect(); return { w: r.width, h: r.height } }
        return {
          okBars: document.querySelectorAll('#plot-success .bar-ok').length,
          failedBars: document.querySelectorAll('#plot-success .bar-failed').length,
          marks: document.querySelectorAll('#plot-success .event-mark').length,
          p50: (document.querySelector('#plot-latency .line-p50')?.getAttribute('points') ?? '').split(' ').filter(p => p !== '').length,
          cells: document.querySelectorAll('#plot-served .cell').length,
          success: box('plot-success'),
          served: box('plot-served'),
          orchestratorRows: document.querySelectorAll('#orchestrators tbody tr').length
        }
      })()`) as { okBars: number, failedBars: number, marks: number, p50: number, cells: number, success: { w: number, h: number }, served: { w: number, h: number }, orchestratorRows: number }
      expect(seen.okBars).to.equal(report.perSecond.length)
      expect(seen.failedBars).to.equal(report.perSecond.filter(s => s.failed > 0).length)
      expect(seen.marks).to.equal(3)
      expect(seen.p50).to.equal(report.perSecond.filter(s => s.p50 !== null).length)
      expect(seen.cells).to.equal(report.perSecond.reduce((n, s) => n + Object.keys(s.served).length, 0))
      expect(seen.success.w).to.be.greaterThan(500)
      expect(seen.success.h).to.be.greaterThan(100)
      expect(seen.served.h).to.be.greaterThan(50)
      expect(seen.orchestratorRows).to.equal(6)
      expect(failures).to.deep.equal([])
      expect(external, 'the page loads nothing from elsewhere').to.deep.equal([])
      if (process.env.SHOAL_KEEP_TEST_LOGS !== undefined && dir !== undefined) await page.screenshot({ path: join(dir, 'report', 'report.png'), fullPage: true })
    } finally {
      await browser.close()
    }
  })
})
