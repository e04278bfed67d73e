/**
 * bench/emulated-idle: what an idle node of an emulated testnet costs (issue 16: 50 hosts
 * on 2 cores). An emulated mesh (src/testnet/emulation: every node a `shoal` process in
 * its own network namespace; a local chain with payments, in the lab; shared CPU runners), N
 * orchestrators (default 8), no load. After the gateway lists them all and a settle
 * time, it measures each process over a window: CPU in % of one core (utime + stime from
 * /proc) and RSS, per role (bootstrap, gateway, orchestrators: mean, min, max), the chain
 * (anvil) and the bridges/runners; with the load average, since the machine is shared.
 *
 *   npm run build && npx tsx bench/emulated-idle/index.ts [orchestrators=8] [window-s=60] [settle-s=20] [-- extra orchestrator args]
 *
 * BENCH_MESH_ARGS="--monitor-interval 15000 --gossip-heartbeat 2000" adds flags to the
 * orchestrators and the bootstrap (what a scenario's `tuning` sets).
 * Root only (network namespaces). SHOAL_CHILD_EXEC_ARGV="--cpu-prof --cpu-prof-dir=DIR"
 * profiles every node (written when the nodes stop).
 */
import '../../src/p2p/polyfill.js'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { parseEther } from 'ethers'
import { startEmulatedMesh, type EmulatedNodeSpec } from '../../src/testnet/emulation/mesh.js'
import { labPayments } from '../../src/testnet/emulation/lab-chain.js'
import { netnsSupport } from '../../src/testnet/netns.js'

const run = promisify(execFile)
const dashes = process.argv.indexOf('--')
const positional = dashes === -1 ? process.argv.slice(2) : process.argv.slice(2, dashes)
const EXTRA = dashes === -1 ? [] : process.argv.slice(dashes + 1)
const MESH_ARGS = (process.env.BENCH_MESH_ARGS ?? '').split(' ').filter(a => a !== '')
const ORCHESTRATORS = Number(positional[0] ?? 8)
const WINDOW_S = Number(positional[1] ?? 60)
const SETTLE_S = Number(positional[2] ?? 20)
const TICKS = Number((await run('getconf', ['CLK_TCK'])).stdout.trim()) || 100

interface ProcSample { ticks: number, rssMb: number }

async function sampleProc (pid: number): Promise<ProcSample | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // fields[0] is field 3 (state): utime is field 14, stime field 15
    const ticks = Number(fields[11]) + Number(fields[12])
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
    return { ticks, rssMb: rssKb / 1024 }
  } catch {
    return undefined
  }
}

function summary (values: number[]): string {
  if (values.length === 0) return '-'
  const mean = values.reduce((a, b) => a + b, 0) / values.length
  return `mean ${mean.toFixed(2)} min ${Math.min(...values).toFixed(2)} max ${Math.max(...values).toFixed(2)}`
}

const support = await netnsSupport()
if (!support.ok) {
  console.error(`bench/emulated-idle needs network namespaces: ${support.reason}`)
  process.exit(1)
}
const dir = await mkdtemp(join(tmpdir(), 'shoal-emulated-idle-'))
const specs: EmulatedNodeSpec[] = [
  { name: 'boot', role: 'bootstrap' },
  { name: 'gw', role: 'gateway' },
  ...Array.from({ length: ORCHESTRATORS }, (_, i): EmulatedNodeSpec => ({
    name: `orch-${i + 1}`,
    role: 'orchestrator',
    models: [{ pipeline: 'text-to-image', model_id: 'shoal/noop', price_per_unit: '1000000000', pixels_per_unit: '1', capacity: 4 }]
  }))
]
const t0 = Date.now()
const mesh = await startEmulatedMesh({
  dataDir: dir,
  nodes: specs,
  subnetPrefix: '10.244.0',
  payments: labPayments({ logFile: join(dir, 'chain.log'), depositWei: parseEther('50'), reserveWei: parseEther('50'), ticketEvWei: '10000000000000', gasPriceWei: '10000000' }),
  extraArgs: { orchestrator: [...MESH_ARGS, ...EXTRA], bootstrap: MESH_ARGS },
  readyTimeoutMs: 300_000,
  onProgress: (m) => { console.error(`  ${m}`) }
})
try {
  console.error(`  mesh ready in ${((Date.now() - t0) / 1000).toFixed(1)} s; settling ${SETTLE_S} s, then measuring ${WINDOW_S} s`)
  await new Promise(resolve => setTimeout(resolve, SETTLE_S * 1000))
  const anvilPid = mesh.chain?.chain.pid ?? -1
  const roles = new Map<number, string>()
  for (const node of mesh.nodes.values()) if (node.child !== undefined) roles.set(node.child.pid, node.spec.role)
  if (anvilPid > 0) roles.set(anvilPid, 'chain')
  for (const pid of mesh.pids()) if (!roles.has(pid)) roles.set(pid, 'runners+bridges')
  const before = new Map<number, ProcSample>()
  for (const pid of roles.keys()) { const s = await sampleProc(pid); if (s !== undefined) before.set(pid, s) }
  const load0 = loadavg()[0]
  const tStart = Date.now()
  await new Promise(resolve => setTimeout(resolve, WINDOW_S * 1000))
  const elapsed = (Date.now() - tStart) / 1000
  const byRole = new Map<string, { cpu: number[], rss: number[] }>()
  for (const [pid, role] of roles) {
    const a = before.get(pid)
    const b = await sampleProc(pid)
    if (a === undefined || b === undefined) continue
    const entry = byRole.get(role) ?? { cpu: [], rss: [] }
    entry.cpu.push((b.ticks - a.ticks) / TICKS / elapsed * 100)
    entry.rss.push(b.rssMb)
    byRole.set(role, entry)
  }
  console.log(`emulated-idle: ${ORCHESTRATORS} orchestrators idle for ${elapsed.toFixed(0)} s (after ${SETTLE_S} s settling); extra orchestrator args: ${[...MESH_ARGS, ...EXTRA].join(' ') || 'none'}`)
  console.log(`load average ${load0.toFixed(2)} -> ${loadavg()[0].toFixed(2)}`)
  let totalCpu = 0
  let totalRss = 0
  for (const [role, e] of byRole) {
    totalCpu += e.cpu.reduce((a, b) => a + b, 0)
    totalRss += e.rss.reduce((a, b) => a + b, 0)
    console.log(`  ${role.padEnd(16)} x${String(e.cpu.length).padEnd(3)} CPU % of a core: ${summary(e.cpu)}   RSS MB: ${summary(e.rss)}`)
  }
  console.log(`  total: ${totalCpu.toFixed(1)} % of a core, ${totalRss.toFixed(0)} MB RSS`)
  // established TCP connections per host (libp2p, runner and chain ones alike)
  const connections = new Map<string, number[]>()
  for (const node of mesh.nodes.values()) {
    const [cmd, ...args] = node.host.exec(['ss', '-Htn', 'state', 'established'])
    const count = (await run(cmd, args)).stdout.split('\n').filter(l => l.trim() !== '').length
    connections.set(node.spec.role, [...(connections.get(node.spec.role) ?? []), count])
  }
  for (const [role, counts] of connections) console.log(`  ${role.padEnd(16)} TCP connections: ${summary(counts)}`)
} finally {
  await mesh.stop()
  if (process.env.SHOAL_KEEP_BENCH_DIR === undefined) await rm(dir, { recursive: true, force: true })
  else console.error(`  logs kept in ${dir}`)
}
