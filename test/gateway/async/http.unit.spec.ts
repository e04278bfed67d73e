import { expect } from 'chai'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { Registry } from 'prom-client'
import { createGatewayHttpServer, type GatewayHttpServer } from '../../../src/gateway/http/server.js'
import type { GatewayHttpOptions } from '../../../src/gateway/http/options.js'
import type { DispatchResult } from '../../../src/gateway/dispatch/dispatcher.js'
import { NoOrchestratorError } from '../../../src/gateway/dispatch/errors.js'
import { createGatewayMetrics } from '../../../src/gateway/metrics.js'
import type { InferenceJob } from '../../../src/kernel/job.js'
import { silentLogger } from '../../../src/observability/logger.js'

type Handler = (job: InferenceJob) => Promise<DispatchResult>

function bytesResult (data: Buffer, contentType: string): DispatchResult {
  return {
    response: { status: 200, contentType, body: (async function * () { for (let i = 0; i < data.byteLength; i += 65_536) yield data.subarray(i, i + 65_536) })() },
    orchestrator: 'p1',
    attempts: [{ peerId: 'p1', outcome: 'success', ms: 5 }]
  }
}

async function start (handler: { current: Handler }, options: Partial<GatewayHttpOptions>): Promise<{ server: GatewayHttpServer, url: string, registry: Registry }> {
  const registry = new Registry()
  const server = createGatewayHttpServer({
    dispatcher: { dispatch: async (job) => await handler.current(job) },
    directory: { list: () => [] },
    options: { host: '127.0.0.1', port: 0, ...options },
    logger: silentLogger(),
    metrics: createGatewayMetrics(registry)
  })
  await server.start()
  return { server, url: server.address?.url ?? '', registry }
}

async function submit (url: string, path = '/text-to-image', body = '{"prompt":"x"}'): Promise<Response> {
  return await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', prefer: 'respond-async' }, body })
}

async function waitDone (url: string, id: string): Promise<Response> {
  for (let i = 0; i < 500; i++) {
    const r = await fetch(`${url}/jobs/${id}`)
    if (r.status !== 202) return r
    await r.arrayBuffer()
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  throw new Error('job never finished')
}

describe('gateway async over HTTP: spilled results, streaming, failures, queueing', function () {
  this.timeout(30_000)
  let dir: string
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'shoal-async-http-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('a 4 MB binary result goes to the spill directory and comes back whole on every route, streamed', async () => {
    const image = randomBytes(4 * 1024 * 1024 + 1)
    const handler = { current: async (): Promise<DispatchResult> => bytesResult(image, 'image/png') }
    const { server, url, registry } = await start(handler, { asyncSpillDir: join(dir, 'spill'), asyncMemoryResultBytes: 64 * 1024 })
    try {
      const { request_id: id } = await (await submit(url)).json() as { request_id: string }
      const done = await waitDone(url, id)
      expect(done.status).to.equal(200)
      // no content-length: the JSON is written as the file is read
      expect(done.headers.get('content-length')).to.equal(null)
      const body = await done.json() as { status: string, result: { content_type: string, base64: string } }
      expect(body.status).to.equal('complete')
      expect(body.result.content_type).to.equal('image/png')
      expect(Buffer.from(body.result.base64, 'base64').equals(image)).to.equal(true)
      expect(await readdir(join(dir, 'spill'))).to.have.length(1)
      expect(await registry.metrics()).to.match(/shoal_gateway_async_result_bytes\{where="disk"\} 4194305/)

      const head = await fetch(`${url}/jobs/${id}/result`, { method: 'HEAD' })
      expect(head.status).to.equal(200)
      expect(head.headers.get('content-length')).to.equal(String(image.byteLength))
      const raw = await fetch(`${url}/jobs/${id}/result`)
      expect(raw.status).to.equal(200)
      expect(raw.headers.get('content-type')).to.equal('image/png')
      expect(Buffer.from(await raw.arrayBuffer()).equals(image)).to.equal(true)

      const polled = await fetch(`${url}/text-to-image/result`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request_id: id }) })
      expect(polled.status).to.equal(200)
      const p = await polled.json() as { status: string, result: { base64: string } }
      expect(p.status).to.equal('complete')
      expect(Buffer.from(p.result.base64, 'base64').equals(image)).to.equal(true)
    } finally {
      await server.stop()
    }
    // stop() removes the spilled results
    expect(await readdir(dir)).to.deep.equal([])
  })

  it('large JSON and text results are embedded as JSON and as escaped text', async () => {
    const big = { images: [{ url: 'data:image/png;base64,' + 'QUFB'.repeat(100_000), seed: 1, nsfw: false }] }
    const text = 'line "one"\n' + 'é'.repeat(100_000) + '\u0001end'
    let next: DispatchResult = bytesResult(Buffer.from(JSON.stringify(big)), 'application/json')
    const handler = { current: async (): Promise<DispatchResult> => next }
    const { server, url } = await start(handler, { asyncSpillDir: join(dir, 'spill'), asyncMemoryResultBytes: 1024 })
    try {
      const a = await (await submit(url)).json() as { request_id: string }
      expect((await (await waitDone(url, a.request_id)).json() as { result: unknown }).result).to.deep.equal(big)
      next = bytesResult(Buffer.from(text), 'text/plain; charset=utf-8')
      const b = await (await submit(url)).json() as { request_id: string }
      expect((await (await waitDone(url, b.request_id)).json() as { result: unknown }).result).to.deep.equal({ content_type: 'text/plain; charset=utf-8', text })
      // "JSON" that would add keys to the envelope is embedded as text
      next = bytesResult(Buffer.from('{"a":1}, "status": "forged"'), 'application/json')
      const c = await (await submit(url)).json() as { request_id: string }
      const forged = await (await waitDone(url, c.request_id)).json() as { status: string, result: unknown }
      expect(forged.status).to.equal('complete')
      expect(forged.result).to.deep.equal({ content_type: 'application/json', text: '{"a":1}, "status": "forged"' })
    } finally {
      await server.stop()
    }
  })

  it('a failed job is reported as failed, with the synchronous status and Retry-After, on every route', async () => {
    const handler = { current: async (): Promise<DispatchResult> => { throw new NoOrchestratorError('busy', [{ peerId: 'p1', outcome: 'busy', ms: 3 }], undefined, 7) } }
    const { server, url } = await start(handler, {})
    try {
      // what the synchronous call answers: the reference for every asynchronous route
      const sync = await fetch(`${url}/text-to-image`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"x"}' })
      const syncBody = await sync.json() as Record<string, unknown>
      expect(sync.status).to.equal(503)
      expect(sync.headers.get('retry-after')).to.equal('7')

      for (const prefix of ['', '/api/generate']) {
        const { request_id: id } = await (await submit(url, `${prefix}/text-to-image`)).json() as { request_id: string }
        const job = await waitDone(url, id)
        expect(job.status).to.equal(503)
        expect(job.headers.get('retry-after')).to.equal('7')
        expect(job.headers.get('x-shoal-attempts')).to.equal('1')
        expect(await job.json()).to.deep.include({ request_id: id, status: 'failed', http_status: 503, result: syncBody })

        const polled = await fetch(`${url}${prefix}/text-to-image/result`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request_id: id }) })
        expect(polled.status).to.equal(503)
        expect(polled.headers.get('retry-after')).to.equal('7')
        expect(await polled.json()).to.deep.equal({ status: 'failed', http_status: 503, result: syncBody })

        const raw = await fetch(`${url}/jobs/${id}/result`)
        expect(raw.status).to.equal(503)
        expect(raw.headers.get('retry-after')).to.equal('7')
        expect(await raw.json()).to.deep.equal(syncBody)
      }
    } finally {
      await server.stop()
    }
  })

  it('a runner answer with an error status is a failed job too, with that status', async () => {
    const detail = Buffer.from('{"detail":{"msg":"CUDA out of memory"}}')
    const handler = { current: async (): Promise<DispatchResult> => ({ ...bytesResult(detail, 'application/json'), response: { ...bytesResult(detail, 'application/json').response, status: 500 } }) }
    const { server, url } = await start(handler, {})
    try {
      const { request_id: id } = await (await submit(url)).json() as { request_id: string }
      const job = await waitDone(url, id)
      expect(job.status).to.equal(500)
      expect(await job.json()).to.deep.include({ status: 'failed', http_status: 500, result: { detail: { msg: 'CUDA out of memory' } } })
      const polled = await fetch(`${url}/text-to-image/result`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request_id: id }) })
      expect(polled.status).to.equal(500)
      expect(await polled.json()).to.deep.equal({ status: 'failed', http_status: 500, result: { detail: { msg: 'CUDA out of memory' } } })
    } finally {
      await server.stop()
    }
  })

  it('100 jobs at once: at most maxAsyncDispatches run, the rest queue, all complete; past maxAsyncJobs: 503 with Retry-After', async () => {
    let running = 0
    let peak = 0
    let open!: () => void
    const gate = new Promise<void>(resolve => { open = resolve })
    const handler = {
      current: async (): Promise<DispatchResult> => {
        running++
        peak = Math.max(peak, running)
        await gate
        await new Promise(resolve => setTimeout(resolve, 5))
        running--
        return bytesResult(Buffer.from('{"ok":true}'), 'application/json')
      }
    }
    const { server, url } = await start(handler, { maxAsyncDispatches: 4, maxAsyncJobs: 100 })
    try {
      const accepted = await Promise.all(Array.from({ length: 100 }, async () => await submit(url)))
      expect(accepted.map(r => r.status)).to.deep.equal(Array(100).fill(202))
      const ids = await Promise.all(accepted.map(async r => (await r.json() as { request_id: string }).request_id))
      const queued = await fetch(`${url}/jobs/${ids[99] as string}`)
      expect(queued.status).to.equal(202)
      expect(await queued.json()).to.deep.include({ status: 'processing', queued: true })
      // 100 held, none finished: the next is refused at once
      const refused = await submit(url)
      expect(refused.status).to.equal(503)
      expect(refused.headers.get('retry-after')).to.match(/^\d+$/)
      expect((await refused.json() as { error: { code: string } }).error.code).to.equal('GATEWAY_ERROR_TOO_MANY_JOBS')
      expect(running).to.equal(4)
      open()
      for (const id of ids) expect((await (await waitDone(url, id)).json() as { status: string }).status).to.equal('complete')
      expect(peak).to.equal(4)
    } finally {
      await server.stop()
    }
  })
})
