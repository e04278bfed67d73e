// A custom capability app for Shoal ("bring your own container"): a plain HTTP server,
// no Shoal code. It listens on HOST:PORT (the orchestrator sets them for a process
// runner; a container listens on 0.0.0.0:8000 and the orchestrator publishes that port).
//
//   GET  /health                     200 when it takes requests
//   POST /thumbnail?width=N          an image (PNG, JPEG, WebP, GIF, AVIF, TIFF) -> a PNG N px wide (sharp, libvips)
//   POST /echo                       the body back, same content type, chunk by chunk
//   POST /events?count=N&interval_ms=M   Server-Sent Events: N events, M ms apart
//   POST /drip?count=N&interval_ms=M     text/plain, chunked: N lines "chunk <i>", M ms apart
//   POST /sleep?ms=N                 answers {"slept": N} after N ms (prints "sleep <id>" first)
//
// and a stream session (a capability declared "streaming": true; docs/custom-capabilities.md):
//   POST /stream/start?stream_id=ID  params {"prefix": "...", "difficulty": D, "max_results": N?}: a proof-of-work
//                                    search, Server-Sent Events: one event per nonce whose sha256(prefix + nonce)
//                                    starts with D hex zeros, until the session stops (the request closes) or N found
//   POST /stream/update?stream_id=ID new params for that session (prefix, difficulty), searched from the next hash on
import { createHash } from 'node:crypto'
import { createServer } from 'node:http'

const host = process.env.HOST ?? '0.0.0.0'
const port = Number(process.env.PORT ?? 8000)
const MAX_IMAGE_BYTES = 32 * 1024 * 1024
let sharp

function json (res, status, value) {
  const body = JSON.stringify(value)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body)
}

function intParam (url, name, fallback, min, max) {
  const raw = url.searchParams.get(name)
  const n = raw === null ? fallback : Number(raw)
  return Number.isInteger(n) && n >= min && n <= max ? n : null
}

async function readAll (req, limit) {
  const parts = []
  let size = 0
  for await (const chunk of req) {
    size += chunk.length
    if (size > limit) throw Object.assign(new Error(`body over ${limit} bytes`), { status: 413 })
    parts.push(chunk)
  }
  return Buffer.concat(parts)
}

/** stream sessions by id: the params their search uses now */
const sessions = new Map()
const HASHES_PER_TURN = 2_000

function searchParams (value, previous) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'params must be a JSON object'
  const next = { ...previous, ...value }
  if (typeof next.prefix !== 'string' || next.prefix.length > 256) return 'prefix must be a string of at most 256 characters'
  if (!Number.isInteger(next.difficulty) || next.difficulty < 1 || next.difficulty > 6) return 'difficulty must be an integer in [1, 6] (hex zeros)'
  if (next.max_results !== undefined && (!Number.isInteger(next.max_results) || next.max_results < 1)) return 'max_results must be a positive integer'
  return next
}

async function readJson (req) {
  try {
    return JSON.parse((await readAll(req, 64 * 1024)).toString('utf8') || '{}')
  } catch {
    return undefined
  }
}

const routes = {
  'POST /stream/start': async (req, res, url) => {
    const id = url.searchParams.get('stream_id')
    if (id === null || sessions.has(id)) return json(res, 400, { error: { message: 'a new stream_id is required' } })
    const params = searchParams(await readJson(req), { prefix: '', difficulty: 3 })
    if (typeof params === 'string') return json(res, 400, { error: { message: params } })
    const session = { params }
    sessions.set(id, session)
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
    res.once('close', () => { sessions.delete(id) })
    let nonce = 0
    let found = 0
    let tried = 0
    let quietSince = Date.now()
    while (!res.destroyed) {
      // the params of this turn: an update takes effect from the next one
      const { prefix, difficulty, max_results: maxResults } = session.params
      const zeros = '0'.repeat(difficulty)
      for (let i = 0; i < HASHES_PER_TURN; i++, nonce++) {
        const hash = createHash('sha256').update(prefix + nonce).digest('hex')
        tried++
        if (!hash.startsWith(zeros)) continue
        res.write(`data: ${JSON.stringify({ nonce, hash, prefix, difficulty, tried })}\n\n`)
        quietSince = Date.now()
        if (maxResults !== undefined && ++found >= maxResults) { res.end(); return }
      }
      // a comment now and then keeps a quiet stream open through proxies
      if (Date.now() - quietSince > 15_000) { res.write(': searching\n\n'); quietSince = Date.now() }
      await new Promise(resolve => setImmediate(resolve))
    }
  },
  'POST /stream/update': async (req, res, url) => {
    const session = sessions.get(url.searchParams.get('stream_id'))
    if (session === undefined) return json(res, 404, { error: { message: 'no such stream' } })
    const params = searchParams(await readJson(req), session.params)
    if (typeof params === 'string') return json(res, 400, { error: { message: params } })
    session.params = params
    json(res, 200, { params })
  },
  'GET /health': (req, res) => json(res, 200, { status: 'OK' }),
  'POST /thumbnail': async (req, res, url) => {
    const width = intParam(url, 'width', 128, 1, 4096)
    if (width === null) return json(res, 400, { error: { message: 'width must be an integer in [1, 4096]' } })
    const image = await readAll(req, MAX_IMAGE_BYTES)
    sharp ??= (await import('sharp')).default
    let png
    try {
      png = await sharp(image).resize({ width }).png().toBuffer()
    } catch (err) {
      return json(res, 400, { error: { message: `not an image: ${err.message}` } })
    }
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length }).end(png)
  },
  'POST /echo': async (req, res) => {
    res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' })
    for await (const chunk of req) if (!res.write(chunk)) await new Promise(resolve => res.once('drain', resolve))
    res.end()
  },
  'POST /events': async (req, res, url) => {
    const count = intParam(url, 'count', 5, 1, 10_000)
    const interval = intParam(url, 'interval_ms', 100, 0, 60_000)
    if (count === null || interval === null) return json(res, 400, { error: { message: 'count in [1, 10000], interval_ms in [0, 60000]' } })
    await readAll(req, 1024 * 1024)
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
    for (let i = 0; i < count && !res.destroyed; i++) {
      res.write(`data: ${JSON.stringify({ i, at: Date.now() })}\n\n`)
      if (i + 1 < count) await new Promise(resolve => setTimeout(resolve, interval))
    }
    res.end()
  },
  'POST /drip': async (req, res, url) => {
    const count = intParam(url, 'count', 5, 1, 10_000)
    const interval = intParam(url, 'interval_ms', 100, 0, 60_000)
    if (count === null || interval === null) return json(res, 400, { error: { message: 'count in [1, 10000], interval_ms in [0, 60000]' } })
    await readAll(req, 1024 * 1024)
    res.writeHead(200, { 'content-type': 'text/plain' })
    for (let i = 0; i < count && !res.destroyed; i++) {
      res.write(`chunk ${i}\n`)
      if (i + 1 < count) await new Promise(resolve => setTimeout(resolve, interval))
    }
    res.end()
  },
  'POST /sleep': async (req, res, url) => {
    const ms = intParam(url, 'ms', 100, 0, 3_600_000)
    if (ms === null) return json(res, 400, { error: { message: 'ms must be an integer in [0, 3600000]' } })
    await readAll(req, 1024 * 1024)
    // what a test watches for to know which app holds the request
    process.stdout.write(`sleep ${url.searchParams.get('id') ?? '-'}\n`)
    await new Promise(resolve => setTimeout(resolve, ms))
    json(res, 200, { slept: ms, livepeer_request: req.headers['livepeer-request'] ?? null })
  }
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://app')
  const route = routes[`${req.method} ${url.pathname}`]
  if (route === undefined) return json(res, 404, { error: { message: `no route ${req.method} ${url.pathname}` } })
  Promise.resolve(route(req, res, url)).catch((err) => {
    if (!res.headersSent) json(res, err.status ?? 500, { error: { message: err.message } })
    else res.destroy(err)
  })
})
server.listen(port, host, () => { process.stdout.write(`custom-example listening on ${host}:${port}\n`) })
for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => { server.close(); server.closeAllConnections(); process.exit(0) })
