import { expect } from 'chai'
import type net from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { silentLogger } from '../../../src/observability/logger.js'
import { createGatewayHttpServer, type GatewayHttpServer } from '../../../src/gateway/http/server.js'
import type { GatewayHttpOptions } from '../../../src/gateway/http/options.js'
import type { RunnerResponse } from '../../../src/kernel/job.js'
import { png } from './media.js'
import { closedWithin, drip, exchange, sleep, type RawAnswer } from './raw-client.js'

setFlagsFromString('--expose_gc')
const gc = runInNewContext('gc') as () => void

/** small limits and short timeouts, so every bound is reached in a test's time */
const LIMITS: Partial<GatewayHttpOptions> = {
  host: '127.0.0.1',
  port: 0,
  bodyLimitBytes: 1024 * 1024,
  maxFieldBytes: 64 * 1024,
  headersTimeoutMs: 600,
  requestTimeoutMs: 4_000,
  bodyTimeoutMs: 500,
  bodyMinBytesPerSecond: 4 * 1024,
  keepAliveTimeoutMs: 400,
  maxHeaderBytes: 8 * 1024,
  maxConnections: 64
}

const encoder = new TextEncoder()

interface Case {
  name: string
  send: (s: net.Socket) => void | Promise<void>
  status: number
  /** the error code expected in the JSON body */
  code?: string
  /** the limit a 413 must name */
  limit?: string
  /** the answer must come within this, ms */
  withinMs?: number
}

const boundary = 'XyZ'
function multipart (parts: string[], close = true): string {
  return parts.map(p => `--${boundary}\r\n${p}\r\n`).join('') + (close ? `--${boundary}--\r\n` : '')
}
const field = (name: string, value: string): string => `Content-Disposition: form-data; name="${name}"\r\n\r\n${value}`
const file = (name: string, value: string, type = 'image/png'): string => `Content-Disposition: form-data; name="${name}"; filename="f"\r\nContent-Type: ${type}\r\n\r\n${value}`

function post (path: string, body: string | Buffer, headers: Record<string, string> = {}): (s: net.Socket) => void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body
  const head = { host: 'x', 'content-length': String(bytes.byteLength), ...headers }
  return (s) => {
    s.write(`POST ${path} HTTP/1.1\r\n${Object.entries(head).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`)
    s.write(bytes)
  }
}
const json = (path: string, body: string): ((s: net.Socket) => void) => post(path, body, { 'content-type': 'application/json' })
const form = (path: string, body: string): ((s: net.Socket) => void) => post(path, body, { 'content-type': `multipart/form-data; boundary=${boundary}` })

/** a chunked body written in `chunk`-byte pieces, each awaiting the socket (so the server's answer can arrive part way) */
function chunked (path: string, contentType: string, pieces: () => Iterable<Buffer>, finish = true): (s: net.Socket) => Promise<void> {
  return async (s) => {
    s.write(`POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: ${contentType}\r\ntransfer-encoding: chunked\r\n\r\n`)
    for (const piece of pieces()) {
      if (s.destroyed) return
      const ok = s.write(`${piece.byteLength.toString(16)}\r\n`) && s.write(piece) && s.write('\r\n')
      if (!ok) await new Promise<void>(resolve => { s.once('drain', resolve); s.once('close', resolve) })
    }
    if (finish && !s.destroyed) s.write('0\r\n\r\n')
  }
}

const CASES: Case[] = [
  // request line and headers: Node's parser, answered in the JSON shape
  { name: 'garbage request line', send: s => { s.write('HELLO THERE\r\n\r\n') }, status: 400, code: 'GATEWAY_ERROR_BAD_REQUEST' },
  { name: 'unknown method', send: s => { s.write('FOO /health HTTP/1.1\r\nhost: x\r\n\r\n') }, status: 400, code: 'GATEWAY_ERROR_BAD_REQUEST' },
  { name: 'HTTP/9.9', send: s => { s.write('GET /health HTTP/9.9\r\nhost: x\r\n\r\n') }, status: 400, code: 'GATEWAY_ERROR_BAD_REQUEST' },
  { name: 'binary junk', send: s => { s.write(Buffer.from([0, 1, 2, 3, 255, 254, 13, 10, 13, 10])) }, status: 400, code: 'GATEWAY_ERROR_BAD_REQUEST' },
  { name: 'header without a colon', send: s => { s.write('GET /health HTTP/1.1\r\nhost: x\r\nnocolon\r\n\r\n') }, status: 400, code: 'GATEWAY_ERROR_BAD_REQUEST' },
  { name: 'control byte in a header', send: s => { s.write('GET /health HTTP/1.1\r\nhost: x\r\nx-a: b\x01c\r\n\r\n') }, status: 400, code: 'GATEWAY_ERROR_BAD_REQUEST' },
  { name: 'headers over maxHeaderBytes', send: s => { s.write(`GET /health HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`) }, status: 431, code: 'GATEWAY_ERROR_HEADERS_TOO_LARGE' },
  { name: 'ten thousand small headers', send: s => { s.write('GET /health HTTP/1.1\r\nhost: x\r\n' + Array.from({ length: 10_000 }, (_, i) => `x-${i}: 1\r\n`).join('') + '\r\n') }, status: 431, code: 'GATEWAY_ERROR_HEADERS_TOO_LARGE' },
  { name: 'Content-Length with Transfer-Encoding', send: s => { s.write('POST /text-to-image HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n') }, status: 400, code: 'GATEWAY_ERROR_BAD_REQUEST' },
  { name: 'negative Content-Length', send: s => { s.write('POST /text-to-image HTTP/1.1\r\nhost: x\r\ncontent-length: -1\r\n\r\n') }, status: 400, code: 'GATEWAY_ERROR_BAD_REQUEST' },
  { name: 'two different Content-Lengths', send: s => { s.write('POST /text-to-image HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}') }, status: 400, code: 'GATEWAY_ERROR_BAD_REQUEST' },
  { name: 'bad chunk size', send: s => { s.write('POST /text-to-image HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n') }, status: 400, code: 'GATEWAY_ERROR_BAD_REQUEST' },
  { name: 'URL that does not decode', send: s => { s.write('GET /jobs/%zz HTTP/1.1\r\nhost: x\r\n\r\n') }, status: 400, code: 'GATEWAY_ERROR_BAD_REQUEST' },
  { name: 'Expect other than 100-continue', send: s => { s.write('POST /text-to-image HTTP/1.1\r\nhost: x\r\nexpect: teapot\r\ncontent-length: 2\r\n\r\n{}') }, status: 417, code: 'GATEWAY_ERROR_BAD_REQUEST' },
  { name: 'unknown route', send: s => { s.write('DELETE /health HTTP/1.1\r\nhost: x\r\n\r\n') }, status: 404, code: 'GATEWAY_ERROR_NOT_FOUND' },
  { name: 'slow headers', send: s => { s.write('GET /health HTTP/1.1\r\nhost: x\r\n') }, status: 408, code: 'GATEWAY_ERROR_REQUEST_TIMEOUT', withinMs: 3_000 },

  // JSON
  { name: 'malformed JSON', send: json('/text-to-image', '{"prompt":'), status: 400, code: 'GATEWAY_ERROR_BAD_REQUEST' },
  { name: 'empty JSON body', send: json('/text-to-image', ''), status: 400, code: 'GATEWAY_ERROR_BAD_REQUEST' },
  { name: '__proto__ key', send: json('/text-to-image', '{"prompt":"x","__proto__":{"polluted":true}}'), status: 400, code: 'GATEWAY_ERROR_BAD_REQUEST' },
  { name: 'JSON array body', send: json('/text-to-image', '[1,2,3]'), status: 422, code: 'GATEWAY_ERROR_VALIDATION' },
  { name: 'JSON null body', send: json('/text-to-image', 'null'), status: 422, code: 'GATEWAY_ERROR_VALIDATION' },
  { name: 'prompt of the wrong type', send: json('/text-to-image', '{"prompt":{"a":1}}'), status: 422, code: 'GATEWAY_ERROR_VALIDATION' },
  { name: 'deep JSON bomb (100k levels)', send: json('/text-to-image', '{"prompt":"x","extra":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}'), status: 200 },
  { name: 'deep JSON bomb as a field value', send: json('/text-to-image', '{"prompt":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}'), status: 422, code: 'GATEWAY_ERROR_VALIDATION' },
  { name: 'JSON with 50k keys', send: json('/text-to-image', '{"prompt":"x",' + Array.from({ length: 50_000 }, (_, i) => `"k${i}":1`).join(',') + '}'), status: 200 },
  { name: 'JSON over bodyLimitBytes (declared)', send: s => { s.write('POST /text-to-image HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 500000000\r\n\r\n{"prompt":"') }, status: 413, code: 'GATEWAY_ERROR_PAYLOAD_TOO_LARGE', limit: 'bodyLimitBytes', withinMs: 3_000 },
  { name: 'JSON over bodyLimitBytes (chunked)', send: chunked('/text-to-image', 'application/json', function * () { yield Buffer.from('{"prompt":"'); for (let i = 0; i < 40; i++) yield Buffer.alloc(64 * 1024, 0x61) }), status: 413, code: 'GATEWAY_ERROR_PAYLOAD_TOO_LARGE', limit: 'bodyLimitBytes' },
  { name: 'a JSON prompt over maxFieldBytes (the 2 MB prompt, scaled)', send: json('/text-to-image', JSON.stringify({ prompt: 'p'.repeat(200 * 1024) })), status: 413, code: 'GATEWAY_ERROR_PAYLOAD_TOO_LARGE', limit: 'maxFieldBytes' },
  { name: 'JSON as text/plain', send: post('/text-to-image', '{"prompt":"x"}', { 'content-type': 'text/plain' }), status: 415, code: 'GATEWAY_ERROR_UNSUPPORTED_MEDIA_TYPE' },
  { name: 'JSON without a content type', send: post('/text-to-image', '{"prompt":"x"}'), status: 415, code: 'GATEWAY_ERROR_UNSUPPORTED_MEDIA_TYPE' },
  { name: 'content type with junk parameters', send: post('/text-to-image', '{"prompt":"x"}', { 'content-type': 'application/json; charset=klingon; ;;==' }), status: 200 },
  { name: 'multipart to a JSON pipeline', send: form('/text-to-image', multipart([field('prompt', 'x')])), status: 415, code: 'GATEWAY_ERROR_UNSUPPORTED_MEDIA_TYPE' },
  { name: 'poll with a non-string request_id', send: json('/text-to-image/result', '{"request_id":[1]}'), status: 422, code: 'GATEWAY_ERROR_VALIDATION' },

  // multipart
  { name: 'multipart without a boundary', send: post('/upscale', 'x', { 'content-type': 'multipart/form-data' }), status: 400, code: 'GATEWAY_ERROR_BAD_REQUEST' },
  { name: 'multipart garbage', send: form('/upscale', 'not multipart'), status: 400, code: 'GATEWAY_ERROR_BAD_REQUEST' },
  { name: 'multipart truncated part', send: form('/upscale', `--${boundary}\r\n${file('image', 'abc')}`), status: 400, code: 'GATEWAY_ERROR_BAD_REQUEST' },
  { name: 'multipart without parts', send: form('/upscale', `--${boundary}--\r\n`), status: 400, code: 'GATEWAY_ERROR_BAD_REQUEST' },
  { name: 'JSON to a multipart pipeline', send: json('/upscale', '{"prompt":"x"}'), status: 415, code: 'GATEWAY_ERROR_UNSUPPORTED_MEDIA_TYPE' },
  { name: 'an image that is not one', send: form('/upscale', multipart([field('prompt', 'x'), file('image', 'definitely not a png')])), status: 422, code: 'GATEWAY_ERROR_VALIDATION' },
  { name: '70 text fields', send: form('/upscale', multipart(Array.from({ length: 70 }, (_, i) => field(`f${i}`, 'v')))), status: 413, code: 'GATEWAY_ERROR_PAYLOAD_TOO_LARGE', limit: 'maxFields' },
  { name: 'a text field over maxFieldBytes', send: form('/upscale', multipart([field('prompt', 'p'.repeat(100 * 1024))])), status: 413, code: 'GATEWAY_ERROR_PAYLOAD_TOO_LARGE', limit: 'maxFieldBytes' },
  { name: '9 files', send: form('/upscale', multipart(Array.from({ length: 9 }, (_, i) => file(`f${i}`, 'x')))), status: 413, code: 'GATEWAY_ERROR_PAYLOAD_TOO_LARGE', limit: 'maxFiles' },
  { name: 'a 300-byte field name', send: form('/upscale', multipart([field('n'.repeat(300), 'v')])), status: 413, code: 'GATEWAY_ERROR_PAYLOAD_TOO_LARGE', limit: 'maxFieldNameBytes' },
  { name: 'a file over bodyLimitBytes (declared)', send: s => { s.write(`POST /upscale HTTP/1.1\r\nhost: x\r\ncontent-type: multipart/form-data; boundary=${boundary}\r\ncontent-length: 300000000\r\n\r\n--${boundary}\r\n`) }, status: 413, code: 'GATEWAY_ERROR_PAYLOAD_TOO_LARGE', limit: 'bodyLimitBytes', withinMs: 3_000 },
  {
    name: 'chunked multipart file far over the limit (the 300 MB attack, scaled)',
    send: chunked('/upscale', `multipart/form-data; boundary=${boundary}`, function * () {
      yield Buffer.from(`--${boundary}\r\n${file('image', '')}`)
      for (let i = 0; i < 300; i++) yield Buffer.alloc(64 * 1024, 7)
    }),
    status: 413,
    code: 'GATEWAY_ERROR_PAYLOAD_TOO_LARGE',
    limit: 'bodyLimitBytes'
  },
  { name: 'multipart with CRLF-less boundary junk', send: form('/upscale', `--${boundary}${'-'.repeat(5000)}\r\n\r\n`), status: 400, code: 'GATEWAY_ERROR_BAD_REQUEST' },

  // slow clients
  { name: 'a body sent one byte at a time, slowly', send: async s => { s.write('POST /text-to-image HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n'); await drip(s, Buffer.from('{"prompt":"' + 'x'.repeat(87) + '"}'), 1, 300) }, status: 408, code: 'GATEWAY_ERROR_REQUEST_TIMEOUT', withinMs: 3_000 },
  { name: 'a chunked body never finished', send: chunked('/text-to-image', 'application/json', function * () { yield Buffer.from('{"prompt":') }, false), status: 408, code: 'GATEWAY_ERROR_REQUEST_TIMEOUT', withinMs: 3_000 },
  { name: 'a body shorter than its Content-Length', send: s => { s.write('POST /text-to-image HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"prompt":"x"}') }, status: 408, code: 'GATEWAY_ERROR_REQUEST_TIMEOUT', withinMs: 3_000 },
  { name: 'a multipart upload that stalls', send: async s => { s.write(`POST /upscale HTTP/1.1\r\nhost: x\r\ncontent-type: multipart/form-data; boundary=${boundary}\r\ncontent-length: 100000\r\n\r\n--${boundary}\r\n${file('image', 'abc')}`) }, status: 408, code: 'GATEWAY_ERROR_REQUEST_TIMEOUT', withinMs: 3_000 },
  {
    name: 'a body fast enough for the rate but longer than requestTimeoutMs',
    send: async s => {
      s.write('POST /text-to-image HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 200000\r\n\r\n')
      await drip(s, Buffer.alloc(200_000, 0x20), 4 * 1024, 250)
    },
    status: 408,
    code: 'GATEWAY_ERROR_REQUEST_TIMEOUT',
    withinMs: 7_000
  }
]

describe('gateway http: malformed-input corpus over real sockets', function () {
  this.timeout(60_000)
  let server: GatewayHttpServer
  let url: string
  const counts = { tried: 0, documented: 0, crashes: 0 }
  let heapAtStart = 0

  before(async () => {
    server = createGatewayHttpServer({
      dispatcher: {
        dispatch: async () => ({
          response: { status: 200, contentType: 'application/json', body: (async function * () { yield encoder.encode('{"images":[]}') })() } satisfies RunnerResponse,
          orchestrator: 'p',
          attempts: [{ peerId: 'p', outcome: 'success', ms: 1 }]
        })
      },
      directory: { list: () => [] },
      options: LIMITS,
      logger: silentLogger(),
      metrics: null
    })
    await server.start()
    url = server.address?.url ?? ''
    // warm the paths once so the heap baseline includes what any first request loads
    await fetch(`${url}/text-to-image`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"warm"}' }).then(async r => await r.arrayBuffer())
    gc()
    heapAtStart = process.memoryUsage().heapUsed
  })

  after(async () => {
    await server?.stop()
    // the counts the closing note reports
    console.log(`      corpus: tried ${counts.tried}, documented answers ${counts.documented}, crashes ${counts.crashes}`)
  })

  async function stillServes (): Promise<void> {
    try {
      const health = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) })
      expect(health.status).to.equal(200)
      await health.arrayBuffer()
      const job = await fetch(`${url}/text-to-image`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"after"}', signal: AbortSignal.timeout(5_000) })
      expect(job.status).to.equal(200)
      expect(await job.json()).to.deep.equal({ images: [] })
    } catch (err) {
      counts.crashes++
      throw err
    }
  }

  for (const c of CASES) {
    it(`${c.name}: ${c.status}${c.limit !== undefined ? ` naming ${c.limit}` : ''}`, async () => {
      counts.tried++
      let answer: RawAnswer
      try {
        answer = await exchange(url, c.send, 15_000)
      } finally {
        await stillServes()
      }
      expect(answer.status, answer.body.slice(0, 300)).to.equal(c.status)
      expect(answer.headers['content-type']).to.match(/^application\/json/)
      const body = JSON.parse(answer.body) as { detail?: unknown, error?: { code?: unknown, message?: unknown, limit?: unknown } }
      if (c.code !== undefined) {
        expect(body.detail).to.not.equal(undefined)
        expect(body.error?.code).to.equal(c.code)
        expect(body.error?.message).to.be.a('string')
      }
      if (c.limit !== undefined) {
        expect(body.error?.limit).to.equal(c.limit)
        expect(body.error?.message).to.include(c.limit)
      }
      if (c.withinMs !== undefined) expect(answer.ms).to.be.below(c.withinMs)
      // every refusal of a request whose body was not read closes the connection soon
      if (c.status >= 400) expect(await closedWithin(answer.socket, 5_000)).to.be.at.least(0)
      answer.socket.destroy()
      counts.documented++
    })
  }

  it('a client still uploading a body refused by its length reads the 413 (fetch, 3 MB form against a 1 MB limit)', async () => {
    const fd = new FormData()
    fd.append('prompt', 'x')
    fd.append('image', new Blob([Buffer.alloc(3 * 1024 * 1024, 1)], { type: 'image/png' }), 'big.png')
    const res = await fetch(`${url}/upscale`, { method: 'POST', body: fd })
    expect(res.status).to.equal(413)
    expect(res.headers.get('x-shoal-request-id')).to.match(/^[0-9a-f-]{36}$/)
    expect(res.headers.get('x-shoal-attempts')).to.equal('0')
    const body = await res.json() as { error: { limit: string } }
    expect(body.error.limit).to.equal('bodyLimitBytes')
  })

  it('an idle keep-alive connection is closed after keepAliveTimeoutMs', async () => {
    const answer = await exchange(url, s => { s.write('GET /health HTTP/1.1\r\nhost: x\r\n\r\n') })
    expect(answer.status).to.equal(200)
    const closedAfter = await closedWithin(answer.socket, 5_000)
    expect(closedAfter).to.be.at.least(0)
    expect(closedAfter).to.be.below(3_000)
  })

  it('a multipart upload within the limits still works (with a real image)', async () => {
    const image = await png(4, 4)
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\n${field('prompt', 'x')}\r\n--${boundary}\r\n${file('image', '')}`),
      image,
      Buffer.from(`\r\n--${boundary}--\r\n`)
    ])
    const answer = await exchange(url, post('/upscale', body, { 'content-type': `multipart/form-data; boundary=${boundary}` }))
    expect(answer.status).to.equal(200)
    answer.socket.destroy()
  })

  it('memory is back near its start after the corpus', async () => {
    for (let i = 0; i < 3; i++) { gc(); await sleep(50) }
    const grown = process.memoryUsage().heapUsed - heapAtStart
    expect(grown, `heap grew ${grown} bytes`).to.be.below(32 * 1024 * 1024)
  })
})

describe('gateway http: connection cap', function () {
  this.timeout(30_000)
  it('refuses connections past maxConnections and serves again once they close', async () => {
    const server = createGatewayHttpServer({
      dispatcher: { dispatch: async () => { throw new Error('unused') } },
      directory: { list: () => [] },
      options: { ...LIMITS, maxConnections: 5, headersTimeoutMs: 10_000, requestTimeoutMs: 20_000 },
      logger: silentLogger(),
      metrics: null
    })
    await server.start()
    const url = server.address?.url ?? ''
    const { default: net } = await import('node:net')
    const { port } = new URL(url)
    try {
      const held: net.Socket[] = []
      for (let i = 0; i < 5; i++) {
        const s = net.connect(Number(port), '127.0.0.1')
        s.on('error', () => {})
        await new Promise(resolve => s.once('connect', resolve))
        s.write('GET /health HTTP/1.1\r\nhost: x\r\n')
        held.push(s)
      }
      await sleep(100)
      const extra = exchange(url, s => { s.write('GET /health HTTP/1.1\r\nhost: x\r\n\r\n') }, 5_000)
      let refused = false
      await extra.catch(() => { refused = true })
      expect(refused).to.equal(true)
      for (const s of held) s.destroy()
      await sleep(200)
      const again = await exchange(url, s => { s.write('GET /health HTTP/1.1\r\nhost: x\r\n\r\n') })
      expect(again.status).to.equal(200)
      again.socket.destroy()
    } finally {
      await server.stop()
    }
  })
})
