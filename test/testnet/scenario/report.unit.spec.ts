import { expect } from 'chai'
import { attemptsOf, buildReport, percentiles, type ReportInput } from '../../../src/testnet/scenario/report.js'
import { renderReportHtml } from '../../../src/testnet/scenario/html.js'
import type { RequestRecord } from '../../../src/testnet/scenario/load.js'

const A = 'peerA'
const B = 'peerB'

function rec (due: number, latency: number, status: number, orchestrator: string | null, tried: string): RequestRecord {
  return { due, start: due + 1, end: due + 1 + latency, pipeline: 'text-to-image', status, orchestrator, attempts: tried === '' ? 0 : tried.split(',').length, tried }
}

function input (records: RequestRecord[]): ReportInput {
  return {
    name: 'r',
    description: '',
    durationS: 3,
    rate: 4,
    records,
    listedAtStart: 2,
    events: [{ at: 1, scheduledAtMs: 1000, startedAtMs: 1005, finishedAtMs: 1025, action: 'kill', nodes: ['o-b'], detail: '' }],
    nodes: [
      { name: 'o-a', role: 'orchestrator', peerId: A, address: '10.0.0.2', ethAddress: '0xAa00000000000000000000000000000000000001' },
      { name: 'o-b', role: 'orchestrator', peerId: B, address: '10.0.0.3', ethAddress: '0xbb00000000000000000000000000000000000002' },
      { name: 'gw', role: 'gateway', peerId: 'peerG', address: '10.0.0.4', ethAddress: '' }
    ],
    samples: [{ t: 0, rssMb: 100, load1: 1 }, { t: 2, rssMb: 300, load1: 3 }].map(s => ({ ...s, processes: 5 })),
    payments: { ticketsSent: 7, evSentWei: '70' },
    redemptions: [
      { recipient: '0xaa00000000000000000000000000000000000001', faceValueWei: '1000', block: 3 },
      { recipient: '0xAA00000000000000000000000000000000000001', faceValueWei: '500', block: 9 }
    ],
    timing: { setupS: 10, loadS: 3, teardownS: 1, totalS: 14 },
    startedAt: '2026-01-01T00:00:00.000Z',
    host: { cpus: 2, memoryMb: 1000 },
    labId: 'sh0a1b'
  }
}

describe('testnet/scenario/report', () => {
  it('computes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i)
    expect(percentiles(values)).to.deep.equal({ count: 100, p50: 50, p90: 90, p99: 99, max: 100, mean: 50.5 })
    expect(percentiles([7])).to.deep.include({ p50: 7, p99: 7 })
    expect(percentiles([]).p50).to.equal(null)
  })

  it('times the attempts of a request from X-Shoal-Tried', () => {
    const a = attemptsOf(rec(100, 50, 200, A, `${B};failure;30;PEER_UNREACHABLE, ${A};success;20`))
    expect(a).to.deep.equal([
      { peerId: B, outcome: 'failure', ms: 30, code: 'PEER_UNREACHABLE', startedAt: 101 },
      { peerId: A, outcome: 'success', ms: 20, startedAt: 131 }
    ])
  })

  it('aggregates per second, per orchestrator, per phase, with payments and settlement', () => {
    const records = [
      // second 0: both serve, one needs a retry after B fails
      rec(0, 10, 200, A, `${A};success;10`),
      rec(250, 20, 200, B, `${B};success;20`),
      rec(500, 30, 200, A, `${B};failure;5, ${A};success;25`),
      rec(750, 40, 503, null, ''),
      // second 1 (after the kill of B at 1 s): A alone; one client timeout
      rec(1000, 100, 200, A, `${A};success;100`),
      rec(1250, 200, 200, A, `${A};success;200`),
      rec(1500, 30_000, 0, null, ''),
      // second 2: A alone
      rec(2000, 300, 200, A, `${A};success;300`)
    ]
    records[6].error = 'client timeout'
    const r = buildReport(input(records.reverse()))
    expect(r.totals).to.deep.include({ requests: 8, ok: 6, failed: 2, successRate: 0.75 })
    expect(r.labId, 'the lab whose namespaces the run made').to.equal('sh0a1b')
    expect(r.totals.byStatus).to.deep.equal({ 200: 6, 503: 1, 0: 1 })
    expect(r.totals.errors).to.deep.equal({ 'client timeout': 1 })
    expect(r.latencyMs).to.deep.include({ count: 6, p50: 30, p99: 300, max: 300 })
    expect(r.perSecond.map(s => [s.t, s.sent, s.ok, s.failed])).to.deep.equal([[0, 4, 3, 1], [1, 3, 2, 1], [2, 1, 1, 0]])
    expect(r.perSecond[0].served).to.deep.equal({ 'o-a': 2, 'o-b': 1 })
    expect(r.perSecond[1].served).to.deep.equal({ 'o-a': 2 })
    expect(r.perSecond[1]).to.deep.include({ p50: 100, p99: 200 })
    expect(r.attempts).to.deep.equal({ total: 7, perRequest: { 0: 2, 1: 5, 2: 1 }, byOutcome: { success: 6, failure: 1 }, retried: 1 })
    const [a, b] = r.orchestrators
    expect(a).to.deep.include({ name: 'o-a', served: 5, attempts: 5, failedAttempts: 0, firstServedS: 0.011, lastServedS: 2.301, redeemedTickets: 2, redeemedWei: '1500' })
    expect(b).to.deep.include({ name: 'o-b', served: 1, attempts: 2, failedAttempts: 1, redeemedTickets: 0, redeemedWei: '0' })
    expect(r.phases.map(p => [p.from, p.to, p.label, p.sent, p.ok, p.servedBy])).to.deep.equal([
      [0, 1, 'start', 4, 3, { 'o-a': 2, 'o-b': 1 }],
      [1, 3, 'after kill o-b', 4, 3, { 'o-a': 3 }]
    ])
    expect(r.payments).to.deep.equal({ ticketsSent: 7, evSentWei: '70' })
    expect(r.settlement).to.deep.equal({ redemptions: 2, faceValueWei: '1500' })
    expect(r.resources).to.deep.include({ peakRssMb: 300, peakLoad1: 3, meanLoad1: 2 })
  })

  it('renders a self-contained page: plots as inline SVG, no external resource, the JSON embedded', () => {
    const r = buildReport(input([rec(0, 10, 200, A, `${A};success;10`), rec(1000, 10, 500, null, `${B};failure;10`)]))
    r.name = '<b>escaped</b>'
    const html = renderReportHtml(r)
    expect(html).to.include('<svg id="plot-success" data-seconds="3"')
    expect(html).to.include('<svg id="plot-latency"')
    expect(html).to.include('<svg id="plot-served" data-orchestrators="2"')
    expect(html).to.include('&lt;b&gt;escaped&lt;/b&gt;')
    expect(html).to.not.match(/<(script|link|img)[^>]+(src|href)=/)
    const json = /<script type="application\/json" id="report-data">(.*)<\/script>/s.exec(html)?.[1] ?? ''
    expect(JSON.parse(json).totals.requests).to.equal(2)
  })
})
