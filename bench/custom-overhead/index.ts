/**
 * bench/custom-overhead: what a custom capability route costs per request beside a
 * built-in pipeline of the same size. One runner (`shoal runner`, the noop model of
 * text-to-image, which runs nothing) answers both:
 *   1. straight to the runner's HTTP API (the baseline);
 *   2. through a gateway and an orchestrator as the pipeline: `POST /text-to-image`
 *      (the gateway validates the fields, the runner client encodes them again);
 *   3. the same runner declared as a custom capability (`url`), same JSON body, through
 *      Shoal's route `POST /capability/noop/text-to-image` (the body passes as bytes);
 *   4. the same through the reference's `POST /process/request/text-to-image` with its
 *      base64 `Livepeer` header.
 * One unpaid mesh (bootstrap, one orchestrator, a gateway), every node its own process on
 * loopback. The paths take turns round by round, each warmed up first. Prints p50/p99 per
 * path, the latency each adds over the runner, the custom routes against the pipeline,
 * jobs/s of bursts (the two mesh routes alternating), and the load average.
 *
 *   npm run bench:custom-overhead [-- requests concurrency warmup]
 */
import '../../src/p2p/polyfill.js'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { spawnShoal } from '../../src/testnet/child.js'
import { startProcessMesh, type ProcessMesh } from '../../src/testnet/process-mesh.js'
import { percentile } from '../percentile.js'

const REQUESTS = Number(process.argv[2] ?? 1000)
const CONCURRENCY = Number(process.argv[3] ?? 16)
const WARMUP = Number(process.argv[4] ?? 500)
const ROUNDS = 5
const PIPELINE = 'text-to-image'
const MODEL = 'shoal/noop'
const BODY = JSON.stringify({ prompt: 'a benchmark', model_id: MODEL, width: 64, height: 64 })
const agent = new Agent({ connections: CONCURRENCY * 2, pipelining: 1 })

interface Path { name: string, url: string, headers: Record<string, string> }

async function once (path: Path): Promise<number> {
  const started = performance.now()
  const res = await request(path.url, { method: 'POST', body: BODY, headers: { 'content-type': 'application/json', ...path.headers }, dispatcher: agent })
  await res.body.arrayBuffer()
  if (res.statusCode !== 200) throw new Error(`${path.name} answered ${res.statusCode}`)
  return performance.now() - started
}

async function burst (path: Path): Promise<number> {
  let next = 0
  const started = performance.now()
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < REQUESTS) { next++; await once(path) }
  }))
  return REQUESTS / ((performance.now() - started) / 1000)
}

const median = (values: number[]): number => percentile(values, 50)
const fmt = (n: number): string => n.toFixed(3)

const dir = await mkdtemp(join(tmpdir(), 'shoal-bench-custom-'))
const token = 'bench-token'
const runner = spawnShoal('runner', ['runner', '--pipeline', PIPELINE, '--model-id', MODEL, '--host', '127.0.0.1', '--port', '0', '--max-queue', '100000', '--log-level', 'warn'], { logFile: join(dir, 'runner.log'), env: { AUTH_TOKEN: token } })
const listening = await runner.waitForEvent('ready').then(async () => await runner.waitForEvent('listening'))
const runnerUrl = String(listening.url)
let mesh: ProcessMesh | undefined
try {
  const capabilities = join(dir, 'capabilities.json')
  await writeFile(capabilities, JSON.stringify([{ name: 'noop', description: 'the noop runner as a custom capability', url: runnerUrl, token, capacity: 1000 }]))
  mesh = await startProcessMesh({
    dataDir: dir,
    orchestrators: 1,
    models: () => [{ pipeline: PIPELINE, model_id: MODEL, warm: true, capacity: 1000, url: runnerUrl, token }],
    gatewayPort: 0,
    logLevel: 'warn',
    extraArgs: { orchestrator: () => ['--custom-capabilities', capabilities] }
  })
  const gw = mesh.gateway.url
  const livepeer = Buffer.from(JSON.stringify({ capability: 'noop', request: '{}', timeout_seconds: 30 })).toString('base64')
  const paths: Path[] = [
    { name: 'runner direct', url: `${runnerUrl}/${PIPELINE}`, headers: { authorization: `Bearer ${token}` } },
    { name: 'pipeline route', url: `${gw}/${PIPELINE}`, headers: {} },
    { name: 'custom route', url: `${gw}/capability/noop/${PIPELINE}`, headers: {} },
    { name: 'BYOC route', url: `${gw}/process/request/${PIPELINE}`, headers: { livepeer } }
  ]
  // the capability is listed once the orchestrator's announcement reached the gateway
  for (let i = 0; i < 100; i++) {
    const { capabilities: listed } = await (await fetch(`${gw}/capabilities`)).json() as { capabilities: unknown[] }
    if (listed.length > 0) break
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  for (const path of paths) for (let i = 0; i < WARMUP; i++) await once(path)
  const load = loadavg()[0]
  const samples: number[][] = paths.map(() => [])
  const perRound = Math.ceil(REQUESTS / ROUNDS)
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, path] of paths.entries()) for (let n = 0; n < perRound; n++) samples[i].push(await once(path))
  }
  const p50 = samples.map(s => percentile(s, 50))
  const p99 = samples.map(s => percentile(s, 99))
  console.log(`sequential latency, ${perRound * ROUNDS} requests per path in ${ROUNDS} alternating rounds (load average ${load.toFixed(2)} at start, ${loadavg()[0].toFixed(2)} now)`)
  for (const [i, path] of paths.entries()) {
    console.log(`  ${path.name.padEnd(15)} p50 ${fmt(p50[i])} ms  p99 ${fmt(p99[i])} ms${i === 0 ? '' : `  adds p50 ${fmt(p50[i] - p50[0])} ms`}`)
  }
  const added = (i: number): number => p50[i] - p50[0]
  console.log(`  custom route added latency / pipeline route added latency: ${(added(2) / added(1)).toFixed(2)} (p50 difference ${fmt(p50[2] - p50[1])} ms)`)
  console.log(`  BYOC route   added latency / pipeline route added latency: ${(added(3) / added(1)).toFixed(2)} (p50 difference ${fmt(p50[3] - p50[1])} ms)`)

  const rates: number[][] = [[], []]
  for (let round = 0; round < 3; round++) {
    rates[0].push(await burst(paths[1]))
    rates[1].push(await burst(paths[2]))
  }
  const [pipelineRate, customRate] = rates.map(median)
  console.log(`throughput, ${REQUESTS} requests x ${CONCURRENCY} concurrent, median of 3 alternating bursts: pipeline ${pipelineRate.toFixed(0)} jobs/s, custom ${customRate.toFixed(0)} jobs/s (ratio ${(customRate / pipelineRate).toFixed(2)}); load average ${loadavg()[0].toFixed(2)}`)
} finally {
  await mesh?.stop()
  await runner.stop()
  await agent.close()
}
