/**
 * bench/selection: how well the gateway picks orchestrators when some are bad (issue 9).
 *
 * A real mesh on loopback: a bootstrap, 9 orchestrators (`shoal` processes, payments
 * off) each in front of an external `llm` runner with a known behaviour, and a gateway:
 *   fast x3 (20 ms), slow x2 (200 ms), failing (20 ms, 30 % HTTP 500), never answering
 *   (20 ms, 10 % of requests held forever), killed (fast, SIGKILLed a third of the way
 *   through the mix), stopped (fast, stopped gracefully two thirds of the way through).
 * Every fast orchestrator also serves `bench/oracle` from its own free fast runner.
 *
 * Phases, in this order, every one through the same gateway:
 *   1. oracle: requests for `bench/oracle` (free fast runners, first try): the baseline;
 *   2. mix: requests for `bench/model` at --concurrency; the kill and the stop happen here;
 *   3. over capacity: --over-concurrency (above every live slot together); counts
 *      requests that failed before their budget although waiting was allowed;
 *   4. Sybils: a real attacking peer announces --sybils identities for `bench/model`
 *      (1 wei, warm, capacity 1000, 10 min, no address), then the mix again.
 * Prints success, mean and p99 latency as ratios to the oracle and to a uniform random
 * pick computed from the behaviours, attempts per request, the time from the SIGKILL
 * (and from the graceful stop) to the last attempt the gateway started there, and the
 * load average. Goals (issue 9) are printed beside each figure; nothing here asserts.
 *
 *   npm run bench:selection [-- --requests 2000 --concurrency 16 --sybils 3000 ...]
 */
import '../../src/p2p/polyfill.js'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Agent, request } from 'undici'
import { startProcessMesh, type ProcessMesh } from '../../src/testnet/process-mesh.js'
import { startSybilAttacker, type SybilAttacker } from '../../src/testnet/sybil.js'
import { percentile } from '../percentile.js'
import type { RunnerBehaviour } from './runners.js'

const { values: flags } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '16' },
    'oracle-requests': { type: 'string', default: '500' },
    'over-requests': { type: 'string', default: '600' },
    'over-concurrency': { type: 'string', default: '64' },
    sybils: { type: 'string', default: '3000' },
    'sybil-requests': { type: 'string', default: '200' },
    'client-timeout': { type: 'string', default: '20000' },
    'retry-budget': { type: 'string', default: '30000' },
    capacity: { type: 'string', default: '4' },
    'keep-logs': { type: 'boolean', default: false }
  }
})
const REQUESTS = Number(flags.requests)
const CONCURRENCY = Number(flags.concurrency)
const CLIENT_TIMEOUT_MS = Number(flags['client-timeout'])
const RETRY_BUDGET_MS = Number(flags['retry-budget'])
const CAPACITY = Number(flags.capacity)
const MODEL = 'bench/model'
const ORACLE = 'bench/oracle'

interface Kind { kind: string, delayMs: number, failRate: number, hangRate: number }
const FAST: Kind = { kind: 'fast', delayMs: 20, failRate: 0, hangRate: 0 }
const ORCHESTRATORS: Kind[] = [
  FAST, FAST, FAST,
  { kind: 'slow', delayMs: 200, failRate: 0, hangRate: 0 },
  { kind: 'slow', delayMs: 200, failRate: 0, hangRate: 0 },
  { kind: 'failing', delayMs: 20, failRate: 0.3, hangRate: 0 },
  { kind: 'never-answering', delayMs: 20, failRate: 0, hangRate: 0.1 },
  { ...FAST, kind: 'killed' },
  { ...FAST, kind: 'stopped' }
]
const KILLED = ORCHESTRATORS.findIndex(o => o.kind === 'killed')
const STOPPED = ORCHESTRATORS.findIndex(o => o.kind === 'stopped')
const servesOracle = (i: number): boolean => ORCHESTRATORS[i].kind === 'fast'

interface Outcome { start: number, ms: number, status: number, attempts: Array<{ peerId: string, outcome: string, ms: number, startedAt: number }>, error?: string }

const agent = new Agent({ connections: 256, pipelining: 1 })
const BODY = (model: string): string => JSON.stringify({ model, messages: [{ role: 'user', content: 'bench' }], max_tokens: 1 })

async function once (url: string, model: string, timeoutMs: number): Promise<Outcome> {
  const start = Date.now()
  const t0 = performance.now()
  try {
    const res = await request(`${url}/llm`, { method: 'POST', body: BODY(model), headers: { 'content-type': 'application/json' }, dispatcher: agent, signal: AbortSignal.timeout(timeoutMs) })
    await res.body.arrayBuffer()
    const tried = res.headers['x-shoal-tried']
    let at = start
    const attempts = (typeof tried === 'string' && tried !== '' ? tried.split(',') : []).map(part => {
      const [peerId, outcome, ms] = part.trim().split(';')
      const attempt = { peerId, outcome, ms: Number(ms), startedAt: at }
      at += Number(ms)
      return attempt
    })
    return { start, ms: performance.now() - t0, status: res.statusCode, attempts }
  } catch (err) {
    return { start, ms: performance.now() - t0, status: 0, attempts: [], error: (err as Error).name === 'TimeoutError' ? 'client timeout' : (err as Error).message }
  }
}

/** `total` requests at `concurrency`; `onProgress(done)` after each one starts. */
async function drive (url: string, model: string, total: number, concurrency: number, onStart?: (n: number) => void, timeoutMs = CLIENT_TIMEOUT_MS): Promise<Outcome[]> {
  const outcomes: Outcome[] = []
  let next = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) {
      const n = next++
      onStart?.(n)
      outcomes.push(await once(url, model, timeoutMs))
    }
  }))
  return outcomes
}

interface Summary { n: number, success: number, mean: number, p99: number, attempts: number }
function summarise (outcomes: Outcome[]): Summary {
  const ok = outcomes.filter(o => o.status === 200).map(o => o.ms)
  return {
    n: outcomes.length,
    success: ok.length / Math.max(1, outcomes.length),
    mean: ok.reduce((a, b) => a + b, 0) / Math.max(1, ok.length),
    p99: ok.length === 0 ? NaN : percentile(ok, 99),
    attempts: outcomes.reduce((sum, o) => sum + o.attempts.length, 0) / Math.max(1, outcomes.length)
  }
}

/** A uniform random pick among these behaviours, first try only: expected success and mean service time. */
function uniformPick (kinds: Kind[], oracleMs: number): { success: number, mean: number } {
  const fastMs = FAST.delayMs
  // the mesh adds (oracle - fast service time) to every request
  const overhead = Math.max(0, oracleMs - fastMs)
  const success = kinds.reduce((s, k) => s + (1 - k.failRate - k.hangRate), 0) / kinds.length
  const mean = kinds.reduce((s, k) => s + (1 - k.failRate - k.hangRate) * (k.delayMs + overhead), 0) / kinds.reduce((s, k) => s + (1 - k.failRate - k.hangRate), 0)
  return { success, mean }
}

const f = (x: number, digits = 2): string => Number.isFinite(x) ? x.toFixed(digits) : 'n/a'
const pct = (x: number): string => `${(x * 100).toFixed(2)} %`

function line (name: string, s: Summary, oracle: Summary, random: { success: number, mean: number }, goal: string): void {
  console.log(`${name.padEnd(22)} n=${String(s.n).padStart(5)}  success ${pct(s.success).padStart(8)} (random ${pct(random.success)})  ` +
    `mean ${f(s.mean, 1).padStart(7)} ms = ${f(s.mean / oracle.mean)}x oracle, ${f(s.mean / random.mean)}x random  ` +
    `p99 ${f(s.p99, 1).padStart(7)} ms = ${f(s.p99 / oracle.p99)}x oracle  attempts/req ${f(s.attempts)}   ${goal}`)
}

function failures (outcomes: Outcome[]): string {
  const byKind = new Map<string, number>()
  for (const o of outcomes) {
    if (o.status === 200) continue
    const key = o.status === 0 ? `client: ${o.error ?? ''}` : `HTTP ${o.status}`
    byKind.set(key, (byKind.get(key) ?? 0) + 1)
  }
  return [...byKind].map(([k, n]) => `${n} ${k}`).join(', ') || 'none'
}

/** The last attempt the gateway started to `peerId` after `since`, in ms after it (-1: none). */
function lastAttemptAfter (outcomes: Outcome[], peerId: string, since: number): { count: number, lastMs: number } {
  const after = outcomes.flatMap(o => o.attempts).filter(a => a.peerId === peerId && a.startedAt >= since)
  return { count: after.length, lastMs: after.reduce((max, a) => Math.max(max, a.startedAt - since), -1) }
}

async function main (): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-bench-selection-'))
  const behaviours: RunnerBehaviour[] = [
    ...ORCHESTRATORS.map((k, i) => ({ name: `${k.kind}-${i}`, modelId: MODEL, delayMs: k.delayMs, failRate: k.failRate, hangRate: k.hangRate })),
    ...ORCHESTRATORS.flatMap((_, i) => servesOracle(i) ? [{ name: `oracle-${i}`, modelId: ORACLE, delayMs: FAST.delayMs, failRate: 0, hangRate: 0 }] : [])
  ]
  const runners = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./runners.ts', import.meta.url)), JSON.stringify(behaviours)], { stdio: ['pipe', 'pipe', 'inherit'] })
  const urls = await new Promise<string[]>((resolve, reject) => {
    createInterface({ input: runners.stdout }).once('line', (l) => { resolve((JSON.parse(l) as { urls: string[] }).urls) })
    runners.once('exit', (code) => { reject(new Error(`runners exited ${String(code)}`)) })
  })
  const oracleUrls = new Map<number, string>()
  let o = ORCHESTRATORS.length
  ORCHESTRATORS.forEach((_, i) => { if (servesOracle(i)) oracleUrls.set(i, urls[o++]) })

  let mesh: ProcessMesh | undefined
  let attacker: SybilAttacker | undefined
  try {
    console.log(`bench/selection: ${ORCHESTRATORS.length} orchestrators (${ORCHESTRATORS.map(k => k.kind).join(', ')}), capacity ${CAPACITY} each, logs in ${dataDir}`)
    mesh = await startProcessMesh({
      dataDir,
      orchestrators: ORCHESTRATORS.length,
      models: (i) => [
        { pipeline: 'llm', model_id: MODEL, warm: true, capacity: CAPACITY, url: urls[i] },
        ...(oracleUrls.has(i) ? [{ pipeline: 'llm', model_id: ORACLE, warm: true, capacity: CAPACITY * 4, url: oracleUrls.get(i) }] : [])
      ],
      gatewayPort: 0,
      logLevel: 'info',
      readyTimeoutMs: 120_000,
      extraArgs: { gateway: ['--retry-budget', String(RETRY_BUDGET_MS)] }
    })
    const m = mesh
    const url = m.gateway.url
    const peerOf = (i: number): string => m.orchestrators[i].peerId
    console.log(`mesh up: gateway ${url}; load average ${loadavg().map(x => x.toFixed(2)).join(' ')}`)

    // warm-up: connections and V8 in every process (not measured)
    await drive(url, ORACLE, 200, 4)
    await drive(url, MODEL, 100, 4)

    // 1. oracle
    const oracle = summarise(await drive(url, ORACLE, Number(flags['oracle-requests']), CONCURRENCY))
    const random = uniformPick(ORCHESTRATORS, oracle.mean)
    console.log(`\noracle (free fast runner, first try) at concurrency ${CONCURRENCY}: mean ${f(oracle.mean, 1)} ms, p99 ${f(oracle.p99, 1)} ms, success ${pct(oracle.success)}`)
    console.log(`uniform random pick (computed from the behaviours, first try): success ${pct(random.success)}, mean ${f(random.mean, 1)} ms`)

    // 2. the mix, with a SIGKILL at 1/3 and a graceful stop at 2/3
    const mixStarted = Date.now()
    let killedAt = 0
    let stopAt = 0
    let stoppedAt = 0
    const lifecycle: Array<Promise<void>> = []
    const mix = await drive(url, MODEL, REQUESTS, CONCURRENCY, (n) => {
      if (n === Math.floor(REQUESTS / 3)) {
        killedAt = Date.now()
        lifecycle.push(m.orchestrators[KILLED].kill())
      }
      if (n === Math.floor(2 * REQUESTS / 3)) {
        stopAt = Date.now()
        lifecycle.push(m.orchestrators[STOPPED].stop().then(() => { stoppedAt = Date.now() }))
      }
    })
    await Promise.all(lifecycle)
    const mixSummary = summarise(mix)
    console.log(`\nmix of ${REQUESTS} at concurrency ${CONCURRENCY}, ${f((Date.now() - mixStarted) / 1000, 1)} s (failures: ${failures(mix)})`)
    line('mix', mixSummary, oracle, random, 'goals: success >= 99.9 %, mean <= 1.10x oracle')
    const perKind = ORCHESTRATORS.map((k, i) => {
      const attempts = mix.flatMap(x => x.attempts).filter(a => a.peerId === peerOf(i))
      return `${k.kind}-${i}: ${attempts.length} attempts (${attempts.filter(a => a.outcome === 'success').length} ok)`
    })
    // a request the client abandoned has no X-Shoal-Tried: its attempts (a hung one among them) are not counted here
    console.log(`attempts per orchestrator (answered requests only): ${perKind.join('; ')}`)
    const afterKill = lastAttemptAfter(mix, peerOf(KILLED), killedAt)
    const afterKill5s = lastAttemptAfter(mix, peerOf(KILLED), killedAt + 5_000)
    console.log(`SIGKILL: ${afterKill.count} attempts started after the kill, the last ${afterKill.lastMs} ms after it; ${afterKill5s.count} started 5 s or more after it   goal: none after 5 s`)
    const afterStop = lastAttemptAfter(mix, peerOf(STOPPED), stopAt)
    const afterExit = lastAttemptAfter(mix, peerOf(STOPPED), stoppedAt)
    console.log(`graceful stop: took ${stoppedAt - stopAt} ms; ${afterStop.count} attempts started after SIGTERM (last ${afterStop.lastMs} ms after it), ${afterExit.count} after the process exited (last ${afterExit.lastMs} ms after exit)   goal: none after the stop`)

    // 3. over capacity
    const live = ORCHESTRATORS.filter((_, i) => i !== KILLED && i !== STOPPED)
    const overConcurrency = Number(flags['over-concurrency'])
    // the client waits longer than the gateway's budget here: a request that could wait must be let wait
    const overStarted = Date.now()
    const over = await drive(url, MODEL, Number(flags['over-requests']), overConcurrency, undefined, RETRY_BUDGET_MS + 10_000)
    const couldWait = over.filter(x => x.status !== 200 && x.ms < RETRY_BUDGET_MS && x.error !== 'client timeout')
    console.log(`\nover capacity: concurrency ${overConcurrency} against ${live.length * CAPACITY} live slots, ${f((Date.now() - overStarted) / 1000, 1)} s (failures: ${failures(over)})`)
    line('over capacity', summarise(over), oracle, uniformPick(live, oracle.mean), `${couldWait.length} failed before their ${RETRY_BUDGET_MS} ms budget (goal: 0)`)

    // 4. Sybils
    const sybils = Number(flags.sybils)
    if (sybils > 0) {
      attacker = await startSybilAttacker({ bootstrap: [m.bootstrap.address], dial: (await m.gateway.waitForEvent('listening')).addresses as string[], offers: [{ pipeline: 'llm', modelId: MODEL, pricePerUnit: '1', capacity: 1000, warm: true }], ttlMs: 600_000 })
      const announced = await attacker.announce(sybils)
      const dirStart = performance.now()
      const dir = await (await fetch(`${url}/network/orchestrators`)).text()
      const dirMs = performance.now() - dirStart
      const metrics = await (await fetch(`${url}/metrics`)).text()
      const validated = metrics.split('\n').filter(l => l.startsWith('shoal_discovery_announcements_validated_total{')).map(l => l.replace('shoal_discovery_announcements_validated_total', '')).join(' ')
      console.log(`\nSybils: ${announced.published} identities announced in ${f(announced.ms / 1000, 1)} s; the gateway lists ${(JSON.parse(dir) as unknown[]).length} orchestrators (${dir.length} bytes, ${f(dirMs, 0)} ms); its validator so far: ${validated}`)
      const attacked = await drive(url, MODEL, Number(flags['sybil-requests']), CONCURRENCY)
      const dirAfter = await (await fetch(`${url}/network/orchestrators`)).text()
      console.log(`(failures: ${failures(attacked)}; the gateway now lists ${(JSON.parse(dirAfter) as unknown[]).length} orchestrators, ${dirAfter.length} bytes)`)
      line('with Sybils', summarise(attacked), oracle, uniformPick(live, oracle.mean), 'goal: success >= 99 %')
    }
    console.log(`\nload average ${loadavg().map(x => x.toFixed(2)).join(' ')} on ${cpus().length} cores`)
  } finally {
    await attacker?.stop().catch(() => {})
    await mesh?.stop()
    runners.stdin.end()
    await agent.close()
    if (!flags['keep-logs']) await rm(dataDir, { recursive: true, force: true })
  }
}

await main()
