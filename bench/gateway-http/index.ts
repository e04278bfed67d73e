/**
 * bench/gateway-http: the gateway HTTP attacks of issue 10, measured against the
 * gateway's HTTP server with its default options and a stand-in dispatcher.
 *
 * 1. slow: how long the server holds a slow client: a body sent one byte every 5 s, a
 *    chunked body never finished, headers never finished, and an idle keep-alive
 *    connection (all at once; each capped at BENCH_CAP_S seconds, default 120).
 * 2. memory: the process's memory after 100 `Prefer: respond-async` jobs with 4 MiB
 *    results submitted at once, once all completed, and after reading each back once
 *    (`GET /jobs/<id>`), against the same process before them (after a GC each time).
 *
 *   npx tsx bench/gateway-http/index.ts [slow|memory|all]
 *   BENCH_GATEWAY_SERVER=/path/to/src/gateway/http/server.ts runs the same against
 *   another checkout (the baseline: e.g. main before this change).
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { GatewayHttpServerInit, GatewayHttpServer } from '../../src/gateway/http/server.js'
import { silentLogger } from '../../src/observability/logger.js'

setFlagsFromString('--expose_gc')
const gc = runInNewContext('gc') as () => void
const MiB = 1024 * 1024
const CAP_MS = Number(process.env.BENCH_CAP_S ?? 120) * 1000
const mode = process.argv[2] ?? 'all'
const serverPath = process.env.BENCH_GATEWAY_SERVER ?? resolve(import.meta.dirname, '../../src/gateway/http/server.ts')
const { createGatewayHttpServer } = await import(pathToFileURL(serverPath).href) as { createGatewayHttpServer: (init: GatewayHttpServerInit) => GatewayHttpServer }

async function startServer (dispatch: GatewayHttpServerInit['dispatcher']['dispatch'], spillDir?: string): Promise<{ server: GatewayHttpServer, port: number }> {
  const server = createGatewayHttpServer({
    dispatcher: { dispatch },
    directory: { list: () => [] },
    options: { host: '127.0.0.1', port: 0, ...(spillDir !== undefined ? { asyncSpillDir: spillDir } : {}) },
    logger: silentLogger(),
    metrics: null
  })
  await server.start()
  return { server, port: Number(server.address?.port) }
}

/** ms until the server ends the connection `start` opened, or CAP_MS */
async function holdTime (port: number, start: (s: net.Socket) => Promise<void> | void): Promise<number> {
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  socket.resume()
  const t0 = Date.now()
  return await new Promise<number>(resolve => {
    const timer = setTimeout(() => { socket.destroy(); resolve(CAP_MS) }, CAP_MS)
    socket.once('close', () => { clearTimeout(timer); resolve(Date.now() - t0) })
    socket.once('connect', () => { void start(socket) })
  })
}

async function slow (): Promise<void> {
  const { server, port } = await startServer(async () => { throw new Error('not used') })
  const drip = async (s: net.Socket): Promise<void> => {
    s.write('POST /text-to-image HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n')
    while (!s.destroyed) {
      s.write('x')
      await new Promise(resolve => setTimeout(resolve, 5_000))
    }
  }
  const cases: Record<string, (s: net.Socket) => Promise<void> | void> = {
    'body one byte every 5 s': drip,
    'chunked body never finished': s => { s.write('POST /text-to-image HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{"pro\r\n') },
    'headers never finished': s => { s.write('GET /health HTTP/1.1\r\nhost: x\r\n') },
    'idle keep-alive after a request': s => { s.write('GET /health HTTP/1.1\r\nhost: x\r\n\r\n') }
  }
  const results = await Promise.all(Object.entries(cases).map(async ([name, start]) => [name, await holdTime(port, start)] as const))
  for (const [name, ms] of results) console.log(`slow: ${name}: held ${ms >= CAP_MS ? `>= ${CAP_MS / 1000} s (cap)` : `${(ms / 1000).toFixed(1)} s`}`)
  await server.stop()
}

async function memory (): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-bench-async-'))
  const result = randomBytes(4 * MiB)
  const { server, port } = await startServer(async () => ({
    response: {
      status: 200,
      contentType: 'image/png',
      // a fresh copy per job, as a runner's answer would be, in the /shoal/ai chunk size
      body: (async function * () { for (let i = 0; i < result.byteLength; i += 256 * 1024) yield Buffer.from(result.subarray(i, i + 256 * 1024)) })()
    },
    orchestrator: 'p',
    attempts: [{ peerId: 'p', outcome: 'success', ms: 1 }]
  }), join(dir, 'async-results'))
  const url = `http://127.0.0.1:${port}`
  const sample = (): { rss: number, heap: number, external: number } => {
    for (let i = 0; i < 3; i++) gc()
    const m = process.memoryUsage()
    return { rss: m.rss / MiB, heap: m.heapUsed / MiB, external: (m.external + m.arrayBuffers) / MiB }
  }
  const show = (label: string, m: ReturnType<typeof sample>): void => { console.log(`memory: ${label}: rss ${m.rss.toFixed(0)} MiB, heap ${m.heap.toFixed(0)} MiB, external+arrayBuffers ${m.external.toFixed(0)} MiB`) }
  // one job first, so the baseline includes every path's code
  const warm = await fetch(`${url}/text-to-image`, { method: 'POST', headers: { 'content-type': 'application/json', prefer: 'respond-async' }, body: '{"prompt":"warm"}' })
  await warm.arrayBuffer()
  await new Promise(resolve => setTimeout(resolve, 200))
  const before = sample()
  show('before', before)
  const t0 = Date.now()
  const answers = await Promise.all(Array.from({ length: 100 }, async () => {
    const r = await fetch(`${url}/text-to-image`, { method: 'POST', headers: { 'content-type': 'application/json', prefer: 'respond-async' }, body: '{"prompt":"x"}' })
    return { status: r.status, id: (await r.json() as { request_id?: string }).request_id }
  }))
  const accepted = answers.filter(a => a.status === 202 && a.id !== undefined)
  let peakRss = 0
  for (const { id } of accepted) {
    for (;;) {
      peakRss = Math.max(peakRss, process.memoryUsage().rss / MiB)
      const r = await fetch(`${url}/jobs/${id as string}/result`, { method: 'HEAD' })
      if (r.status !== 202) break
      await new Promise(resolve => setTimeout(resolve, 20))
    }
  }
  console.log(`memory: 100 jobs submitted at once: ${accepted.length} accepted, all complete after ${((Date.now() - t0) / 1000).toFixed(1)} s; peak rss seen ${peakRss.toFixed(0)} MiB`)
  const done = sample()
  show('all complete', done)
  let read = 0
  for (const { id } of accepted) {
    const r = await fetch(`${url}/jobs/${id as string}`)
    read += (await r.arrayBuffer()).byteLength
  }
  const after = sample()
  show(`after GET /jobs/<id> of each (${(read / MiB).toFixed(0)} MiB sent)`, after)
  console.log(`memory: growth held by 100 x 4 MiB results: rss +${(done.rss - before.rss).toFixed(0)} MiB, heap+external +${(done.heap + done.external - before.heap - before.external).toFixed(0)} MiB`)
  await server.stop()
  await rm(dir, { recursive: true, force: true })
}

console.log(`server: ${serverPath}; load average ${loadavg().map(l => l.toFixed(2)).join(' ')}`)
if (mode === 'slow' || mode === 'all') await slow()
if (mode === 'memory' || mode === 'all') await memory()
console.log(`load average after: ${loadavg().map(l => l.toFixed(2)).join(' ')}`)
