/**
 * The report of a scenario run, computed from what was recorded (pure functions, unit
 * tested): per-second success and latency, latency percentiles, attempts and their
 * outcomes, which orchestrators served when, phases between events, payments sent and
 * tickets redeemed on chain, and the machine's memory and load during the run.
 */
import type { RequestRecord } from './load.js'
import type { ScenarioEvent } from './schema.js'

export interface AppliedEvent {
  /** planned, seconds after the load started */
  at: number
  /**
   * ms after the load started: when it was due, when it started (later than due only
   * behind an earlier event on the same node or on the partition rules) and when it ended
   */
  scheduledAtMs: number
  startedAtMs: number
  finishedAtMs: number
  action: ScenarioEvent['action']
  nodes: string[]
  detail: string
  error?: string
}

export interface ReportNode { name: string, role: string, peerId: string, address: string, ethAddress: string }
/** `cpuPercent`: CPU the mesh's processes used since the previous sample, % of one core (null for the first) */
export interface ResourceSample { t: number, rssMb: number, load1: number, processes: number, cpuPercent?: number | null }
export interface Redemption { recipient: string, faceValueWei: string, block: number }

export interface ReportInput {
  name: string
  description: string
  /** planned seconds of load */
  durationS: number
  rate: number
  records: RequestRecord[]
  /** orchestrators the gateway listed when the load started */
  listedAtStart: number
  events: AppliedEvent[]
  nodes: ReportNode[]
  samples: ResourceSample[]
  payments: { ticketsSent: number, evSentWei: string } | null
  redemptions: Redemption[] | null
  timing: { setupS: number, loadS: number, teardownS: number, totalS: number }
  startedAt: string
  host: { cpus: number, memoryMb: number }
  /** the lab's id: the prefix of every namespace it made (for checking that none is left) */
  labId?: string
  /** the scenario's tuning as applied (TTL, priorities...); absent in older reports */
  tuning?: Record<string, unknown>
  /** the gateway's own view of the requests (its request duration histogram), for comparison with the client's */
  gatewaySide?: { requests: number, meanMs: number | null } | null
}

export interface Percentiles { count: number, p50: number | null, p90: number | null, p99: number | null, max: number | null, mean: number | null }

export interface SecondRow {
  /** second of the load (requests due in [t, t+1)) */
  t: number
  sent: number
  ok: number
  failed: number
  successRate: number | null
  p50: number | null
  p99: number | null
  /** node name -> requests it served (of those due this second) */
  served: Record<string, number>
}

export interface OrchestratorRow {
  name: string
  peerId: string
  served: number
  attempts: number
  failedAttempts: number
  firstServedS: number | null
  lastServedS: number | null
  redeemedTickets: number
  redeemedWei: string
}

export interface Phase { from: number, to: number, label: string, sent: number, ok: number, successRate: number | null, p50: number | null, p99: number | null, servedBy: Record<string, number> }

export interface ScenarioReport {
  name: string
  description: string
  startedAt: string
  host: ReportInput['host']
  /** prefix of the run's namespaces (`<labId>-hub`, `<labId>-1`...); null in older reports */
  labId: string | null
  timing: ReportInput['timing']
  tuning: Record<string, unknown> | null
  gatewaySide: { requests: number, meanMs: number | null } | null
  load: { rate: number, durationS: number }
  /** orchestrators the gateway listed when the load started */
  listedAtStart: number
  totals: { requests: number, ok: number, failed: number, successRate: number | null, byStatus: Record<string, number>, byPipeline: Record<string, { requests: number, ok: number }>, errors: Record<string, number> }
  latencyMs: Percentiles
  attempts: { total: number, perRequest: Record<string, number>, byOutcome: Record<string, number>, retried: number }
  perSecond: SecondRow[]
  phases: Phase[]
  orchestrators: OrchestratorRow[]
  events: AppliedEvent[]
  payments: { ticketsSent: number, evSentWei: string } | null
  settlement: { redemptions: number, faceValueWei: string } | null
  resources: { samples: ResourceSample[], peakRssMb: number | null, peakLoad1: number | null, meanLoad1: number | null, peakProcesses: number | null, meanCpuPercent: number | null }
  nodes: ReportNode[]
}

/** Nearest-rank percentiles of `values` (ms). */
export function percentiles (values: readonly number[]): Percentiles {
  if (values.length === 0) return { count: 0, p50: null, p90: null, p99: null, max: null, mean: null }
  const sorted = [...values].sort((a, b) => a - b)
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))]
  return { count: sorted.length, p50: at(50), p90: at(90), p99: at(99), max: sorted[sorted.length - 1], mean: Math.round(sorted.reduce((s, v) => s + v, 0) / sorted.length * 10) / 10 }
}

export interface ParsedAttempt { peerId: string, outcome: string, ms: number, code?: string, startedAt: number }

/** The attempts of a request from X-Shoal-Tried, with approximate start times (they run one after another). */
export function attemptsOf (record: RequestRecord): ParsedAttempt[] {
  if (record.tried === '') return []
  let at = record.start
  return record.tried.split(',').map(part => {
    const [peerId = '', outcome = '', ms = '0', code] = part.trim().split(';')
    const attempt: ParsedAttempt = { peerId, outcome, ms: Number(ms) || 0, startedAt: at, ...(code === undefined ? {} : { code }) }
    at += attempt.ms
    return attempt
  })
}

const isOk = (r: RequestRecord): boolean => r.status >= 200 && r.status < 300
const rate = (ok: number, sent: number): number | null => sent === 0 ? null : Math.round(ok / sent * 10_000) / 10_000
const inc = (map: Record<string, number>, key: string, by = 1): void => { map[key] = (map[key] ?? 0) + by }

export function buildReport (input: ReportInput): ScenarioReport {
  const byPeer = new Map(input.nodes.map(n => [n.peerId, n.name]))
  const byEth = new Map(input.nodes.filter(n => n.ethAddress !== '').map(n => [n.ethAddress.toLowerCase(), n.name]))
  const nameOf = (peer: string | null): string => peer === null ? '' : byPeer.get(peer) ?? peer
  const records = [...input.records].sort((a, b) => a.due - b.due)

  const seconds = Math.max(Math.ceil(input.durationS), ...records.map(r => Math.floor(r.due / 1000) + 1))
  const perSecond: SecondRow[] = Array.from({ length: seconds }, (_, t) => {
    const rows = records.filter(r => Math.floor(r.due / 1000) === t)
    const ok = rows.filter(isOk)
    const lat = percentiles(ok.map(r => r.end - r.start))
    const served: Record<string, number> = {}
    for (const r of ok) if (r.orchestrator !== null) inc(served, nameOf(r.orchestrator))
    return { t, sent: rows.length, ok: ok.length, failed: rows.length - ok.length, successRate: rate(ok.length, rows.length), p50: lat.p50, p99: lat.p99, served }
  })

  const byStatus: Record<string, number> = {}
  const byPipeline: Record<string, { requests: number, ok: number }> = {}
  const errors: Record<string, number> = {}
  for (const r of records) {
    inc(byStatus, String(r.status))
    const p = byPipeline[r.pipeline] ?? (byPipeline[r.pipeline] = { requests: 0, ok: 0 })
    p.requests++
    if (isOk(r)) p.ok++
    if (r.error !== undefined) inc(errors, r.error.slice(0, 80))
  }
  const ok = records.filter(isOk)

  const perRequest: Record<string, number> = {}
  const byOutcome: Record<string, number> = {}
  let totalAttempts = 0
  const attemptsTo = new Map<string, { attempts: number, failed: number }>()
  for (const r of records) {
    const attempts = attemptsOf(r)
    const count = Math.max(r.attempts, attempts.length)
    totalAttempts += count
    inc(perRequest, String(count))
    for (const a of attempts) {
      inc(byOutcome, a.outcome)
      const name = nameOf(a.peerId)
      const row = attemptsTo.get(name) ?? { attempts: 0, failed: 0 }
      row.attempts++
      // the gateway's outcomes: success, busy, failure, rejected, aborted, cancelled, limit, local
      if (a.outcome !== 'success') row.failed++
      attemptsTo.set(name, row)
    }
  }

  const redeemedBy = new Map<string, { count: number, wei: bigint }>()
  for (const red of input.redemptions ?? []) {
    const name = byEth.get(red.recipient.toLowerCase()) ?? red.recipient
    const row = redeemedBy.get(name) ?? { count: 0, wei: 0n }
    row.count++
    row.wei += BigInt(red.faceValueWei)
    redeemedBy.set(name, row)
  }

  const orchestrators: OrchestratorRow[] = input.nodes.filter(n => n.role === 'orchestrator').map(n => {
    const served = ok.filter(r => r.orchestrator === n.peerId)
    const a = attemptsTo.get(n.name) ?? { attempts: 0, failed: 0 }
    const red = redeemedBy.get(n.name) ?? { count: 0, wei: 0n }
    return {
      name: n.name,
      peerId: n.peerId,
      served: served.length,
      attempts: a.attempts,
      failedAttempts: a.failed,
      firstServedS: served.length === 0 ? null : Math.min(...served.map(r => r.end)) / 1000,
      lastServedS: served.length === 0 ? null : Math.max(...served.map(r => r.end)) / 1000,
      redeemedTickets: red.count,
      redeemedWei: red.wei.toString()
    }
  })

  // phases: the stretches of the load between events (by planned time)
  const cuts = [...new Set([0, ...input.events.map(e => e.at).filter(at => at > 0 && at < input.durationS), input.durationS])].sort((a, b) => a - b)
  const phases: Phase[] = cuts.slice(0, -1).map((from, i) => {
    const to = cuts[i + 1]
    const rows = records.filter(r => r.due >= from * 1000 && r.due < to * 1000)
    const good = rows.filter(isOk)
    const lat = percentiles(good.map(r => r.end - r.start))
    const servedBy: Record<string, number> = {}
    for (const r of good) if (r.orchestrator !== null) inc(servedBy, nameOf(r.orchestrator))
    const before = input.events.filter(e => e.at <= from).map(e => `${e.action}${e.nodes.length === 0 ? '' : ` ${e.nodes.length > 3 ? `${e.nodes.length} nodes` : e.nodes.join(',')}`}`)
    return { from, to, label: before.length === 0 ? 'start' : `after ${before[before.length - 1]}`, sent: rows.length, ok: good.length, successRate: rate(good.length, rows.length), p50: lat.p50, p99: lat.p99, servedBy }
  })

  const loads = input.samples.map(s => s.load1)
  const cpu = input.samples.map(s => s.cpuPercent).filter((c): c is number => typeof c === 'number')
  return {
    name: input.name,
    description: input.description,
    startedAt: input.startedAt,
    host: input.host,
    labId: input.labId ?? null,
    timing: input.timing,
    tuning: input.tuning ?? null,
    gatewaySide: input.gatewaySide ?? null,
    load: { rate: input.rate, durationS: input.durationS },
    listedAtStart: input.listedAtStart,
    totals: { requests: records.length, ok: ok.length, failed: records.length - ok.length, successRate: rate(ok.length, records.length), byStatus, byPipeline, errors },
    latencyMs: percentiles(ok.map(r => r.end - r.start)),
    attempts: { total: totalAttempts, perRequest, byOutcome, retried: records.filter(r => Math.max(r.attempts, attemptsOf(r).length) > 1).length },
    perSecond,
    phases,
    orchestrators,
    events: input.events,
    payments: input.payments,
    settlement: input.redemptions === null ? null : { redemptions: input.redemptions.length, faceValueWei: input.redemptions.reduce((s, r) => s + BigInt(r.faceValueWei), 0n).toString() },
    resources: {
      samples: input.samples,
      peakRssMb: input.samples.length === 0 ? null : Math.max(...input.samples.map(s => s.rssMb)),
      peakLoad1: loads.length === 0 ? null : Math.max(...loads),
      meanLoad1: loads.length === 0 ? null : Math.round(loads.reduce((s, v) => s + v, 0) / loads.length * 100) / 100,
      peakProcesses: input.samples.length === 0 ? null : Math.max(...input.samples.map(s => s.processes)),
      meanCpuPercent: cpu.length === 0 ? null : Math.round(cpu.reduce((s, v) => s + v, 0) / cpu.length * 10) / 10
    },
    nodes: input.nodes
  }
}
