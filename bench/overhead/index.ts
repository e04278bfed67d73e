/**
 * bench/overhead: what the mesh adds to a job. The same `shoal/noop` request (the CPU
 * runner's benchmark-only model, which runs nothing) is sent in one run:
 *   1. straight to the runner's HTTP API (the baseline);
 *   2. through a gateway and an orchestrator (HTTP -> /shoal/ai over libp2p -> runner HTTP),
 *      payments off;
 *   3. the same with payments on (tickets on the stream, a local chain).
 * Every node is its own process on loopback. Prints latency p50/p99 per path, the
 * added latency, jobs/s through one gateway, and the ratios.
 *
 * Beside phase A, a raw libp2p round trip between two processes built like Shoal nodes
 * (raw-peer.ts: the same node factory, persistent streams, a 256-byte echo), sampled in
 * the same rounds and at the same concurrency: the added latency is printed as a
 * multiple of it (goal: at most 2x), once one request at a time (c=1: the latency the
 * mesh adds) and once at `concurrency` (c=N: every path and the raw round trips run N at
 * a time, N streams for the raw one; on a machine with fewer cores than that, queueing
 * dominates). Where the c=1 time goes is broken down from the nodes' own histograms
 * (means over the sampled rounds): the gateway's HTTP layer and dispatch, the /shoal/ai
 * round trip (libp2p and framing on both sides), the orchestrator's own work, the runner.
 *
 * Two phases, the chain up for both:
 *   A. the unpaid mesh alone beside the runner: the added latency and jobs/s (a second
 *      mesh's timers and collections would add to this one's tail);
 *   B. an unpaid and a paid mesh side by side: what payments add. Measured one after
 *      the other, whichever kind went second came out 5-20 % slower, so the two are
 *      sampled in alternating rounds in the same minutes instead.
 * In each phase the paths take turns, round by round, so drift in this machine's load
 * and caches hits the baseline and the meshes alike. Latency is a steady-state measure:
 * each path is warmed up first (connections, pooled streams, and enough calls for V8 to
 * optimise the hot code of every process: after 1,000 warm-up calls the gateway still
 * optimised ~370 more functions over the next 2,000 jobs, compiling on the same cores,
 * after 5,000 ~70; `--trace-opt`). Throughput is the median of alternating bursts.
 *
 * Beside them, in the same rounds, the floor (floor.ts): a bare node:http server that
 * forwards the body over a pooled raw libp2p stream to the raw peer and answers with its
 * echo, in its own process. It is one HTTP server, one libp2p round trip and one HTTP
 * client, which is what the mesh adds to a direct runner call at the least, so its whole
 * p50 is the floor of the added p50 for any gateway with an HTTP front: the added latency
 * is printed as a multiple of it too, and the floor as a multiple of the raw round trip.
 *
 * Transports: phase A runs one unpaid mesh per transport of BENCH_TRANSPORT (default
 * `tcp,quic`), side by side in the same rounds; in the QUIC mesh every node also listens
 * on QUIC and dials it first (`--prefer-transport quic`), so the gateway's connection to
 * the orchestrator is QUIC (bootstrap links stay TCP). Phase B uses the first transport.
 *
 * CPU per job: the gateway's and the orchestrator's user + system CPU time (/proc) over
 * sequential jobs, the mesh and the before mesh taking turns. It hardly moves with the
 * machine's other load, so it shows a change's cost where latency is too noisy.
 *
 * Other knobs: BENCH_PAYMENTS=off skips phase B (and its two meshes). BENCH_BEFORE=<dir>,
 * another build's package root (its bin/shoal.js, dist/ and node_modules, e.g. an older
 * commit unpacked with `git archive` and built), adds its unpaid mesh to phase A, sampled
 * in the same rounds: a change's before and after side by side, under the same load.
 *
 *   npm run bench:overhead [-- requests concurrency warmup]
 *   BENCH_TRANSPORT=tcp BENCH_PAYMENTS=off node --import tsx bench/overhead/index.ts 1000 16 1500   (shorter; needs a built dist/)
 */
import '../../src/p2p/polyfill.js'
import { mkdtemp, readFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { spawn, spawnSync } from 'node:child_process'
import { createInterface } from 'node:readline'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { lpStream } from '@libp2p/utils'
import { createShoalNode } from '../../src/p2p/node.js'
import { spawnShoal } from '../../src/testnet/child.js'
import { startTestnetChain, type TestnetChain } from '../../src/testnet/local-chain.js'
import { startProcessMesh, type ProcessMesh } from '../../src/testnet/process-mesh.js'
import { percentile } from '../percentile.js'
import { ECHO_PROTOCOL } from './raw-peer-protocol.js'

const REQUESTS = Number(process.argv[2] ?? 2000)
const CONCURRENCY = Number(process.argv[3] ?? 32)
const PIPELINE = 'text-to-image'
const MODEL = 'shoal/noop'
const BODY = JSON.stringify({ prompt: 'a benchmark', model_id: MODEL, width: 64, height: 64 })
/** calls per path before sampling: enough for every process's hot code to be optimised */
const WARMUP = Number(process.argv[4] ?? 3000)
const ROUNDS = 5
type Transport = 'tcp' | 'quic'
const TRANSPORTS = (process.env.BENCH_TRANSPORT ?? 'tcp,quic').split(',').filter((t): t is Transport => t === 'tcp' || t === 'quic')
const QUIC_LOOPBACK = '/ip4/127.0.0.1/udp/0/quic-v1'
/** another build's package root (its bin/shoal.js and dist/): its unpaid mesh is sampled in the same rounds, the "before" of a change */
const BEFORE = process.env.BENCH_BEFORE
/** `off`: phase A only */
const PAYMENTS = process.env.BENCH_PAYMENTS !== 'off'
const agent = new Agent({ connections: CONCURRENCY * 2, pipelining: 1 })

async function once (url: string, headers: Record<string, string>): Promise<number> {
  const started = performance.now()
  const res = await request(`${url}/${PIPELINE}`, { method: 'POST', body: BODY, headers: { 'content-type': 'application/json', ...headers }, dispatcher: agent })
  await res.body.arrayBuffer()
  if (res.statusCode !== 200) throw new Error(`${url} answered ${res.statusCode}`)
  return performance.now() - started
}

/** Sequential requests to each URL in turn, `rounds` rounds of `perRound`; the samples of each URL. */
async function latencySamples (paths: Path[], rounds: number, perRound: number, warmup = WARMUP): Promise<number[][]> {
  await warmUp(paths, warmup)
  const samples: number[][] = paths.map(() => [])
  for (let round = 0; round < rounds; round++) {
    for (const [i, { url, headers }] of paths.entries()) {
      for (let n = 0; n < perRound; n++) samples[i].push(await once(url, headers))
    }
  }
  return samples
}

async function warmUp (paths: Path[], calls = WARMUP): Promise<void> {
  for (const { url, headers } of paths) for (let i = 0; i < calls; i++) await once(url, headers)
}

function summary (samples: number[]): { p50: number, p99: number } {
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) }
}

interface Path { url: string, headers: Record<string, string> }

/** `REQUESTS` calls of `call`, `CONCURRENCY` at a time (`call(lane)`, lane < CONCURRENCY); jobs/s, and each call's latency into `latencies`. */
async function burstOf (call: (lane: number) => Promise<number>, latencies?: number[]): Promise<number> {
  let next = 0
  const started = performance.now()
  await Promise.all(Array.from({ length: CONCURRENCY }, async (_, lane) => {
    while (next < REQUESTS) {
      next++
      const ms = await call(lane)
      latencies?.push(ms)
    }
  }))
  return REQUESTS / ((performance.now() - started) / 1000)
}

const burst = async (url: string, headers: Record<string, string>, latencies?: number[]): Promise<number> => await burstOf(async () => await once(url, headers), latencies)

/** Jobs/s of each URL in `rounds` bursts, the URLs taking turns; with `latencies`, each call's latency per URL. */
async function burstRates (paths: Path[], rounds: number, latencies?: number[][]): Promise<number[][]> {
  const rates: number[][] = paths.map(() => [])
  for (let round = 0; round < rounds; round++) {
    for (const [i, { url, headers }] of paths.entries()) rates[i].push(await burst(url, headers, latencies?.[i]))
  }
  return rates
}

const median = (values: number[]): number => percentile(values, 50)
const added_ = (mesh: { p50: number }, direct: { p50: number }): number => mesh.p50 - direct.p50

interface RawPeer {
  /** the raw peer's listening address (the floor dials it too) */
  addr: string
  /** one round trip on stream `lane` (0 by default; `CONCURRENCY` streams are open) */
  roundTrip: (lane?: number) => Promise<number>
  stop: () => Promise<void>
}

/** A raw-peer process and `CONCURRENCY` persistent echo streams to it from this process. */
async function rawPeer (transport: Transport): Promise<RawPeer> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./raw-peer.ts', import.meta.url).pathname, transport], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const { addr } = JSON.parse((await lines.next()).value as string) as { addr: string }
  const node = await createShoalNode({ role: 'gateway', privateKey: await generateKeyPair('Ed25519'), listen: [transport === 'tcp' ? '/ip4/127.0.0.1/tcp/0' : QUIC_LOOPBACK] })
  await node.start()
  const lanes = await Promise.all(Array.from({ length: CONCURRENCY }, async () => lpStream(await node.dialProtocol(multiaddr(addr), ECHO_PROTOCOL, { maxOutboundStreams: CONCURRENCY + 1 }))))
  const message = new Uint8Array(256).fill(7)
  return {
    addr,
    async roundTrip (lane = 0) {
      const lp = lanes[lane]
      const started = performance.now()
      await lp.write(message)
      await lp.read()
      return performance.now() - started
    },
    async stop () {
      await node.stop()
      child.kill('SIGTERM')
    }
  }
}

/** The floor (floor.ts) in its own process, forwarding to the raw peer at `addr`; its URL and how to stop it. */
async function floorGateway (addr: string, transport: Transport): Promise<{ url: string, stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./floor.ts', import.meta.url).pathname, addr, transport], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const { url } = JSON.parse((await lines.next()).value as string) as { url: string }
  return { url, stop: () => { child.kill('SIGTERM') } }
}

/** sum and count of a histogram in a Prometheus text page (all label sets together) */
function histogram (page: string, name: string): { sum: number, count: number } {
  let sum = 0
  let count = 0
  for (const line of page.split('\n')) {
    if (line.startsWith(`${name}_sum`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1))
    if (line.startsWith(`${name}_count`)) count += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return { sum, count }
}

/** A node's Prometheus page: the gateway's `/metrics`, or an orchestrator's metrics URL as it printed it. */
async function scrape (url: string): Promise<string> {
  const res = await request(url.endsWith('/metrics') ? url : `${url}/metrics`, { dispatcher: agent })
  return await res.body.text()
}

/** Mean ms of a histogram between two scrapes. */
function meanMs (before: string, after: string, name: string): number {
  const a = histogram(before, name)
  const b = histogram(after, name)
  return b.count > a.count ? (b.sum - a.sum) / (b.count - a.count) * 1000 : NaN
}

/** clock ticks per second of /proc/<pid>/stat's CPU times */
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100

/** CPU seconds (user + system) process `pid` has used so far (Linux /proc). */
async function cpuSeconds (pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  // after "pid (comm) ": state is field 3 of the line; utime and stime are fields 14 and 15
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
}

/**
 * CPU µs per job of a mesh's gateway and orchestrator, from `jobs` sequential calls in
 * each of `rounds` rounds, the meshes taking turns. Unlike latency, CPU per job hardly
 * moves with the machine's other load, so a change's cost shows even on a busy box.
 */
async function cpuPerJob (meshes: ProcessMesh[], rounds: number, jobs: number): Promise<Array<{ gateway: number, orchestrator: number }>> {
  const totals = meshes.map(() => ({ gateway: 0, orchestrator: 0 }))
  for (let round = 0; round < rounds; round++) {
    for (const [i, mesh] of meshes.entries()) {
      const pids = [mesh.gateway.pid, mesh.orchestrators[0].pid]
      const [g0, o0] = await Promise.all(pids.map(cpuSeconds))
      for (let n = 0; n < jobs; n++) await once(mesh.gateway.url, {})
      const [g1, o1] = await Promise.all(pids.map(cpuSeconds))
      totals[i].gateway += g1 - g0
      totals[i].orchestrator += o1 - o0
    }
  }
  return totals.map(t => ({ gateway: t.gateway / (rounds * jobs) * 1e6, orchestrator: t.orchestrator / (rounds * jobs) * 1e6 }))
}

async function meshWith (runnerUrl: string, token: string, chain: TestnetChain | undefined, transport: Transport = TRANSPORTS[0]): Promise<ProcessMesh> {
  const quic = transport === 'quic' ? ['--listen', QUIC_LOOPBACK, '--prefer-transport', 'quic'] : []
  return await startProcessMesh({
    dataDir: await mkdtemp(join(tmpdir(), 'shoal-bench-overhead-')),
    orchestrators: 1,
    models: () => [{ pipeline: PIPELINE, model_id: MODEL, warm: true, capacity: 1000, price_per_unit: '1', pixels_per_unit: '1', url: runnerUrl, token }],
    gatewayPort: 0,
    logLevel: 'warn',
    ...(chain === undefined ? {} : { payments: { chain, depositWei: 10n ** 21n, reserveWei: 10n ** 21n } }),
    // its histograms break the added latency down
    extraArgs: { bootstrap: quic, gateway: quic, orchestrator: () => [...quic, '--metrics-port', '0', ...(chain === undefined ? [] : ['--gas-price', '1000000000'])] }
  })
}

const dir = await mkdtemp(join(tmpdir(), 'shoal-bench-runner-'))
const token = 'bench-token'
const runner = spawnShoal('runner', ['runner', '--pipeline', PIPELINE, '--model-id', MODEL, '--host', '127.0.0.1', '--port', '0', '--max-queue', '100000', '--log-level', 'warn'], { logFile: join(dir, 'runner.log'), env: { AUTH_TOKEN: token } })
const listening = await runner.waitForEvent('ready').then(async () => await runner.waitForEvent('listening'))
const runnerUrl = String(listening.url)
const auth = { authorization: `Bearer ${token}` }
let chain: TestnetChain | undefined
let raw: Awaited<ReturnType<typeof rawPeer>> | undefined
const meshes: ProcessMesh[] = []
try {
  chain = await startTestnetChain({ blockTimeSec: 1 })
  const direct: Path = { url: runnerUrl, headers: auth }
  const perRound = Math.ceil(REQUESTS / ROUNDS)

  // A: the unpaid mesh alone (one per transport), beside a raw libp2p round trip between two processes
  console.log(`load average before: ${loadavg().map(l => l.toFixed(2)).join(' ')}; transports ${TRANSPORTS.join(', ')}`)
  const alones: ProcessMesh[] = []
  for (const t of TRANSPORTS) {
    const mesh = await meshWith(runnerUrl, token, undefined, t)
    meshes.push(mesh)
    alones.push(mesh)
  }
  const alone = alones[0]
  let beforeMesh: ProcessMesh | undefined
  if (BEFORE !== undefined) {
    process.env.SHOAL_CHILD_BIN = join(BEFORE, 'bin', 'shoal.js')
    try {
      beforeMesh = await meshWith(runnerUrl, token, undefined, TRANSPORTS[0])
    } finally {
      delete process.env.SHOAL_CHILD_BIN
    }
    meshes.push(beforeMesh)
  }
  const raws = await Promise.all(TRANSPORTS.map(rawPeer))
  const floor = await floorGateway(raws[0].addr, TRANSPORTS[0])
  raw = { addr: raws[0].addr, roundTrip: raws[0].roundTrip, stop: async () => { floor.stop(); for (const r of raws) await r.stop() } }
  const rawSamples: number[][] = TRANSPORTS.map(() => [])
  // the paths, by index: direct, one mesh per transport, the floor, the before mesh
  const phaseA = [direct, ...alones.map(m => ({ url: m.gateway.url, headers: {} })), { url: floor.url, headers: {} }, ...(beforeMesh === undefined ? [] : [{ url: beforeMesh.gateway.url, headers: {} }])]
  const FLOOR = alones.length + 1
  const BEFORE_AT = FLOOR + 1
  await warmUp(phaseA)
  for (const r of raws) for (let lane = 0; lane < CONCURRENCY; lane++) for (let i = 0; i < Math.ceil(WARMUP / CONCURRENCY); i++) await r.roundTrip(lane)
  const orchestratorMetrics = alone.orchestrators[0].metricsUrl
  if (orchestratorMetrics === undefined) throw new Error('the orchestrator serves no metrics')
  const before = { gateway: await scrape(alone.gateway.url), orchestrator: await scrape(orchestratorMetrics) }
  const samplesA: number[][] = phaseA.map(() => [])
  for (let round = 0; round < ROUNDS; round++) {
    // one round of each path at a time, the raw round trips taking their turn too
    const got = await latencySamples(phaseA, 1, perRound, 0)
    got.forEach((g, i) => samplesA[i].push(...g))
    for (const [i, r] of raws.entries()) for (let n = 0; n < perRound; n++) rawSamples[i].push(await r.roundTrip())
  }
  const after = { gateway: await scrape(alone.gateway.url), orchestrator: await scrape(orchestratorMetrics) }
  const summariesA = samplesA.map(summary)
  const [directA, meshA] = summariesA
  const otherMeshesA = summariesA.slice(2, FLOOR)
  const [rawA, ...otherRawsA] = rawSamples.map(summary)
  const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length
  const gw = (name: string): number => meanMs(before.gateway, after.gateway, name)
  const httpMs = gw('shoal_gateway_request_duration_seconds')
  const job = gw('shoal_ai_client_job_duration_seconds')
  const toHead = gw('shoal_ai_client_time_to_head_seconds')
  const served = meanMs(before.orchestrator, after.orchestrator, 'shoal_ai_server_job_duration_seconds')
  const runnerMean = mean(samplesA[0])
  const rawMean = mean(rawSamples[0])
  // means over the c=1 rounds, each span inside the one above it; the orchestrator writes
  // ResultHead, the result and Final in one flush, so all three arrive together
  const breakdown = {
    'gateway HTTP request (fastify, whole)': httpMs,
    '  its HTTP layer, parsing, dispatch and reply, outside the /shoal/ai job': httpMs - job,
    '  /shoal/ai job (send to Final, receipt checked)': job,
    '    to ResultHead': toHead,
    '      libp2p round trip and framing, both sides (to head - orchestrator)': toHead - served,
    '        of it a raw libp2p round trip (mean)': rawMean,
    '      orchestrator: JobHeader to Final': served,
    '        its own work (minus the runner call)': served - runnerMean,
    '        runner call (runner direct, mean)': runnerMean,
    '    ResultHead to Final: result, Final, receipt check (gateway)': job - toHead
  }

  // CPU per job, sequential, the current mesh and the before mesh taking turns
  const cpu = await cpuPerJob([alone, ...(beforeMesh === undefined ? [] : [beforeMesh])], ROUNDS, perRound)

  // c=N: every path and the raw round trips N at a time, in alternating bursts
  const latenciesN: number[][] = phaseA.map(() => [])
  const rawLatenciesN: number[][] = raws.map(() => [])
  const rates: number[][] = phaseA.map(() => [])
  for (let round = 0; round < ROUNDS; round++) {
    const got = await burstRates(phaseA, 1, latenciesN)
    got.forEach((g, i) => rates[i].push(...g))
    for (const [i, r] of raws.entries()) await burstOf(async (lane) => await r.roundTrip(lane), rawLatenciesN[i])
  }
  const medianRates = rates.map(median)
  const [directRate, meshRate] = medianRates
  const otherMeshRates = medianRates.slice(2, FLOOR)
  const summariesN = latenciesN.map(summary)
  const [directN, meshN] = summariesN
  const otherMeshesN = summariesN.slice(2, FLOOR)
  const [rawN, ...otherRawsN] = rawLatenciesN.map(summary)
  for (const m of alones) await m.stop()
  await beforeMesh?.stop()
  await raw.stop()
  raw = undefined

  // B: unpaid and paid side by side
  const none = { p50: NaN, p99: NaN }
  let [directB, freeB, paidB] = [none, none, none]
  let [freeRateB, paidRateB] = [NaN, NaN]
  if (PAYMENTS) {
    const free = await meshWith(runnerUrl, token, undefined)
    meshes.push(free)
    const paid = await meshWith(runnerUrl, token, chain)
    meshes.push(paid)
    const phaseB = [direct, { url: free.gateway.url, headers: {} }, { url: paid.gateway.url, headers: {} }];
    [directB, freeB, paidB] = (await latencySamples(phaseB, ROUNDS, perRound)).map(summary);
    [, freeRateB, paidRateB] = (await burstRates(phaseB, ROUNDS)).map(median)
  }

  const added = { p50: meshA.p50 - directA.p50, p99: meshA.p99 - directA.p99 }
  const addedFreeB = { p50: freeB.p50 - directB.p50, p99: freeB.p99 - directB.p99 }
  const addedPaid = { p50: paidB.p50 - directB.p50, p99: paidB.p99 - directB.p99 }
  const row = (r: { p50: number, p99: number }, rate: number): Record<string, number> => ({ 'p50 ms': +r.p50.toFixed(3), 'p99 ms': +r.p99.toFixed(3), 'jobs/s': Math.round(rate) })
  const rowN = (r: { p50: number, p99: number }): Record<string, number> => ({ [`c=${CONCURRENCY} p50 ms`]: +r.p50.toFixed(3), [`c=${CONCURRENCY} p99 ms`]: +r.p99.toFixed(3) })
  const rows: Record<string, Record<string, number>> = {
    [`A: raw libp2p round trip (two processes, ${TRANSPORTS[0]})`]: { ...row(rawA, NaN), ...rowN(rawN) },
    'A: runner direct (baseline)': { ...row(directA, directRate), ...rowN(directN) },
    [`A: gateway + orchestrator (${TRANSPORTS[0]})`]: { ...row(meshA, meshRate), ...rowN(meshN) },
    [`A: floor: node:http + one raw libp2p hop (${TRANSPORTS[0]})`]: { ...row(summariesA[FLOOR], medianRates[FLOOR]), ...rowN(summariesN[FLOOR]) },
    ...(beforeMesh === undefined ? {} : { [`A: gateway + orchestrator, before (${TRANSPORTS[0]})`]: { ...row(summariesA[BEFORE_AT], medianRates[BEFORE_AT]), ...rowN(summariesN[BEFORE_AT]) } }),
    'B: runner direct': row(directB, NaN),
    'B: gateway + orchestrator': row(freeB, freeRateB),
    'B: gateway + orchestrator, payments on': row(paidB, paidRateB)
  }
  for (const [i, t] of TRANSPORTS.slice(1).entries()) {
    rows[`A: raw libp2p round trip (two processes, ${t})`] = { ...row(otherRawsA[i], NaN), ...rowN(otherRawsN[i]) }
    rows[`A: gateway + orchestrator (${t})`] = { ...row(otherMeshesA[i], otherMeshRates[i]), ...rowN(otherMeshesN[i]) }
  }
  console.table(rows)
  for (const [i, t] of TRANSPORTS.slice(1).entries()) {
    const m = otherMeshesA[i]
    console.log(`${t} : ${TRANSPORTS[0]} (A, same rounds): added p50 ${(m.p50 - directA.p50).toFixed(3)} vs ${added_(meshA, directA).toFixed(3)} ms, raw round trip p50 ${otherRawsA[i].p50.toFixed(3)} vs ${rawA.p50.toFixed(3)} ms, throughput ${(otherMeshRates[i] / meshRate).toFixed(2)}x`)
  }
  console.log(`load average after: ${loadavg().map(l => l.toFixed(2)).join(' ')}`)
  console.log(JSON.stringify({ requests: REQUESTS, warmup: WARMUP, rounds: ROUNDS, concurrency: CONCURRENCY, added, meshRate, addedFreeB, addedPaid, freeRateB, paidRateB }))
  console.log(`added latency through the mesh: p50 ${added.p50.toFixed(3)} ms (goal < 1), p99 ${added.p99.toFixed(3)} ms (goal < 5)`)
  const addedN = meshN.p50 - directN.p50
  console.log(`added p50 as a multiple of a raw libp2p round trip, c=1: ${added.p50.toFixed(3)} / ${rawA.p50.toFixed(3)} ms = ${(added.p50 / rawA.p50).toFixed(2)}x (goal <= 2x); c=${CONCURRENCY}: ${addedN.toFixed(3)} / ${rawN.p50.toFixed(3)} ms = ${(addedN / rawN.p50).toFixed(2)}x`)
  const floorA = summariesA[FLOOR]
  const floorN = summariesN[FLOOR]
  console.log(`the floor (its whole p50: the least an HTTP front plus one libp2p hop adds): c=1 ${floorA.p50.toFixed(3)} ms = ${(floorA.p50 / rawA.p50).toFixed(2)}x a raw round trip; c=${CONCURRENCY} ${floorN.p50.toFixed(3)} ms = ${(floorN.p50 / rawN.p50).toFixed(2)}x`)
  console.log(`added p50 as a multiple of the floor, c=1: ${added.p50.toFixed(3)} / ${floorA.p50.toFixed(3)} ms = ${(added.p50 / floorA.p50).toFixed(2)}x; c=${CONCURRENCY}: ${addedN.toFixed(3)} / ${floorN.p50.toFixed(3)} ms = ${(addedN / floorN.p50).toFixed(2)}x`)
  let beforeAdded: Record<string, number> | undefined
  if (beforeMesh !== undefined) {
    const b = summariesA[BEFORE_AT]
    const bN = summariesN[BEFORE_AT]
    beforeAdded = { p50: b.p50 - directA.p50, p50N: bN.p50 - directN.p50, rate: medianRates[BEFORE_AT] }
    console.log(`before (${BEFORE}), same rounds: added p50 c=1 ${beforeAdded.p50.toFixed(3)} ms = ${(beforeAdded.p50 / rawA.p50).toFixed(2)}x raw, ${(beforeAdded.p50 / floorA.p50).toFixed(2)}x floor (now ${added.p50.toFixed(3)} ms); c=${CONCURRENCY} ${beforeAdded.p50N.toFixed(3)} ms (now ${addedN.toFixed(3)}); ${Math.round(beforeAdded.rate)} jobs/s (now ${Math.round(meshRate)})`)
  }
  console.log('where the c=1 time through the mesh goes (means over the sampled rounds, ms):')
  console.table(Object.fromEntries(Object.entries(breakdown).map(([k, v]) => [k, { ms: +v.toFixed(3) }])))
  console.log(JSON.stringify({ raw: rawA, rawN, floor: floorA, floorN, ratio: added.p50 / rawA.p50, ratioN: addedN / rawN.p50, floorRatio: added.p50 / floorA.p50, floorRatioN: addedN / floorN.p50, addedN, before: beforeAdded, breakdown }))
  console.log(`throughput through one gateway: ${Math.round(meshRate)} jobs/s (goal >= 1000), ${(meshRate / directRate).toFixed(2)}x the runner alone`)
  const cpuText = (c: { gateway: number, orchestrator: number }): string => `gateway ${Math.round(c.gateway)}, orchestrator ${Math.round(c.orchestrator)}, both ${Math.round(c.gateway + c.orchestrator)}`
  console.log(`CPU per job (µs, user + system, sequential ${TRANSPORTS[0]}): ${cpuText(cpu[0])}` +
    (cpu[1] === undefined ? '' : `; before: ${cpuText(cpu[1])}; now / before ${((cpu[0].gateway + cpu[0].orchestrator) / (cpu[1].gateway + cpu[1].orchestrator)).toFixed(2)}x`))
  if (PAYMENTS) console.log(`payments on (B): added p50 ${addedPaid.p50.toFixed(3)} ms, ${(addedPaid.p50 / addedFreeB.p50).toFixed(2)}x the unpaid overhead beside it; throughput ${(paidRateB / freeRateB).toFixed(2)}x unpaid (goal: payments add at most 10%)`)
} finally {
  for (const m of meshes) await m.stop()
  await raw?.stop()
  await chain?.stop()
  await runner.stop()
  await agent.close()
}
process.exit(0)
