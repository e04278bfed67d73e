import { expect } from 'chai'
import http from 'node:http'
import { Registry } from 'prom-client'
import { silentLogger } from '../../../src/observability/logger.js'
import { wholeInput, type InferenceJob, type RunnerResponse } from '../../../src/kernel/job.js'
import { createGatewayHttpServer, type GatewayHttpServer } from '../../../src/gateway/http/server.js'
import type { GatewayHttpOptions } from '../../../src/gateway/http/options.js'
import type { DispatchOptions, DispatchResult } from '../../../src/gateway/dispatch/dispatcher.js'
import { GatewayLimitDispatchError, JobRejectedError, NoOrchestratorError, type Attempt } from '../../../src/gateway/dispatch/errors.js'
import { createGatewayMetrics } from '../../../src/gateway/metrics.js'
import { png, wav } from './media.js'

const encoder = new TextEncoder()
type BodyInit = NonNullable<NonNullable<Parameters<typeof fetch>[1]>['body']>

function json (value: unknown, status = 200): RunnerResponse {
  return { status, contentType: 'application/json', body: (async function * () { yield encoder.encode(JSON.stringify(value)) })() }
}

function success (response: RunnerResponse, orchestrator = '12D3KooWorch', attempts?: Attempt[]): DispatchResult {
  return { response, orchestrator, attempts: attempts ?? [{ peerId: orchestrator, outcome: 'success', ms: 12 }] }
}

type Handler = (job: InferenceJob, options: DispatchOptions) => Promise<DispatchResult>

interface Harness {
  server: GatewayHttpServer
  url: string
  jobs: InferenceJob[]
  setHandler: (h: Handler) => void
  registry: Registry
}

async function startServer (options: Partial<GatewayHttpOptions> = {}, directory: unknown[] = []): Promise<Harness> {
  const jobs: InferenceJob[] = []
  let handler: Handler = async () => success(json({ images: [{ url: 'data:image/png;base64,AA', seed: 1, nsfw: false }] }))
  const registry = new Registry()
  const server = createGatewayHttpServer({
    dispatcher: {
      dispatch: async (job, opts) => {
        jobs.push(job)
        return await handler(job, opts)
      }
    },
    directory: { list: () => directory },
    options: { host: '127.0.0.1', port: 0, ...options },
    logger: silentLogger(),
    metrics: createGatewayMetrics(registry)
  })
  await server.start()
  const url = server.address?.url
  if (url === undefined) throw new Error('no address')
  return { server, url, jobs, setHandler: (h) => { handler = h }, registry }
}

async function errorBody (res: Response): Promise<{ detail: unknown, error: { code: string, message: string } }> {
  expect(res.headers.get('content-type')).to.match(/^application\/json/)
  const body = await res.json() as { detail: unknown, error: { code: string, message: string } }
  expect(body.error).to.be.an('object')
  expect(body.error.code).to.be.a('string')
  expect(body.error.message).to.be.a('string')
  return body
}

async function upscaleForm (image?: Buffer, extra: Record<string, string> = {}): Promise<FormData> {
  const fd = new FormData()
  fd.append('prompt', 'sharper')
  for (const [k, v] of Object.entries(extra)) fd.append(k, v)
  fd.append('image', new Blob([image ?? await png(8, 6)], { type: 'image/png' }), 'in.png')
  return fd
}

/** a raw HTTP request, for bodies fetch will not send (chunked, wrong lengths) */
async function rawRequest (url: string, path: string, headers: Record<string, string>, write: (req: http.ClientRequest) => void): Promise<{ status: number, body: string, headers: http.IncomingHttpHeaders }> {
  return await new Promise((resolve, reject) => {
    const req = http.request(url + path, { method: 'POST', headers }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }))
      res.on('error', reject)
    })
    req.on('error', () => { /* the server may close while we still write */ })
    write(req)
  })
}

describe('gateway http: server', function () {
  this.timeout(20_000)
  let h: Harness

  before(async () => { h = await startServer() })
  after(async () => { await h.server.stop() })
  beforeEach(() => {
    h.jobs.length = 0
    h.setHandler(async () => success(json({ images: [{ url: 'data:image/png;base64,AA', seed: 1, nsfw: false }] })))
  })

  describe('routes and headers', () => {
    it('GET /health answers OK with the request id and duration headers', async () => {
      const res = await fetch(`${h.url}/health`)
      expect(res.status).to.equal(200)
      expect(await res.json()).to.deep.equal({ status: 'OK' })
      expect(res.headers.get('x-shoal-request-id')).to.match(/^[0-9a-f-]{36}$/)
      expect(Number(res.headers.get('x-shoal-duration-ms'))).to.be.at.least(0)
    })

    it('POST /text-to-image validates, dispatches the job with defaults, relays the runner answer and names the orchestrator', async () => {
      const attempts: Attempt[] = [
        { peerId: '12D3KooWbusy', outcome: 'busy', ms: 2, errorCode: 'JOB_ERROR_INSUFFICIENT_CAPACITY' },
        { peerId: '12D3KooWgood', outcome: 'success', ms: 40 }
      ]
      h.setHandler(async () => success(json({ images: [{ url: 'u', seed: 3, nsfw: false }] }, 200), '12D3KooWgood', attempts))
      const res = await fetch(`${h.url}/text-to-image`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'a fox', seed: 3 }) })
      expect(res.status).to.equal(200)
      expect(res.headers.get('content-type')).to.equal('application/json')
      expect(await res.json()).to.deep.equal({ images: [{ url: 'u', seed: 3, nsfw: false }] })
      expect(res.headers.get('x-shoal-orchestrator')).to.equal('12D3KooWgood')
      expect(res.headers.get('x-shoal-attempts')).to.equal('2')
      expect(res.headers.get('x-shoal-tried')).to.equal('12D3KooWbusy;busy;2;JOB_ERROR_INSUFFICIENT_CAPACITY, 12D3KooWgood;success;40')
      expect(Number(res.headers.get('x-shoal-duration-ms'))).to.be.at.least(0)
      expect(h.jobs[0]).to.deep.include({ pipeline: 'text-to-image', modelId: 'stabilityai/sdxl-turbo' })
      expect(h.jobs[0]?.params).to.deep.include({ prompt: 'a fox', seed: 3, width: 1024, height: 576, num_inference_steps: 50 })
    })

    it('serves every pipeline under /api/generate/<pipeline> too', async () => {
      const res = await fetch(`${h.url}/api/generate/llm`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }) })
      expect(res.status).to.equal(200)
      await res.arrayBuffer()
      expect(h.jobs[0]?.pipeline).to.equal('llm')
      const up = await fetch(`${h.url}/api/generate/upscale`, { method: 'POST', body: await upscaleForm() })
      expect(up.status).to.equal(200)
      await up.arrayBuffer()
    })

    it('POST /upscale (multipart) turns the image into a job input and types the fields', async () => {
      const image = await png(8, 6)
      const res = await fetch(`${h.url}/upscale`, { method: 'POST', body: await upscaleForm(image, { num_inference_steps: '5', model_id: 'esrgan-slim' }) })
      expect(res.status).to.equal(200)
      await res.arrayBuffer()
      const job = h.jobs[0]
      expect(job?.modelId).to.equal('esrgan-slim')
      expect(job?.params).to.deep.equal({ prompt: 'sharper', safety_check: true, num_inference_steps: 5 })
      expect(job?.inputs[0]?.field).to.equal('image')
      expect(Buffer.from(job?.inputs[0] === undefined ? [] : wholeInput(job.inputs[0].data).subarray()).equals(image)).to.equal(true)
    })

    it('POST /audio-to-text accepts a WAV upload', async () => {
      h.setHandler(async () => success(json({ text: '', chunks: [] })))
      const fd = new FormData()
      fd.append('audio', new Blob([wav()], { type: 'audio/wav' }), 'a.wav')
      const res = await fetch(`${h.url}/audio-to-text`, { method: 'POST', body: fd })
      expect(res.status).to.equal(200)
      expect(await res.json()).to.deep.equal({ text: '', chunks: [] })
    })

    it('GET /network/orchestrators lists the directory (bigints as strings)', async () => {
      const other = await startServer({}, [{ peerId: 'p1', pricePerUnit: 12345678901234567890n, models: ['m'] }])
      try {
        const res = await fetch(`${other.url}/network/orchestrators`)
        expect(res.status).to.equal(200)
        expect(await res.json()).to.deep.equal([{ peerId: 'p1', pricePerUnit: '12345678901234567890', models: ['m'] }])
      } finally {
        await other.server.stop()
      }
    })

    it('GET /metrics serves Prometheus text with bounded labels', async () => {
      const r1 = await fetch(`${h.url}/text-to-image`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"x"}' })
      await r1.arrayBuffer()
      const r2 = await fetch(`${h.url}/text-to-image`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
      await r2.arrayBuffer()
      const res = await fetch(`${h.url}/metrics`)
      expect(res.status).to.equal(200)
      expect(res.headers.get('content-type')).to.match(/^text\/plain/)
      const text = await res.text()
      expect(text).to.match(/shoal_gateway_requests_total\{pipeline="text-to-image",status_class="2xx"\} \d+/)
      expect(text).to.match(/shoal_gateway_errors_total\{pipeline="text-to-image",code="GATEWAY_ERROR_VALIDATION"\} \d+/)
      expect(text).to.include('shoal_gateway_request_duration_seconds_bucket')
    })
  })

  describe('bad input', () => {
    const post = async (path: string, body: BodyInit | undefined, headers: Record<string, string> = {}): Promise<Response> =>
      await fetch(`${h.url}${path}`, { method: 'POST', headers, ...(body !== undefined ? { body } : {}) })

    it('unknown pipeline: 404 JSON, also under /api/generate', async () => {
      for (const path of ['/text-to-music', '/api/generate/text-to-music', '/live-video-to-video']) {
        const res = await post(path, '{}', { 'content-type': 'application/json' })
        expect(res.status, path).to.equal(404)
        const body = await errorBody(res)
        expect(body.error.code).to.equal('GATEWAY_ERROR_NOT_FOUND')
        expect(body.detail).to.deep.equal({ msg: body.error.message })
      }
      expect(h.jobs).to.have.length(0)
    })

    it('malformed JSON: 400', async () => {
      const res = await post('/text-to-image', '{"prompt": ', { 'content-type': 'application/json' })
      expect(res.status).to.equal(400)
      expect((await errorBody(res)).error.code).to.equal('GATEWAY_ERROR_BAD_REQUEST')
    })

    it('empty JSON body: 400', async () => {
      const res = await post('/llm', '', { 'content-type': 'application/json' })
      expect(res.status).to.equal(400)
      await errorBody(res)
    })

    it('JSON with a __proto__ key: 400, nothing polluted', async () => {
      const res = await post('/text-to-image', '{"prompt":"x","__proto__":{"polluted":1}}', { 'content-type': 'application/json' })
      expect(res.status).to.equal(400)
      await errorBody(res)
      expect(({} as Record<string, unknown>).polluted).to.equal(undefined)
    })

    it('missing and mistyped fields: 422 with {detail:[{loc,msg,type}]}', async () => {
      const res = await post('/text-to-image', JSON.stringify({ height: 'tall' }), { 'content-type': 'application/json' })
      expect(res.status).to.equal(422)
      const body = await errorBody(res)
      expect(body.error.code).to.equal('GATEWAY_ERROR_VALIDATION')
      expect(body.detail).to.deep.equal([
        { loc: ['body', 'prompt'], msg: 'Field required', type: 'missing' },
        { loc: ['body', 'height'], msg: 'Input should be a valid integer', type: 'int_type' }
      ])
      expect(res.headers.get('x-shoal-attempts')).to.equal('0')
      expect(h.jobs).to.have.length(0)
    })

    it('multipart with a mistyped field or a missing image: 422', async () => {
      const bad = await post('/upscale', await upscaleForm(undefined, { num_inference_steps: 'many' }))
      expect(bad.status).to.equal(422)
      expect(((await errorBody(bad)).detail as Array<{ type: string }>)[0]?.type).to.equal('int_parsing')
      const fd = new FormData()
      fd.append('prompt', 'x')
      const missing = await post('/upscale', fd)
      expect(missing.status).to.equal(422)
      expect((await errorBody(missing)).detail).to.deep.equal([{ loc: ['body', 'image'], msg: 'Field required', type: 'missing' }])
    })

    it('an image that does not decode: 422 image_invalid', async () => {
      const res = await post('/upscale', await upscaleForm(Buffer.from('GIF89a but not really an image')))
      expect(res.status).to.equal(422)
      expect(((await errorBody(res)).detail as Array<{ type: string, loc: unknown[] }>)[0]).to.deep.include({ type: 'image_invalid', loc: ['body', 'image'] })
    })

    it('audio that is not in a supported format: 415', async () => {
      const fd = new FormData()
      fd.append('audio', new Blob(['plain text, not audio'], { type: 'audio/wav' }), 'a.wav')
      const res = await post('/audio-to-text', fd)
      expect(res.status).to.equal(415)
      expect((await errorBody(res)).error.code).to.equal('GATEWAY_ERROR_UNSUPPORTED_MEDIA_TYPE')
    })

    it('the wrong body kind for the pipeline: 415', async () => {
      const cases: Array<[string, BodyInit | undefined, Record<string, string>]> = [
        ['/upscale', '{"prompt":"x"}', { 'content-type': 'application/json' }],
        ['/text-to-image', await upscaleForm(), {}],
        ['/text-to-image', 'prompt=x', { 'content-type': 'text/plain' }],
        ['/text-to-image', 'prompt=x', { 'content-type': 'application/x-www-form-urlencoded' }],
        ['/upscale', Buffer.from('abc'), { 'content-type': 'image/png' }],
        ['/text-to-image', undefined, {}]
      ]
      for (const [path, body, headers] of cases) {
        const res = await post(path, body, headers)
        expect(res.status, `${path} ${JSON.stringify(headers)}`).to.equal(415)
        await errorBody(res)
      }
    })

    it('malformed multipart: 400', async () => {
      const noBoundary = await post('/upscale', 'whatever', { 'content-type': 'multipart/form-data' })
      expect(noBoundary.status).to.equal(400)
      await errorBody(noBoundary)
      const garbage = await post('/upscale', 'this is not multipart at all', { 'content-type': 'multipart/form-data; boundary=XYZ' })
      expect(garbage.status).to.equal(400)
      await errorBody(garbage)
      const truncated = await post('/upscale', '--XYZ\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\nabc', { 'content-type': 'multipart/form-data; boundary=XYZ' })
      expect(truncated.status).to.equal(400)
      await errorBody(truncated)
    })

    it('a body over the limit: 413, whether declared, JSON, or streamed multipart without a length', async () => {
      const small = await startServer({ bodyLimitBytes: 64 * 1024 })
      try {
        const declared = await rawRequest(small.url, '/upscale', { 'content-type': 'multipart/form-data; boundary=XYZ', 'content-length': String(10 * 1024 * 1024) }, req => { req.write('--XYZ\r\n') })
        expect(declared.status).to.equal(413)
        expect(JSON.parse(declared.body).error.code).to.equal('GATEWAY_ERROR_PAYLOAD_TOO_LARGE')

        const bigJson = await fetch(`${small.url}/text-to-image`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'x'.repeat(100 * 1024) }) })
        expect(bigJson.status).to.equal(413)
        await errorBody(bigJson)

        const streamed = await rawRequest(small.url, '/upscale', { 'content-type': 'multipart/form-data; boundary=XYZ', 'transfer-encoding': 'chunked' }, req => {
          req.write('--XYZ\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n')
          const chunk = Buffer.alloc(16 * 1024, 7)
          let sent = 0
          const pump = (): void => {
            while (sent < 40 && !req.destroyed) {
              sent++
              if (!req.write(chunk)) { req.once('drain', pump); return }
            }
            if (!req.destroyed) req.end('\r\n--XYZ--\r\n')
          }
          pump()
        })
        expect(streamed.status).to.equal(413)
        expect(JSON.parse(streamed.body).error.code).to.equal('GATEWAY_ERROR_PAYLOAD_TOO_LARGE')
        expect(small.jobs).to.have.length(0)
      } finally {
        await small.server.stop()
      }
    })

    it('no orchestrator: 503 "no orchestrators available", with the attempts in headers', async () => {
      h.setHandler(async () => { throw new NoOrchestratorError('exhausted', [{ peerId: 'p1', outcome: 'failure', ms: 3, errorCode: 'JOB_ERROR_UNREACHABLE' }], 'JOB_ERROR_UNREACHABLE') })
      const res = await post('/text-to-image', '{"prompt":"x"}', { 'content-type': 'application/json' })
      expect(res.status).to.equal(503)
      const body = await errorBody(res)
      // it names the pipeline and model it looked for (sdxl-turbo: the reference default) and what the mesh serves instead
      const msg = 'no orchestrators available for text-to-image model "stabilityai/sdxl-turbo": every orchestrator serving it failed or ran out of time; the mesh serves no model for text-to-image'
      expect(body.detail).to.deep.equal({ msg })
      expect(body.error).to.deep.equal({ code: 'GATEWAY_ERROR_NO_ORCHESTRATOR', message: msg, pipeline: 'text-to-image', model: 'stabilityai/sdxl-turbo', served: [] })
      expect(res.headers.get('x-shoal-attempts')).to.equal('1')
      expect(res.headers.get('x-shoal-tried')).to.equal('p1;failure;3;JOB_ERROR_UNREACHABLE')
    })

    it('every orchestrator busy: 503 with Retry-After; a gateway limit: 402 naming the limit', async () => {
      h.setHandler(async () => { throw new NoOrchestratorError('busy', [{ peerId: 'p1', outcome: 'busy', ms: 3, errorCode: 'JOB_ERROR_INSUFFICIENT_CAPACITY' }], 'JOB_ERROR_INSUFFICIENT_CAPACITY', 7) })
      const busy = await post('/text-to-image', '{"prompt":"x"}', { 'content-type': 'application/json' })
      expect(busy.status).to.equal(503)
      expect(busy.headers.get('retry-after')).to.equal('7')
      h.setHandler(async () => { throw new GatewayLimitDispatchError('ticket above the cap', 'max_ticket_value', [{ peerId: 'p2', outcome: 'limit', ms: 1, errorCode: 'JOB_ERROR_GATEWAY_LIMIT' }], 'p2') })
      const limited = await post('/text-to-image', '{"prompt":"x"}', { 'content-type': 'application/json' })
      expect(limited.status).to.equal(402)
      expect(limited.headers.get('retry-after')).to.equal(null)
      expect((await errorBody(limited)).error).to.deep.equal({ code: 'GATEWAY_ERROR_GATEWAY_LIMIT', message: 'ticket above the cap', limit: 'max_ticket_value' })
    })

    it('a bad request refused by the runner (JOB_ERROR_BAD_REQUEST): 400 with its message, naming the orchestrator', async () => {
      h.setHandler(async () => { throw new JobRejectedError('prompt is too long', [{ peerId: 'p9', outcome: 'rejected', ms: 4, errorCode: 'JOB_ERROR_BAD_REQUEST' }], 'p9') })
      const res = await post('/text-to-image', '{"prompt":"x"}', { 'content-type': 'application/json' })
      expect(res.status).to.equal(400)
      expect((await errorBody(res)).detail).to.deep.equal({ msg: 'prompt is too long' })
      expect(res.headers.get('x-shoal-orchestrator')).to.equal('p9')
    })

    it('a runner 4xx answer goes back as that 4xx with its body', async () => {
      h.setHandler(async () => success(json({ detail: { msg: 'model not loaded' } }, 400), 'p2', [{ peerId: 'p2', outcome: 'rejected', ms: 1, errorCode: 'RUNNER_HTTP_400' }]))
      const res = await post('/text-to-image', '{"prompt":"x"}', { 'content-type': 'application/json' })
      expect(res.status).to.equal(400)
      expect(await res.json()).to.deep.equal({ detail: { msg: 'model not loaded' } })
      expect(res.headers.get('x-shoal-orchestrator')).to.equal('p2')
    })

    it('an unexpected dispatcher failure: 500 without internals, and the server keeps serving', async () => {
      h.setHandler(async () => { throw new TypeError('secret internal detail') })
      const res = await post('/text-to-image', '{"prompt":"x"}', { 'content-type': 'application/json' })
      expect(res.status).to.equal(500)
      const body = await errorBody(res)
      expect(JSON.stringify(body)).to.not.include('secret')
      h.setHandler(async () => success(json({ ok: true })))
      const again = await post('/text-to-image', '{"prompt":"x"}', { 'content-type': 'application/json' })
      expect(again.status).to.equal(200)
      await again.arrayBuffer()
    })

    it('a runner body that fails before the gateway answers becomes an error status, not a cut body', async () => {
      h.setHandler(async () => success({
        status: 200,
        contentType: 'application/json',
        body: (async function * () { yield encoder.encode('{"partial":'); throw new Error('stream reset') })()
      }))
      const res = await post('/text-to-image', '{"prompt":"x"}', { 'content-type': 'application/json' })
      expect(res.status).to.be.within(500, 599)
      expect(await errorBody(res)).to.have.property('error')
    })

    it('a runner body that fails mid-stream does not crash the server', async () => {
      h.setHandler(async () => success({
        status: 200,
        contentType: 'application/json',
        body: (async function * () { yield encoder.encode('{"partial":'); yield encoder.encode('[1,'); throw new Error('stream reset') })()
      }))
      const res = await post('/text-to-image', '{"prompt":"x"}', { 'content-type': 'application/json' })
      expect(res.status).to.equal(200)
      const read = await res.text().then(() => 'complete', () => 'cut')
      expect(read).to.equal('cut')
      const health = await fetch(`${h.url}/health`)
      expect(health.status).to.equal(200)
    })
  })

  describe('API keys', () => {
    let secured: Harness
    before(async () => { secured = await startServer({ apiKeys: ['k-one', 'k-two'] }) })
    after(async () => { await secured.server.stop() })

    it('401 with a missing or wrong key, before reading the body', async () => {
      for (const auth of [undefined, 'Bearer nope', 'k-one', 'Basic k-one', 'Bearer ']) {
        const res = await fetch(`${secured.url}/text-to-image`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(auth !== undefined ? { authorization: auth } : {}) },
          body: '{"prompt":"x"}'
        })
        expect(res.status, String(auth)).to.equal(401)
        expect(res.headers.get('www-authenticate')).to.equal('Bearer')
        expect((await errorBody(res)).error.code).to.equal('GATEWAY_ERROR_UNAUTHORIZED')
      }
      expect(secured.jobs).to.have.length(0)
    })

    it('accepts any configured key; /health needs none', async () => {
      for (const key of ['k-one', 'k-two']) {
        const res = await fetch(`${secured.url}/text-to-image`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: '{"prompt":"x"}' })
        expect(res.status).to.equal(200)
        await res.arrayBuffer()
      }
      expect((await fetch(`${secured.url}/health`)).status).to.equal(200)
      expect((await fetch(`${secured.url}/jobs/x`, { method: 'HEAD' })).status).to.equal(401)
      expect((await fetch(`${secured.url}/jobs/x`, { method: 'HEAD', headers: { authorization: 'Bearer k-one' } })).status).to.equal(404)
    })
  })

  describe('streaming and cancellation', () => {
    it('relays LLM Server-Sent Events chunk by chunk: the first arrives before the last is produced', async () => {
      let releaseLast!: () => void
      const lastGate = new Promise<void>(resolve => { releaseLast = resolve })
      let lastProduced = false
      h.setHandler(async (job) => {
        expect(job.params.stream).to.equal(true)
        return success({
          status: 200,
          contentType: 'text/event-stream',
          body: (async function * () {
            yield encoder.encode('data: {"choices":[{"delta":{"content":"Hel"}}]}\n\n')
            await lastGate
            lastProduced = true
            yield encoder.encode('data: {"choices":[{"delta":{"content":"lo"}}]}\n\n')
            yield encoder.encode('data: [DONE]\n\n')
          })()
        })
      })
      const res = await fetch(`${h.url}/llm`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], stream: true }) })
      expect(res.status).to.equal(200)
      expect(res.headers.get('content-type')).to.equal('text/event-stream')
      expect(res.headers.get('cache-control')).to.equal('no-cache')
      const reader = res.body!.getReader()
      const first = await reader.read()
      expect(new TextDecoder().decode(first.value)).to.include('Hel')
      expect(lastProduced).to.equal(false)
      releaseLast()
      let rest = ''
      for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value)
      expect(lastProduced).to.equal(true)
      expect(rest).to.include('"lo"').and.include('data: [DONE]')
    })

    it('an SSE stream that fails mid-way ends with an error event', async () => {
      h.setHandler(async () => success({
        status: 200,
        contentType: 'text/event-stream',
        body: (async function * () {
          yield encoder.encode('data: {"choices":[{"delta":{"content":"a"}}]}\n\n')
          await new Promise(resolve => setTimeout(resolve, 20))
          throw new Error('orchestrator went away')
        })()
      }))
      const res = await fetch(`${h.url}/llm`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }], stream: true }) })
      const text = await res.text()
      expect(text).to.include('"a"')
      expect(text.trim().split('\n\n').at(-1)).to.equal('data: {"error":{"message":"stream interrupted"}}')
    })

    it('a client that disconnects while waiting aborts the dispatch', async () => {
      let aborted!: () => void
      const wasAborted = new Promise<void>(resolve => { aborted = resolve })
      let started!: () => void
      const didStart = new Promise<void>(resolve => { started = resolve })
      h.setHandler(async (_job, { signal }) => {
        started()
        return await new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => { aborted(); reject(new Error('aborted')) }, { once: true })
        })
      })
      const client = new AbortController()
      const pending = fetch(`${h.url}/text-to-image`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"x"}', signal: client.signal }).catch(e => e)
      await didStart
      client.abort()
      await pending
      await Promise.race([wasAborted, new Promise((_r, reject) => setTimeout(() => reject(new Error('dispatch was not aborted')), 3000))])
    })

    it('a client that disconnects mid-stream stops the relay (the runner body is closed)', async () => {
      let closed!: () => void
      const wasClosed = new Promise<void>(resolve => { closed = resolve })
      h.setHandler(async () => success({
        status: 200,
        contentType: 'text/event-stream',
        body: (async function * () {
          try {
            for (let i = 0; i < 1000; i++) {
              yield encoder.encode(`data: {"i":${i}}\n\n`)
              await new Promise(resolve => setTimeout(resolve, 10))
            }
          } finally {
            closed()
          }
        })()
      }))
      const client = new AbortController()
      const res = await fetch(`${h.url}/llm`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }], stream: true }), signal: client.signal })
      const reader = res.body!.getReader()
      await reader.read()
      client.abort()
      await Promise.race([wasClosed, new Promise((_r, reject) => setTimeout(() => reject(new Error('runner body was not closed')), 3000))])
      const metrics = await (await fetch(`${h.url}/metrics`)).text()
      expect(metrics).to.match(/shoal_gateway_inflight_requests 0/)
      expect(metrics).to.match(/shoal_gateway_requests_total\{pipeline="llm",status_class="aborted"\} [1-9]/)
    })

    it('stop() aborts dispatches in flight', async () => {
      const own = await startServer()
      let aborted = false
      let started!: () => void
      const didStart = new Promise<void>(resolve => { started = resolve })
      own.setHandler(async (_job, { signal }) => {
        started()
        return await new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => { aborted = true; reject(new Error('aborted')) }, { once: true })
        })
      })
      const pending = fetch(`${own.url}/text-to-image`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"x"}' }).catch(e => e)
      await didStart
      await own.server.stop()
      await pending
      expect(aborted).to.equal(true)
    })
  })

  describe('Prefer: respond-async', () => {
    it('answers 202 {request_id}, then the result can be polled (reference endpoint and /jobs)', async () => {
      let finish!: () => void
      const gate = new Promise<void>(resolve => { finish = resolve })
      h.setHandler(async () => {
        await gate
        return success(json({ images: [{ url: 'data:video/mp4;base64,AA', seed: 5, nsfw: false }] }), 'p-video')
      })
      const fd = new FormData()
      fd.append('image', new Blob([await png(8, 8)], { type: 'image/png' }), 'i.png')
      const res = await fetch(`${h.url}/image-to-video`, { method: 'POST', headers: { prefer: 'respond-async' }, body: fd })
      expect(res.status).to.equal(202)
      const { request_id: id } = await res.json() as { request_id: string }
      expect(id).to.equal(res.headers.get('x-shoal-request-id'))
      expect(res.headers.get('preference-applied')).to.equal('respond-async')

      const poll = async (): Promise<Response> => await fetch(`${h.url}/image-to-video/result`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request_id: id }) })
      const processing = await poll()
      expect(processing.status).to.equal(202)
      expect(await processing.json()).to.deep.equal({ status: 'processing' })
      expect((await fetch(`${h.url}/jobs/${id}`)).status).to.equal(202)

      finish()
      let done: Response | undefined
      for (let i = 0; i < 100; i++) {
        const r = await poll()
        if (r.status === 200) { done = r; break }
        await r.arrayBuffer()
        await new Promise(resolve => setTimeout(resolve, 10))
      }
      expect(done?.status).to.equal(200)
      expect(await done?.json()).to.deep.equal({ status: 'complete', result: { images: [{ url: 'data:video/mp4;base64,AA', seed: 5, nsfw: false }] } })
      expect(done?.headers.get('x-shoal-orchestrator')).to.equal('p-video')

      const job = await fetch(`${h.url}/jobs/${id}`)
      expect(job.status).to.equal(200)
      const body = await job.json() as Record<string, unknown>
      expect(body).to.deep.include({ request_id: id, pipeline: 'image-to-video', status: 'complete', http_status: 200, orchestrator: 'p-video' })
      expect(body.attempts).to.deep.equal([{ peer_id: 'p-video', outcome: 'success', ms: 12 }])

      const raw = await fetch(`${h.url}/jobs/${id}/result`)
      expect(raw.status).to.equal(200)
      expect(raw.headers.get('content-type')).to.equal('application/json')
      expect(await raw.json()).to.deep.equal({ images: [{ url: 'data:video/mp4;base64,AA', seed: 5, nsfw: false }] })
    })

    it('works for any pipeline and keeps failures as results', async () => {
      h.setHandler(async () => { throw new NoOrchestratorError('none', []) })
      const res = await fetch(`${h.url}/text-to-image`, { method: 'POST', headers: { 'content-type': 'application/json', prefer: 'respond-async, wait=5' }, body: '{"prompt":"x"}' })
      expect(res.status).to.equal(202)
      const { request_id: id } = await res.json() as { request_id: string }
      let body: Record<string, unknown> = {}
      for (let i = 0; i < 100; i++) {
        const r = await fetch(`${h.url}/jobs/${id}`)
        body = await r.json() as Record<string, unknown>
        // a failed job answers with the status the synchronous call had
        if (r.status !== 202) { expect(r.status).to.equal(503); break }
        await new Promise(resolve => setTimeout(resolve, 10))
      }
      expect(body).to.deep.include({ status: 'failed', http_status: 503 })
      expect((body.result as { error: Record<string, unknown> }).error).to.deep.include({ code: 'GATEWAY_ERROR_NO_ORCHESTRATOR', pipeline: 'text-to-image', model: 'stabilityai/sdxl-turbo' })
    })

    it('still validates before accepting: a bad request is answered at once', async () => {
      const res = await fetch(`${h.url}/text-to-image`, { method: 'POST', headers: { 'content-type': 'application/json', prefer: 'respond-async' }, body: '{}' })
      expect(res.status).to.equal(422)
      await res.arrayBuffer()
    })

    it('unknown request ids: 400 "invalid request ID" on the reference endpoint, 404 on /jobs; wrong pipeline counts as unknown', async () => {
      const res = await fetch(`${h.url}/text-to-image`, { method: 'POST', headers: { 'content-type': 'application/json', prefer: 'respond-async' }, body: '{"prompt":"x"}' })
      const { request_id: id } = await res.json() as { request_id: string }
      const wrong = await fetch(`${h.url}/upscale/result`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request_id: id }) })
      expect(wrong.status).to.equal(400)
      expect((await errorBody(wrong)).detail).to.deep.equal({ msg: 'invalid request ID' })
      const unknown = await fetch(`${h.url}/jobs/nope`)
      expect(unknown.status).to.equal(404)
      await errorBody(unknown)
      const missing = await fetch(`${h.url}/text-to-image/result`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
      expect(missing.status).to.equal(422)
      await errorBody(missing)
    })

    it('drops results after the TTL', async () => {
      const short = await startServer({ asyncResultTtlMs: 100 })
      try {
        const res = await fetch(`${short.url}/text-to-image`, { method: 'POST', headers: { 'content-type': 'application/json', prefer: 'respond-async' }, body: '{"prompt":"x"}' })
        const { request_id: id } = await res.json() as { request_id: string }
        await new Promise(resolve => setTimeout(resolve, 20))
        const early = await fetch(`${short.url}/jobs/${id}`)
        expect(early.status).to.equal(200)
        await early.arrayBuffer()
        await new Promise(resolve => setTimeout(resolve, 150))
        expect((await fetch(`${short.url}/jobs/${id}`)).status).to.equal(404)
      } finally {
        await short.server.stop()
      }
    })
  })
})
