/**
 * bench/live: live video-to-video at 256x256 and 512x512, 30 fps (one MPEG-TS segment per
 * second), through the mesh (gateway -> /shoal/live -> orchestrator -> CPU live runner)
 * and through a runner alone (trickle channels straight to a `createCpuRunnerServer`) in
 * the same run. Prints per size: sustained output fps, per-segment latency (input segment
 * published -> its output segment available) p50/p99 for both paths and the mesh's added
 * latency, CPU seconds per process, and RSS at start and end (memory flat over the run).
 *
 *   npm run build && node --import tsx bench/live/index.ts [seconds=60] [sizes=256,512]
 */
import '../../src/p2p/polyfill.js'
import { readFile, mkdtemp, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { LIVE_MODEL_ID } from '../../src/cpu-runner/live/model.js'
import { createCpuRunnerServer } from '../../src/cpu-runner/server.js'
import { startTrickleServer } from '../../src/protocols/live/trickle/server.js'
import { tricklePublish, trickleSubscribe } from '../../src/protocols/live/trickle/client.js'
import { startProcessMesh } from '../../src/testnet/process-mesh.js'
import { personSegments } from '../../test/protocols/live/media.js'
import { inspectSegment } from '../../src/protocols/live/mpegts.js'

const seconds = Number(process.argv[2] ?? 60)
const sizes = (process.argv[3] ?? '256,512').split(',').map(Number)
const FPS = 30

const pct = (xs: number[], p: number): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN }

async function cpuSeconds (pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(f[11]) + Number(f[12])) / 100
}
async function rssMb (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
}

/** Publishes one segment per second and measures when each output appears. */
async function drive (publish: (seq: number, data: Uint8Array) => Promise<void>, outputs: AsyncIterable<{ data: Uint8Array }>, segments: Uint8Array[]): Promise<{ latencies: number[], fps: number }> {
  const sentAt: number[] = []
  const latencies: number[] = []
  let frames = 0
  const t0 = performance.now()
  const reading = (async () => {
    let k = 0
    for await (const { data } of outputs) {
      latencies.push(performance.now() - sentAt[k++])
      frames += inspectSegment(data)?.frames ?? 0
      if (k >= segments.length) break
    }
  })()
  for (let i = 0; i < segments.length; i++) {
    const due = t0 + i * 1000
    if (performance.now() < due) await new Promise(resolve => setTimeout(resolve, due - performance.now()))
    sentAt[i] = performance.now()
    await publish(i, segments[i])
  }
  // a runner that does not keep up skips segments (it jumps to the live edge): stop waiting 20 s after the last input
  await Promise.race([reading, new Promise(resolve => setTimeout(resolve, 20_000))])
  if (latencies.length < segments.length) console.log(`  (${latencies.length} of ${segments.length} segments came back: the model did not keep up; latencies pair outputs with inputs in order and overstate)`)
  return { latencies, fps: frames / ((performance.now() - t0 - latencies[0]) / 1000 + 1) }
}

const dir = await mkdtemp(join(tmpdir(), 'shoal-bench-live-'))
const mesh = await startProcessMesh({ dataDir: dir, orchestrators: 1, models: () => [{ pipeline: 'live-video-to-video', model_id: LIVE_MODEL_ID, warm: true, capacity: 1, price_per_unit: '1', pixels_per_unit: '1' }], gatewayPort: 0, logLevel: 'warn' })
const trickle = await startTrickleServer()
const runner = createCpuRunnerServer({ pipeline: 'live-video-to-video', modelId: LIVE_MODEL_ID, port: 0 })
await runner.start()
try {
  console.log(`bench/live: ${seconds} s per size at ${FPS} fps, load average ${loadavg().map(l => l.toFixed(2)).join(' ')}`)
  for (const size of sizes) {
    const segments = await personSegments({ size, fps: FPS, seconds })
    // the runner alone
    const id = `alone-${size}`
    for (const n of ['in', 'out', 'control', 'events']) trickle.store.create(`${id}-${n}`)
    const res = await fetch(`${runner.url}/live-video-to-video`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model_id: LIVE_MODEL_ID, subscribe_url: trickle.channelUrl(`${id}-in`), publish_url: trickle.channelUrl(`${id}-out`), control_url: trickle.channelUrl(`${id}-control`), events_url: trickle.channelUrl(`${id}-events`), params: {} }) })
    await res.text()
    const alone = await drive(async (seq, data) => { await tricklePublish(trickle.channelUrl(`${id}-in`), seq, data) }, trickleSubscribe(trickle.channelUrl(`${id}-out`), { from: 0 }), segments)
    trickle.store.delete(`${id}-in`)
    // through the mesh
    const url = mesh.gateway.url
    const stream = `bench-${size}`
    const pids = { gateway: mesh.gateway.pid, orchestrator: mesh.orchestrators[0].pid }
    const cpu0 = { gateway: await cpuSeconds(pids.gateway), orchestrator: await cpuSeconds(pids.orchestrator) }
    const rss0 = { gateway: await rssMb(pids.gateway), orchestrator: await rssMb(pids.orchestrator) }
    await (await fetch(`${url}/live/video-to-video/${stream}/start`, { method: 'POST' })).text()
    const outputs = (async function * () {
      for (let seq = 0; ; seq++) {
        const r = await fetch(`${url}/live/video-to-video/${stream}/out/${seq}`)
        if (r.status !== 200) return
        yield { data: new Uint8Array(await r.arrayBuffer()) }
      }
    })()
    const viaMesh = await drive(async (seq, data) => {
      const r = await fetch(`${url}/live/video-to-video/${stream}/in/${seq}`, { method: 'POST', body: data, headers: { 'content-type': 'video/mp2t' } })
      await r.text()
    }, outputs, segments)
    await (await fetch(`${url}/live/video-to-video/${stream}/stop`, { method: 'POST' })).text()
    const cpu1 = { gateway: await cpuSeconds(pids.gateway), orchestrator: await cpuSeconds(pids.orchestrator) }
    const rss1 = { gateway: await rssMb(pids.gateway), orchestrator: await rssMb(pids.orchestrator) }
    const p50 = [pct(alone.latencies, 0.5), pct(viaMesh.latencies, 0.5)]
    const p99 = [pct(alone.latencies, 0.99), pct(viaMesh.latencies, 0.99)]
    console.log(`${size}x${size}: output fps runner ${alone.fps.toFixed(1)}, mesh ${viaMesh.fps.toFixed(1)} (input ${FPS})`)
    console.log(`  segment latency p50 runner ${p50[0].toFixed(0)} ms, mesh ${p50[1].toFixed(0)} ms (added ${(p50[1] - p50[0]).toFixed(0)} ms); p99 runner ${p99[0].toFixed(0)} ms, mesh ${p99[1].toFixed(0)} ms (added ${(p99[1] - p99[0]).toFixed(0)} ms)`)
    console.log(`  CPU s over the run: gateway ${(cpu1.gateway - cpu0.gateway).toFixed(1)}, orchestrator ${(cpu1.orchestrator - cpu0.orchestrator).toFixed(1)}; RSS MB gateway ${rss0.gateway.toFixed(0)} -> ${rss1.gateway.toFixed(0)}, orchestrator ${rss0.orchestrator.toFixed(0)} -> ${rss1.orchestrator.toFixed(0)}`)
  }
  console.log(`load average at the end ${loadavg().map(l => l.toFixed(2)).join(' ')}`)
} finally {
  await runner.stop()
  await trickle.stop()
  await mesh.stop()
  await rm(dir, { recursive: true, force: true })
}
