import { expect } from 'chai'
import http from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { createCpuRunnerServer, type CpuRunnerServer } from '../../../src/cpu-runner/index.js'
import { createRunnerClient, encodeJob, type RunnerClient } from '../../../src/inference/runner-client/index.js'
import type { InferenceJob } from '../../../src/kernel/job.js'
import { dataUrlBytes, makePng } from '../fixtures.js'
import { readAll } from '../../helpers/streams.js'

/** A plain HTTP server on loopback, to script what a runner does. */
async function scriptedServer (handler: http.RequestListener): Promise<{ url: string, server: http.Server, close: () => Promise<void> }> {
  const server = http.createServer(handler)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    }
  }
}

describe('inference/runner-client: the ai-runner HTTP client', function () {
  this.timeout(20_000)
  let upscale: CpuRunnerServer
  let t2i: CpuRunnerServer
  let client: RunnerClient
  let png: Buffer
  before(async () => {
    png = await makePng(40, 30)
    upscale = createCpuRunnerServer({ pipeline: 'upscale', modelId: 'shoal/noop', port: 0, authToken: 'tok' })
    t2i = createCpuRunnerServer({ pipeline: 'text-to-image', modelId: 'shoal/noop', port: 0 })
    await Promise.all([upscale.start(), t2i.start()])
    client = createRunnerClient({ url: upscale.url, token: 'tok' })
  })
  after(async () => {
    client.close()
    await Promise.all([upscale.stop(), t2i.stop()])
  })

  it('reads /health, /version, /hardware/info and /hardware/stats', async () => {
    expect(await client.health()).to.deep.equal({ status: 'OK' })
    expect(await client.version()).to.include({ pipeline: 'upscale', model_id: 'shoal/noop' })
    expect((await client.hardwareInfo()).gpu_info).to.deep.equal({})
    expect((await client.hardwareStats()).gpu_stats).to.deep.equal({})
  })

  it('sends a multipart job with its files and the bearer token, and streams the answer', async () => {
    const job: InferenceJob = { pipeline: 'upscale', modelId: 'shoal/noop', params: { prompt: 'a', seed: 7, safety_check: false }, inputs: [{ field: 'image', filename: 'x "quoted".png', contentType: 'image/png', data: png }] }
    const res = await client.run(job)
    expect(res.status).to.equal(200)
    expect(res.contentType).to.match(/^application\/json/)
    const body = JSON.parse(String(await readAll(res.body)))
    expect(body.images[0].seed).to.equal(7)
    expect(dataUrlBytes(body.images[0].url).equals(png)).to.equal(true)
  })

  it('returns runner error answers as responses: 401 without the token, 422 without the image', async () => {
    const anonymous = createRunnerClient({ url: upscale.url })
    const unauthorized = await anonymous.run({ pipeline: 'upscale', modelId: 'shoal/noop', params: { prompt: 'a' }, inputs: [] })
    expect(unauthorized.status).to.equal(401)
    await readAll(unauthorized.body)
    anonymous.close()
    const invalid = await client.run({ pipeline: 'upscale', modelId: 'shoal/noop', params: { prompt: 'a' }, inputs: [] })
    expect(invalid.status).to.equal(422)
    expect(JSON.parse(String(await readAll(invalid.body))).detail[0].loc).to.deep.equal(['body', 'image'])
  })

  it('sends a JSON job with the job model as model_id', async () => {
    const json = createRunnerClient({ url: t2i.url })
    const res = await json.run({ pipeline: 'text-to-image', modelId: 'shoal/noop', params: { prompt: 'cat', width: 256, loras: '' }, inputs: [] })
    expect(res.status).to.equal(200)
    expect(JSON.parse(String(await readAll(res.body)))).to.deep.include({ prompt: 'cat', width: 256, model_id: 'shoal/noop' })
    const wrong = await json.run({ pipeline: 'text-to-image', modelId: 'someone/else', params: { prompt: 'cat' }, inputs: [] })
    expect(wrong.status).to.equal(400)
    await readAll(wrong.body)
    json.close()
  })

  it('refuses file inputs for a JSON pipeline with RUNNER_ERROR_INVALID_JOB', () => {
    expect(() => encodeJob({ pipeline: 'llm', modelId: 'm', params: {}, inputs: [{ field: 'image', filename: 'a', contentType: 'image/png', data: png }] }))
      .to.throw().with.property('code', 'RUNNER_ERROR_INVALID_JOB')
  })

  it('relays Server-Sent Events chunk by chunk, as the runner writes them', async () => {
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => { release = resolve })
    const sse = await scriptedServer((req, res) => {
      req.resume()
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write('data: {"n":1}\n\n')
      void gate.then(() => { res.end('data: [DONE]\n\n') })
    })
    const sseClient = createRunnerClient({ url: sse.url })
    const res = await sseClient.run({ pipeline: 'llm', modelId: 'm', params: { messages: [{ role: 'user', content: 'hi' }], stream: true }, inputs: [] })
    expect(res.contentType).to.equal('text/event-stream')
    const iterator = res.body[Symbol.asyncIterator]()
    // the first event arrives while the runner still holds the rest back
    const first = await iterator.next()
    expect(Buffer.from(first.value as Uint8Array).toString()).to.equal('data: {"n":1}\n\n')
    release()
    const second = await iterator.next()
    expect(Buffer.from(second.value as Uint8Array).toString()).to.equal('data: [DONE]\n\n')
    expect((await iterator.next()).done).to.equal(true)
    sseClient.close()
    await sse.close()
  })

  it('cancels the HTTP request on abort, and the runner sees the disconnect', async () => {
    const closed: Array<Promise<unknown>> = []
    const slow = await scriptedServer((req, res) => {
      req.resume()
      closed.push(once(res, 'close'))
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write('data: {"n":1}\n\n')
    })
    const slowClient = createRunnerClient({ url: slow.url })
    const controller = new AbortController()
    const res = await slowClient.run({ pipeline: 'llm', modelId: 'm', params: { messages: [], stream: true }, inputs: [] }, { signal: controller.signal })
    const iterator = res.body[Symbol.asyncIterator]()
    await iterator.next()
    controller.abort()
    const err = await iterator.next().then(() => null, (e) => e)
    expect(err).to.have.property('name', 'RunnerClientError')
    expect(err).to.have.property('code', 'RUNNER_ERROR_ABORTED')
    await closed[0] // the runner's response closed under it: the client went away
    slowClient.close()
    await slow.close()
  })

  it('maps failures to typed errors: unreachable, timeout, bad response', async () => {
    const dead = await scriptedServer(() => {})
    const deadUrl = dead.url
    await dead.close()
    const unreachable = await createRunnerClient({ url: deadUrl }).health().then(() => null, (e) => e)
    expect(unreachable).to.have.property('code', 'RUNNER_ERROR_UNREACHABLE')

    const silent = await scriptedServer((req) => { req.resume() })
    const timeout = await createRunnerClient({ url: silent.url, requestTimeoutMs: 100 }).health().then(() => null, (e) => e)
    expect(timeout).to.have.property('code', 'RUNNER_ERROR_TIMEOUT')
    const runTimeout = await createRunnerClient({ url: silent.url }).run({ pipeline: 'text-to-image', modelId: 'm', params: {}, inputs: [] }, { signal: AbortSignal.timeout(100) }).then(() => null, (e) => e)
    expect(runTimeout).to.have.property('code', 'RUNNER_ERROR_TIMEOUT')
    await silent.close()

    const garbage = await scriptedServer((req, res) => { res.end(req.url === '/health' ? '{"status":"FINE"}' : 'not json') })
    const bad = createRunnerClient({ url: garbage.url })
    expect(await bad.health().then(() => null, (e) => e)).to.have.property('code', 'RUNNER_ERROR_BAD_RESPONSE')
    expect(await bad.version().then(() => null, (e) => e)).to.have.property('code', 'RUNNER_ERROR_BAD_RESPONSE')
    bad.close()
    await garbage.close()
  })

  it('reuses keep-alive connections for sequential calls', async () => {
    let connections = 0
    const counting = await scriptedServer((req, res) => { req.resume(); res.end('{"status":"OK"}') })
    counting.server.on('connection', () => { connections++ })
    const c = createRunnerClient({ url: counting.url })
    // the pool frees a connection a tick after its body ends: a call made in that same tick
    // opens a second one, later calls reuse them
    for (let i = 0; i < 20; i++) await c.health()
    expect(connections).to.be.within(1, 2)
    c.close()
    await counting.close()
  })
})
