/**
 * bench/control-plane: does the control plane cost grow with the job rate? A bootstrap,
 * N orchestrators (8, then 32) and one gateway on loopback, every orchestrator in front
 * of one shared external runner serving the `shoal/noop` model. The job rate is stepped
 * (10, 100, 1,000 jobs/s, open loop, through the gateway's HTTP API) after an idle mesh
 * is measured in the same run. For each step it prints, per node (the bootstrap, one
 * orchestrator alone in its process, the gateway): announcements received per second
 * on gossip and CPU in % of one core (process.cpuUsage of each process; the other
 * orchestrators share one more process, not reported per node). Also the load average,
 * since this machine is shared.
 *
 * Goals (issue 9): announcements per node per second do not grow with the job rate;
 * at 100 jobs/s the bootstrap uses under 2 % of a core.
 *
 *   npm run bench:control-plane [-- seconds-per-step [orchestrator counts [job rates]]]   (lists comma-separated; 0 rates: idle only)
 *
 * While the gateway waits for every orchestrator to be listed it prints how the gossip graph
 * looks from each process (connections, gossipsub peers, topic subscribers and mesh, closes,
 * event-loop delay): a mesh that does not form shows there.
 */
import '../../src/p2p/polyfill.js'
import { fork, type ChildProcess } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Agent, request } from 'undici'
import { spawnShoal } from '../../src/testnet/child.js'
import type { NodeConfig } from './node.js'

const STEP_S = Number(process.argv[2] ?? 15)
const SIZES = (process.argv[3] ?? '8,32').split(',').map(Number)
const RATES = (process.argv[4] ?? '10,100,1000').split(',').map(Number).filter(r => r > 0)
// SHOAL_BENCH_PROFILE_DIR=dir writes a V8 CPU profile of every child there (open in Chrome's DevTools)
const PROFILE_DIR = process.env.SHOAL_BENCH_PROFILE_DIR
const PIPELINE = 'text-to-image'
const MODEL = 'shoal/noop'
const BODY = JSON.stringify({ prompt: 'a benchmark', model_id: MODEL, width: 64, height: 64 })
const MAX_IN_FLIGHT = 256
const NODE_SCRIPT = fileURLToPath(new URL('./node.ts', import.meta.url))

interface Sample { announcements: number, cpuMicros: number, at: number }
interface MeshView { zombies: number, zombiesIdentified: number, connections: number, gossipPeers: number, subscribers: number, mesh: number, directory: number, connectionsClosed: number, closedByMonitor: number, lagP99Ms: number }
interface Child { name: string, process: ChildProcess, ready: Record<string, unknown>, sample: () => Promise<Sample>, mesh: () => Promise<MeshView[]>, stop: () => Promise<void> }

async function startChild (name: string, config: NodeConfig): Promise<Child> {
  const profile = PROFILE_DIR === undefined ? undefined : join(PROFILE_DIR, `${name.replace(/\W+/g, '-')}.cpuprofile`)
  const child = fork(NODE_SCRIPT, [JSON.stringify({ ...config, profile })], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  const pending: Array<(s: Sample) => void> = []
  const pendingMesh: Array<(m: MeshView[]) => void> = []
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    child.once('exit', (code) => { reject(new Error(`${name} exited with ${String(code)}`)) })
    child.on('message', (m: { type: string } & Record<string, unknown>) => {
      if (m.type === 'ready') resolve(m)
      if (m.type === 'sample') pending.shift()?.(m as unknown as Sample)
      if (m.type === 'mesh') pendingMesh.shift()?.(m.nodes as MeshView[])
    })
  })
  return {
    name,
    process: child,
    ready,
    sample: async () => await new Promise<Sample>(resolve => { pending.push(resolve); child.send({ type: 'sample' }) }),
    mesh: async () => await new Promise<MeshView[]>(resolve => { pendingMesh.push(resolve); child.send({ type: 'mesh' }) }),
    stop: async () => {
      if (child.exitCode !== null) return
      const exited = new Promise(resolve => child.once('exit', resolve))
      child.send({ type: 'stop' })
      const timer = setTimeout(() => { child.kill('SIGKILL') }, 10_000)
      await exited
      clearTimeout(timer)
    }
  }
}

/** Open-loop load: `rate` jobs/s for `seconds`, at most MAX_IN_FLIGHT at once. Returns completed and failed counts. */
async function load (url: string, agent: Agent, rate: number, seconds: number): Promise<{ ok: number, failed: number, skipped: number, latencyMs: number }> {
  const counts = { ok: 0, failed: 0, skipped: 0, latencyMs: 0 }
  if (rate === 0) { await new Promise(resolve => setTimeout(resolve, seconds * 1000)); return counts }
  let inFlight = 0
  const started = performance.now()
  let issued = 0
  const jobs: Array<Promise<void>> = []
  while (performance.now() - started < seconds * 1000) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate)
    while (issued < due) {
      issued++
      if (inFlight >= MAX_IN_FLIGHT) { counts.skipped++; continue }
      inFlight++
      jobs.push((async () => {
        const t = performance.now()
        try {
          const res = await request(`${url}/${PIPELINE}`, { method: 'POST', body: BODY, headers: { 'content-type': 'application/json' }, dispatcher: agent })
          await res.body.arrayBuffer()
          if (res.statusCode === 200) { counts.ok++; counts.latencyMs += performance.now() - t } else counts.failed++
        } catch {
          counts.failed++
        } finally {
          inFlight--
        }
      })())
    }
    await new Promise(resolve => setTimeout(resolve, 5))
  }
  await Promise.all(jobs)
  counts.latencyMs = counts.ok === 0 ? 0 : counts.latencyMs / counts.ok
  return counts
}

async function run (orchestrators: number, runnerUrl: string, token: string): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-bench-control-'))
  const children: Child[] = []
  try {
    const bootstrap = await startChild('bootstrap', { role: 'bootstrap', dataDir, bootstrap: [] })
    children.push(bootstrap)
    const bootstrapAddr = (bootstrap.ready.addresses as string[]).find(a => a.includes('/127.0.0.1/'))!
    const common = { dataDir, bootstrap: [bootstrapAddr], runnerUrl, token, pipeline: PIPELINE as NodeConfig['pipeline'], modelId: MODEL, capacity: 8 }
    const measured = await startChild('orchestrator', { role: 'orchestrator', ...common, dataDir: join(dataDir, 'measured'), count: 1 })
    children.push(measured)
    const others = await startChild('other orchestrators', { role: 'orchestrator', ...common, dataDir: join(dataDir, 'others'), count: orchestrators - 1 })
    children.push(others)
    const gateway = await startChild('gateway', { role: 'gateway', dataDir, bootstrap: [bootstrapAddr] })
    children.push(gateway)
    const url = String(gateway.ready.url)
    // every orchestrator listed before measuring
    const deadline = Date.now() + 120_000
    for (;;) {
      const listed = await fetch(`${url}/network/orchestrators`).then(async r => await r.json() as unknown[]).catch(() => [])
      if (listed.length >= orchestrators) break
      if (Date.now() > deadline) {
        // what the gateway refused, to tell a mesh that did not form from one whose gossip was refused
        const metrics = await fetch(`${url}/metrics`).then(async r => await r.text()).catch(() => '')
        console.error(metrics.split('\n').filter(l => /announcements_validated|directory_(entries|refusals|removals)/.test(l) && !l.startsWith('#')).join('\n'))
        throw new Error(`the gateway lists ${listed.length} of ${orchestrators} orchestrators`)
      }
      if (Math.floor((deadline - Date.now()) / 500) % 20 === 0) {
        const views = await Promise.all([bootstrap, measured, others, gateway].map(async c => await c.mesh()))
        const show = (v: MeshView[]): string => {
          const min = (k: keyof MeshView): number => Math.min(...v.map(x => x[k]))
          const max = (k: keyof MeshView): number => Math.max(...v.map(x => x[k]))
          return (['zombies', 'zombiesIdentified', 'connections', 'gossipPeers', 'subscribers', 'mesh', 'directory', 'connectionsClosed', 'closedByMonitor', 'lagP99Ms'] as const).map(k => `${k} ${min(k)}-${max(k)}`).join(' ')
        }
        console.error(`listed ${listed.length} of ${orchestrators}; bootstrap: ${show(views[0])}; orchestrators: ${show([...views[1], ...views[2]])}; gateway: ${show(views[3])}`)
      }
      await new Promise(resolve => setTimeout(resolve, 500))
    }
    const agent = new Agent({ connections: MAX_IN_FLIGHT, pipelining: 1 })
    // warm up every path (connections, pooled streams, JIT) before the idle baseline
    await load(url, agent, 200, 5)
    await new Promise(resolve => setTimeout(resolve, 3_000))

    const measuredNodes = [bootstrap, measured, gateway]
    console.log(`\n${orchestrators} orchestrators, one gateway, ${STEP_S} s per step`)
    console.log('rate (jobs/s) | achieved | failed | mean ms | announcements/s received: bootstrap, orchestrator, gateway | CPU % of a core: bootstrap, orchestrator, gateway | load avg')
    for (const rate of [0, ...RATES]) {
      const before = await Promise.all(measuredNodes.map(async c => await c.sample()))
      const t0 = performance.now()
      const counts = await load(url, agent, rate, STEP_S)
      const after = await Promise.all(measuredNodes.map(async c => await c.sample()))
      const seconds = (performance.now() - t0) / 1000
      const ann = after.map((a, i) => (a.announcements - before[i].announcements) / ((a.at - before[i].at) / 1000))
      const cpu = after.map((a, i) => 100 * (a.cpuMicros - before[i].cpuMicros) / 1000 / (a.at - before[i].at))
      const label = rate === 0 ? 'idle' : String(rate)
      console.log(`${label.padStart(13)} | ${(counts.ok / seconds).toFixed(0).padStart(8)} | ${String(counts.failed + counts.skipped).padStart(6)} | ${counts.latencyMs.toFixed(1).padStart(7)} | ${ann.map(a => a.toFixed(2).padStart(6)).join(', ')} | ${cpu.map(c => c.toFixed(1).padStart(5)).join(', ')} | ${loadavg()[0].toFixed(2)}`)
    }
    await agent.close()
  } finally {
    for (const child of children.reverse()) await child.stop()
  }
}

const dir = await mkdtemp(join(tmpdir(), 'shoal-bench-runner-'))
const token = 'bench-token'
const runner = spawnShoal('runner', ['runner', '--pipeline', PIPELINE, '--model-id', MODEL, '--host', '127.0.0.1', '--port', '0', '--max-queue', '100000', '--log-level', 'warn'], { logFile: join(dir, 'runner.log'), env: { AUTH_TOKEN: token } })
try {
  const listening = await runner.waitForEvent('ready').then(async () => await runner.waitForEvent('listening'))
  for (const size of SIZES) await run(size, String(listening.url), token)
  console.log('\ngoals: announcements/s per node flat across rates; bootstrap < 2 % of a core at 100 jobs/s')
} finally {
  await runner.stop()
}
