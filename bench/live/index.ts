/**
 * bench/live: live video-to-video through the mesh (gateway -> /shoal/live -> orchestrator
 * -> CPU live runner process) against the same runner alone (a `shoal runner` process fed
 * over trickle from here), in the same run, at each size.
 *
 * The CPU model may not keep 30 fps on a small machine, and a runner that falls behind
 * skips to the live edge: latencies then measure a backlog, not the mesh. So each size
 * starts with a short probe of the runner alone (segments sent one after the other, each
 * once the previous came back: its throughput), and the input rate is set to a share of
 * that (`--share`, 0.8) unless `--fps` names one. Then the runner alone and the mesh each
 * get `--seconds` of input at that rate, one segment (one second of video) per second,
 * both sessions open throughout. `--mode paired` (the default): every input segment goes
 * to both at the same moment (probed that way too), so load from elsewhere on a shared
 * machine falls on both alike and the mesh's added latency is taken per segment;
 * `--mode turns`: they take turns by rounds of `--round-seconds`, each with the machine
 * to itself. Both paths have the gateway's flow control (3 segments in flight).
 *
 * Prints per size: sustained output fps and its ratio to the input (goal >= 0.95), the
 * per-segment latency (input segment published -> its output segment available) p50 and
 * p99 for both and what the mesh adds (goals < 30 ms p50, < 100 ms p99), CPU seconds per
 * process (the runner's with its ffmpeg children) and the relay's per segment, RSS after
 * warm-up and at the end (memory flat), and the load average.
 *
 *   npm run build && node --import tsx bench/live/index.ts [--seconds 60] [--sizes 256,512] [--fps auto|N] [--share 0.8] [--probe-seconds 8] [--mode paired|turns] [--round-seconds 15]
 */
import '../../src/p2p/polyfill.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { LIVE_MODEL_ID } from '../../src/cpu-runner/live/model.js'
import { inspectSegment } from '../../src/protocols/live/mpegts.js'
import { startTrickleServer, type TrickleServer } from '../../src/protocols/live/trickle/server.js'
import { trickleClose, trickleSubscribe } from '../../src/protocols/live/trickle/client.js'
import { DEFAULT_MAX_SEGMENTS_IN_FLIGHT } from '../../src/protocols/live/constants.js'
import { spawnShoal } from '../../src/testnet/child.js'
import { startProcessMesh } from '../../src/testnet/process-mesh.js'
import { cpuSeconds, descendants, processName, rssMiB } from '../../test/helpers/processes.js'
import { personSegments } from '../../test/protocols/live/media.js'
import { percentile } from '../percentile.js'

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    sizes: { type: 'string', default: '256,512' },
    fps: { type: 'string', default: 'auto' },
    share: { type: 'string', default: '0.8' },
    'probe-seconds': { type: 'string', default: '8' },
    'round-seconds': { type: 'string', default: '15' },
    mode: { type: 'string', default: 'paired' }
  }
})
const seconds = Number(args.seconds)
const sizes = args.sizes.split(',').map(Number)
const share = Number(args.share)
const probeSeconds = Number(args['probe-seconds'])
const roundSeconds = Number(args['round-seconds'])
const paired = args.mode !== 'turns'
if (args.mode !== 'paired' && args.mode !== 'turns') throw new Error('--mode is paired or turns')
const MAX_FPS = 30
/** segments at the start left out of latencies and fps: session start, first JIT and caches */
const WARMUP_SEGMENTS = 2
const BASE = '/live/video-to-video'

const load = (): string => loadavg().map(l => l.toFixed(2)).join(' ')
const ms = (x: number): string => Number.isFinite(x) ? `${x.toFixed(0)} ms` : 'n/a'

interface Output { seq: number, at: number, frames: number }
interface Path {
  /** publishes input segment `seq` (resolves once taken) */
  publish: (seq: number, data: Uint8Array) => Promise<void>
  /** output segments in order from 0 */
  outputs: (signal: AbortSignal) => AsyncIterable<Uint8Array>
}
type Pids = Record<string, { pid: number, children?: boolean }>

/** One path's session over the run: what was sent when, what came out when, CPU and RSS of its processes. */
class Measured {
  readonly sentAt: number[] = []
  readonly outputs: Output[] = []
  /** output spans of each round, for the sustained fps: [frames after the round's first output, seconds] */
  readonly spans: Array<[number, number]> = []
  readonly cpu: Record<string, number> = {}
  rssWarm: Record<string, number> = {}
  rssEnd: Record<string, number> = {}
  framesIn = 0
  /** seconds its rounds took */
  wall = 0
  private readonly controller = new AbortController()
  private waiter: (() => void) | undefined
  private readonly reading: Promise<void>

  constructor (readonly path: Path, readonly pids: Pids) {
    for (const name of Object.keys(pids)) this.cpu[name] = 0
    this.reading = (async () => {
      let seq = 0
      for await (const data of path.outputs(this.controller.signal)) {
        this.outputs.push({ seq: seq++, at: performance.now(), frames: inspectSegment(data)?.frames ?? 0 })
        this.waiter?.()
      }
    })().catch((err: unknown) => { if (!this.controller.signal.aborted) throw err })
  }

  /**
   * Open loop: segments [from, to) at one per second (later only when publishing the
   * previous one waited: backpressure), then waits for their outputs. A runner that fell
   * behind and skipped segments is not waited for past 15 s.
   */
  async round (segments: Uint8Array[], from: number, to: number): Promise<void> {
    const cpu0 = await cpuOf(this.pids)
    const t0 = performance.now()
    for (let i = from; i < to; i++) {
      const due = t0 + (i - from) * 1000
      if (performance.now() < due) await new Promise(resolve => setTimeout(resolve, due - performance.now()))
      this.sentAt[i] = performance.now()
      await this.path.publish(i, segments[i])
      this.framesIn += inspectSegment(segments[i])?.frames ?? 0
    }
    const deadline = performance.now() + 15_000
    while (this.outputs.length < to && performance.now() < deadline) {
      await new Promise<void>(resolve => { this.waiter = resolve; setTimeout(resolve, 250) })
    }
    const cpu1 = await cpuOf(this.pids)
    this.wall += (performance.now() - t0) / 1000
    for (const name of Object.keys(this.pids)) this.cpu[name] += cpu1[name] - cpu0[name]
    const mine = this.outputs.filter(o => o.seq >= Math.max(from, WARMUP_SEGMENTS) && o.seq < to)
    if (mine.length >= 2) this.spans.push([mine.slice(1).reduce((n, o) => n + o.frames, 0), (mine[mine.length - 1].at - mine[0].at) / 1000])
  }

  /** input segment `seq` published -> its output available, ms; undefined when it did not come back */
  latencyOf (seq: number): number | undefined {
    const out = this.outputs[seq]
    return out === undefined || this.sentAt[seq] === undefined ? undefined : out.at - this.sentAt[seq]
  }

  summary (fpsIn: number): { fps: number, ratio: number, p50: number, p99: number, got: number, sent: number } {
    const latencies = this.outputs.filter(o => o.seq >= WARMUP_SEGMENTS && this.sentAt[o.seq] !== undefined).map(o => o.at - this.sentAt[o.seq])
    const frames = this.spans.reduce((n, [f]) => n + f, 0)
    const span = this.spans.reduce((n, [, s]) => n + s, 0)
    const fps = frames / span
    return { fps, ratio: fps / fpsIn, p50: percentile(latencies, 50), p99: percentile(latencies, 99), got: this.outputs.length, sent: this.sentAt.length }
  }

  async close (): Promise<void> {
    this.controller.abort()
    this.waiter?.()
    await this.reading
  }
}

/** Closed loop: each segment once the previous output came back; the runner's throughput in frames per second. */
async function probe (path: Path, segments: Uint8Array[]): Promise<number> {
  const controller = new AbortController()
  const outputs = path.outputs(controller.signal)[Symbol.asyncIterator]()
  let frames = 0
  let from = 0
  for (let i = 0; i < segments.length; i++) {
    await path.publish(i, segments[i])
    const out = await outputs.next()
    if (out.done === true) throw new Error('the probe\'s output ended early')
    // the first segment pays for the session's start
    if (i === 0) from = performance.now()
    else frames += inspectSegment(out.value)?.frames ?? 0
  }
  const fps = frames / ((performance.now() - from) / 1000)
  controller.abort()
  await outputs.return?.()
  return fps
}

/**
 * A runner alone: a `shoal runner` process fed from a trickle server in this process, as
 * the orchestrator feeds its runner, with the gateway's flow control (at most
 * `DEFAULT_MAX_SEGMENTS_IN_FLIGHT` segments published and not yet read by the runner), so
 * that both paths queue alike and a runner behind never skips segments (the channel keeps
 * more than that): output k is the answer to input k on both paths.
 */
function alonePath (trickle: TrickleServer, runnerUrl: string, id: string): Path & { start: () => Promise<void>, stop: () => Promise<void> } {
  const url = (n: string): string => trickle.channelUrl(`${id}-${n}`)
  let read = 0
  let wake: (() => void) | undefined
  return {
    async start () {
      for (const n of ['in', 'out', 'control', 'events']) trickle.store.create(`${id}-${n}`)
      const res = await fetch(`${runnerUrl}/live-video-to-video`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model_id: LIVE_MODEL_ID, subscribe_url: url('in'), publish_url: url('out'), control_url: url('control'), events_url: url('events'), params: {} }) })
      if (res.status !== 200) throw new Error(`the runner answered ${res.status}: ${await res.text()}`)
      await res.text()
    },
    async publish (seq, data) {
      while (seq - read >= DEFAULT_MAX_SEGMENTS_IN_FLIGHT) await new Promise<void>(resolve => { wake = resolve })
      const channel = trickle.store.get(`${id}-in`)
      if (channel === undefined) throw new Error('the input channel is gone')
      const segment = channel.publish(seq)
      segment.onRead = () => { read++; wake?.() }
      segment.append(data)
      segment.finish()
    },
    outputs: (signal) => (async function * () { for await (const { data } of trickleSubscribe(url('out'), { from: 0, signal })) yield data })(),
    async stop () {
      await trickleClose(url('in'))
      for (const n of ['in', 'out', 'control', 'events']) trickle.store.delete(`${id}-${n}`)
    }
  }
}

/** The mesh: trickle in and out at the gateway. */
function meshPath (gatewayUrl: string, stream: string): Path & { start: () => Promise<void>, stop: () => Promise<void> } {
  const base = `${gatewayUrl}${BASE}/${stream}`
  return {
    async start () {
      const res = await fetch(`${base}/start`, { method: 'POST' })
      if (res.status !== 200) throw new Error(`start answered ${res.status}: ${await res.text()}`)
      await res.text()
    },
    async publish (seq, data) {
      const res = await fetch(`${base}/in/${seq}`, { method: 'POST', body: data, headers: { 'content-type': 'video/mp2t' } })
      if (res.status !== 200) throw new Error(`publish answered ${res.status}: ${await res.text()}`)
      await res.text()
    },
    outputs: (signal) => (async function * () {
      for (let seq = 0; ; seq++) {
        const res = await fetch(`${base}/out/${seq}`, { signal })
        if (res.status !== 200) { await res.arrayBuffer(); return }
        yield new Uint8Array(await res.arrayBuffer())
      }
    })(),
    async stop () { await (await fetch(`${base}/stop`, { method: 'POST' })).text() }
  }
}

async function cpuOf (pids: Pids): Promise<Record<string, number>> {
  return Object.fromEntries(await Promise.all(Object.entries(pids).map(async ([name, p]) => [name, await cpuSeconds(p.pid, { children: p.children === true })] as const)))
}
async function rssOf (pids: Pids): Promise<Record<string, number>> {
  return Object.fromEntries(await Promise.all(Object.entries(pids).map(async ([name, p]) => [name, await rssMiB(p.pid)] as const)))
}

const describeCpu = (cpu: Record<string, number>, wall: number): string => Object.entries(cpu).map(([n, s]) => `${n} ${s.toFixed(1)} s (${(100 * s / wall).toFixed(0)}%)`).join(', ')
const describeRss = (m: Measured): string => Object.keys(m.pids).map(n => `${n} ${m.rssWarm[n].toFixed(0)} -> ${m.rssEnd[n].toFixed(0)}`).join(', ')

const dir = await mkdtemp(join(tmpdir(), 'shoal-bench-live-'))
console.log(`bench/live: ${seconds} s per size and path, ${paired ? 'both at once (each input segment published to both, latencies paired)' : `in rounds of ${roundSeconds} s taking turns`}, sizes ${sizes.join(', ')}, input fps ${args.fps === 'auto' ? `${share} of the runner alone's probed throughput (at most ${MAX_FPS})` : args.fps}; load average ${load()}`)
const mesh = await startProcessMesh({ dataDir: dir, orchestrators: 1, models: () => [{ pipeline: 'live-video-to-video', model_id: LIVE_MODEL_ID, warm: true, capacity: 1, price_per_unit: '1', pixels_per_unit: '1' }], gatewayPort: 0, logLevel: 'warn' })
const runner = spawnShoal('runner-alone', ['runner', '--pipeline', 'live-video-to-video', '--model-id', LIVE_MODEL_ID, '--port', '0', '--allow-no-token', '--log-level', 'warn'], { logFile: join(dir, 'runner-alone.log') })
const trickle = await startTrickleServer()
try {
  const runnerUrl = String((await runner.waitForEvent('listening', { timeoutMs: 120_000 })).url)
  await runner.waitForEvent('ready', { timeoutMs: 120_000 })
  const orchestratorPid = mesh.orchestrators[0].pid
  const meshRunnerPid = (await Promise.all((await descendants(orchestratorPid)).map(async pid => ({ pid, name: await processName(pid) })))).find(p => p.name !== 'ffmpeg')?.pid
  if (meshRunnerPid === undefined) throw new Error('the orchestrator runs no runner process')

  for (const size of sizes) {
    let fpsIn = Number(args.fps)
    if (args.fps === 'auto') {
      // closed loop; in paired mode both at once, as they will run
      const probeSegments = await personSegments({ size, fps: MAX_FPS, seconds: probeSeconds })
      const probes = [alonePath(trickle, runnerUrl, `probe-${size}`), ...(paired ? [meshPath(mesh.gateway.url, `probe-${size}`)] : [])]
      for (const p of probes) await p.start()
      const throughputs = await Promise.all(probes.map(async p => await probe(p, probeSegments)))
      for (const p of probes) await p.stop()
      fpsIn = Math.max(1, Math.min(MAX_FPS, Math.floor(throughputs[0] * share)))
      console.log(`${size}x${size}: the runner alone keeps up with ${throughputs[0].toFixed(1)} fps${paired ? ` (the mesh beside it ${throughputs[1].toFixed(1)} fps)` : ''} (closed loop, ${probeSeconds} s at ${MAX_FPS} fps): input at ${fpsIn} fps; load average ${load()}`)
    }
    const segments = await personSegments({ size, fps: fpsIn, seconds })

    // both sessions open for the whole run
    const alone = alonePath(trickle, runnerUrl, `alone-${size}`)
    const viaMesh = meshPath(mesh.gateway.url, `bench-${size}`)
    await alone.start()
    await viaMesh.start()
    const a = new Measured(alone, { runner: { pid: runner.pid, children: true }, 'bench (trickle server)': { pid: process.pid } })
    const m = new Measured(viaMesh, { gateway: { pid: mesh.gateway.pid }, orchestrator: { pid: orchestratorPid }, runner: { pid: meshRunnerPid, children: true } })
    const loads: string[] = []
    if (paired) {
      // each segment to both at the same moment: load from elsewhere falls on both alike
      const sampler = setInterval(() => { loads.push(loadavg()[0].toFixed(2)) }, 15_000)
      const warm = setTimeout(() => { void (async () => { for (const path of [a, m]) path.rssWarm = await rssOf(path.pids) })() }, Math.min(10_000, seconds * 500))
      try {
        await Promise.all([a.round(segments, 0, segments.length), m.round(segments, 0, segments.length)])
      } finally {
        clearInterval(sampler)
        clearTimeout(warm)
      }
    } else {
      // they take turns, a round each
      for (let from = 0; from < segments.length; from += roundSeconds) {
        const to = Math.min(segments.length, from + roundSeconds)
        for (const path of [a, m]) {
          await path.round(segments, from, to)
          if (from === 0) path.rssWarm = await rssOf(path.pids)
        }
        loads.push(loadavg()[0].toFixed(2))
      }
    }
    for (const path of [a, m]) path.rssEnd = await rssOf(path.pids)
    await Promise.all([a.close(), m.close()])
    await alone.stop()
    await viaMesh.stop()

    const sa = a.summary(fpsIn)
    const sm = m.summary(fpsIn)
    console.log(`${size}x${size} at ${fpsIn} fps in, ${segments.length} segments of 1 s per path:`)
    console.log(`  output fps: runner alone ${sa.fps.toFixed(2)} (x${sa.ratio.toFixed(3)} of input, ${sa.got}/${sa.sent} segments out), mesh ${sm.fps.toFixed(2)} (x${sm.ratio.toFixed(3)}, ${sm.got}/${sm.sent}); goal >= x0.95`)
    console.log(`  segment latency p50: runner alone ${ms(sa.p50)}, mesh ${ms(sm.p50)}, added ${ms(sm.p50 - sa.p50)} (goal < 30 ms)`)
    console.log(`  segment latency p99: runner alone ${ms(sa.p99)}, mesh ${ms(sm.p99)}, added ${ms(sm.p99 - sa.p99)} (goal < 100 ms)`)
    if (paired) {
      // the same input segment through both at once: the mesh's latency minus the runner alone's
      const diffs = segments.map((_, seq) => seq < WARMUP_SEGMENTS ? undefined : [m.latencyOf(seq), a.latencyOf(seq)]).filter((d): d is [number, number] => d !== undefined && d[0] !== undefined && d[1] !== undefined).map(([x, y]) => x - y)
      console.log(`  added per segment (paired, ${diffs.length} segments): p50 ${ms(percentile(diffs, 50))}, p99 ${ms(percentile(diffs, 99))} (goals < 30 ms, < 100 ms)`)
    }
    console.log(`  CPU over ${seconds} s: alone: ${describeCpu(a.cpu, a.wall)}; mesh: ${describeCpu(m.cpu, m.wall)}`)
    // an upper bound: their background work (DHT, gossip, health checks) is in it too
    const relay = (m.cpu.gateway + m.cpu.orchestrator) / sm.got
    console.log(`  the mesh's relay: ${(relay * 1000).toFixed(1)} ms CPU per segment (gateway and orchestrator, background included)`)
    console.log(`  RSS MiB after warm-up -> end: alone: ${describeRss(a)}; mesh: ${describeRss(m)}`)
    console.log(`  1-min load average during the run: ${loads.join(' ')}`)
  }
} finally {
  await trickle.stop()
  await runner.stop()
  await mesh.stop()
  await rm(dir, { recursive: true, force: true })
}
