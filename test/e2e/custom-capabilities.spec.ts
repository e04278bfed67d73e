import { expect } from 'chai'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'node:http'
import { fileURLToPath } from 'node:url'
import { startProcessMesh, type ProcessMesh } from '../../src/testnet/process-mesh.js'
import { waitFor } from './helpers.js'
import { livepeerHeader, post, postInTwo } from '../helpers/custom-http.js'

/**
 * Custom capabilities through a real mesh (bootstrap, two orchestrators, a gateway, as
 * processes): the example app of docker/custom-example run as a process runner, declared in
 * a capabilities file, announced, and called through both gateway routes. The Docker and
 * paid part is test/e2e/custom-capabilities-docker.spec.ts.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const APP = join(ROOT, 'docker/custom-example/server.mjs')
const NAME = 'example'
const BODY_LIMIT = 1024 * 1024
/** a longer body is streamed to the orchestrator as it arrives */
const REPLAY_BYTES = 64 * 1024

/** Bytes the orchestrators have received as job input, all together. */
async function inputBytes (mesh: ProcessMesh): Promise<number> {
  let sum = 0
  for (const o of mesh.orchestrators) {
    const text = await (await fetch(o.metricsUrl!)).text()
    for (const line of text.split('\n')) if (line.startsWith('shoal_ai_server_input_bytes_total')) sum += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return sum
}

describe('e2e: custom capabilities (process runner)', function () {
  this.timeout(90_000)
  let mesh: ProcessMesh
  let url: string

  before(async function () {
    // starting four processes takes seconds on an idle machine, minutes on a loaded one
    this.timeout(300_000)
    const dataDir = await mkdtemp(join(tmpdir(), 'shoal-custom-'))
    const file = join(dataDir, 'capabilities.json')
    await writeFile(file, JSON.stringify([{
      name: NAME,
      description: 'the custom-example app: echo, events, sleep, thumbnail',
      command: [process.execPath, APP],
      capacity: 4,
      timeout_seconds: 20
    }, {
      name: 'strict',
      command: [process.execPath, APP],
      request_schema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } }
    }, {
      name: 'pow',
      description: 'proof-of-work search, a stream session',
      command: [process.execPath, APP],
      streaming: true,
      timeout_seconds: 60
    }]))
    mesh = await startProcessMesh({
      dataDir,
      orchestrators: 2,
      models: () => [],
      gatewayPort: 0,
      extraArgs: { orchestrator: () => ['--custom-capabilities', file, '--metrics-port', '0'], gateway: ['--body-limit', String(BODY_LIMIT), '--custom-replay-bytes', String(REPLAY_BYTES)] }
    })
    url = mesh.gateway.url
  })
  after(async () => { await mesh?.stop() })

  it('is announced: GET /capabilities and GET /network/orchestrators list it on both orchestrators', async () => {
    const listed = await waitFor(async () => {
      const { capabilities } = await (await fetch(`${url}/capabilities`)).json() as { capabilities: Array<{ name: string, description: string, orchestrators: unknown[], capacity: number }> }
      const mine = capabilities.find(c => c.name === NAME)
      return mine !== undefined && mine.orchestrators.length === 2 && capabilities.length === 3 ? mine : undefined
    }, 30_000, 'both orchestrators listed under /capabilities')
    expect(listed.description).to.equal('the custom-example app: echo, events, sleep, thumbnail')
    expect(listed.capacity).to.equal(8)
    const rows = await (await fetch(`${url}/network/orchestrators`)).json() as Array<{ models: Array<{ pipeline: string, modelId: string, unit: string }> }>
    const offers = rows.flatMap(r => r.models).filter(m => m.pipeline === 'custom' && m.modelId === NAME)
    expect(offers.map(o => [o.modelId, o.unit])).to.deep.equal([[NAME, 'compute-ms'], [NAME, 'compute-ms']])
  })

  it('passes bodies and answers unchanged on Shoal\'s route and on the reference\'s /process/request route', async () => {
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 256))
    const plain = await post(`${url}/capability/${NAME}/echo`, bytes, { 'content-type': 'application/x-custom' })
    expect(plain.status).to.equal(200)
    expect(plain.headers['content-type']).to.equal('application/x-custom')
    expect(plain.body.equals(bytes)).to.equal(true)
    expect(plain.headers['x-shoal-capability']).to.equal(NAME)

    const byoc = await post(`${url}/process/request/sleep?ms=50`, '{}', {
      'content-type': 'application/json',
      livepeer: livepeerHeader({ capability: NAME, request: JSON.stringify({ run: 'me' }), timeout_seconds: 10 })
    })
    expect(byoc.status, byoc.body.toString()).to.equal(200)
    expect(JSON.parse(byoc.body.toString())).to.deep.equal({ slept: 50, livepeer_request: '{"run":"me"}' })
    // the compute time the orchestrator measured: at least the 50 ms the app slept
    expect(Number(byoc.headers['x-shoal-compute-ms'])).to.be.at.least(50).and.below(5_000)
    expect(byoc.headers['x-shoal-attempts']).to.equal('1')
  })

  it('checks JSON bodies against the capability\'s request schema on the orchestrator', async () => {
    const bad = await post(`${url}/capability/strict/echo`, '{"text": 1}', { 'content-type': 'application/json' })
    expect(bad.status).to.equal(400)
    expect(JSON.parse(bad.body.toString()).error.message).to.equal('request does not match the strict request schema: /text must be string')
    expect(bad.headers['x-shoal-attempts']).to.equal('1')
    const good = await post(`${url}/capability/strict/echo`, '{"text": "hi"}', { 'content-type': 'application/json' })
    expect(good.status).to.equal(200)
    expect(good.body.toString()).to.equal('{"text": "hi"}')
  })

  it('relays a Server-Sent Events answer as it arrives, with its compute time as a trailer', async () => {
    const started = Date.now()
    const res = await post(`${url}/capability/${NAME}/events?count=4&interval_ms=400`, '')
    expect(res.status).to.equal(200)
    expect(res.headers['content-type']).to.equal('text/event-stream')
    const events = res.body.toString().split('\n\n').filter(e => e.startsWith('data: '))
    expect(events).to.have.length(4)
    // the first event reached the client long before the last was written (1.2 s later)
    const first = res.arrivals.find(a => a.text.includes('"i":0'))
    const last = res.arrivals.find(a => a.text.includes('"i":3'))
    expect(first, 'first event').to.not.equal(undefined)
    expect(last!.at - first!.at).to.be.at.least(900)
    expect(first!.at - started).to.be.below(last!.at - started - 900)
    expect(Number(res.trailers['x-shoal-compute-ms'])).to.be.at.least(1_200)
  })

  it('answers a malformed Livepeer header, an unknown capability, an oversized body and a timeout with clear errors', async () => {
    const notBase64 = await post(`${url}/process/request/echo`, 'x', { livepeer: '%%%not base64%%%' })
    expect(notBase64.status).to.equal(400)
    expect(JSON.parse(notBase64.body.toString()).error.message).to.match(/Livepeer header is not base64/)

    const noCapability = await post(`${url}/process/request/echo`, 'x', { livepeer: livepeerHeader({ request: '{}' }) })
    expect(noCapability.status).to.equal(400)
    expect(JSON.parse(noCapability.body.toString()).error.message).to.match(/"capability" must be a non-empty string/)

    const missing = await post(`${url}/process/request/echo`, 'x')
    expect(missing.status).to.equal(400)
    expect(JSON.parse(missing.body.toString()).error.message).to.match(/missing Livepeer header/)

    const unknown = await post(`${url}/capability/no-such-app/echo`, 'x')
    expect(unknown.status).to.equal(404)
    expect(JSON.parse(unknown.body.toString()).error.message).to.match(/unknown capability "no-such-app"; the mesh serves example, pow, strict/)

    const oversized = await post(`${url}/capability/${NAME}/echo`, Buffer.alloc(BODY_LIMIT + 1))
    expect(oversized.status).to.equal(413)

    const began = Date.now()
    const late = await post(`${url}/capability/${NAME}/sleep?ms=10000`, '', { 'x-shoal-timeout': '1' })
    expect(late.status).to.equal(408)
    expect(JSON.parse(late.body.toString()).error.message).to.match(/did not answer within 1000 ms/)
    expect(Date.now() - began).to.be.below(5_000)
    // the request's own timeout is not tried elsewhere
    expect(late.headers['x-shoal-attempts']).to.equal('1')
  })

  it('a stream session the app ends itself: its data, then the end; params the app refuses are a 400 in its words', async () => {
    const start = await fetch(`${url}/process/stream/start?capability=pow`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prefix: 'x', difficulty: 2, max_results: 3 }) })
    expect(start.status).to.equal(200)
    const { stream_id: id, data_url: dataUrl } = await start.json() as { stream_id: string, data_url: string }
    // read once the app may already have ended: the kept messages, then the end
    const text = await (await fetch(`${url}${dataUrl}`)).text()
    const events = text.trim().split('\n\n')
    expect(events).to.have.length(4)
    expect(events.slice(0, 3).map(e => e.split('\n')[0])).to.deep.equal(['id: 0', 'id: 1', 'id: 2'])
    expect(events[3].split('\n')[0]).to.equal('event: end')
    expect(JSON.parse(events[3].split('\n')[1].slice('data: '.length))).to.deep.include({ state: 'ended', reason: 'the app ended the stream', data_messages: 3, charged_wei: '0' })
    const status = await (await fetch(`${url}/process/stream/${id}/status`)).json() as { state: string, compute_ms: number }
    expect(status.state).to.equal('ended')

    const refused = await fetch(`${url}/process/stream/start?capability=pow`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ difficulty: 99 }) })
    expect(refused.status).to.equal(400)
    expect((await refused.json() as { error: { message: string } }).error.message).to.match(/the app answered 400 to \/stream\/start: .*difficulty must be an integer in \[1, 6\]/)
    const unknown = await fetch(`${url}/process/stream/nope/status`)
    expect(unknown.status).to.equal(404)
  })

  it('streams a body longer than --custom-replay-bytes to the orchestrator while the client still sends it; a chunked body over the limit is a 413 as it arrives', async () => {
    const body = Buffer.from(Array.from({ length: 600_000 }, (_, i) => (i * 31 + 7) % 256))
    const before = await inputBytes(mesh)
    const echoed = await postInTwo(`${url}/capability/${NAME}/echo`, body.subarray(0, 400_000), body.subarray(400_000), async () => {
      // the first 400 KB reach the orchestrator before the client sends the rest
      await waitFor(async () => await inputBytes(mesh) - before >= 350_000 ? true : undefined, 20_000, 'the first part at the orchestrator')
    })
    expect(echoed.status).to.equal(200)
    expect(echoed.body.equals(body)).to.equal(true)

    const refused = await new Promise<number>((resolve, reject) => {
      const req = request(`${url}/capability/${NAME}/echo`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => { res.resume(); resolve(res.statusCode ?? 0) })
      // the gateway answers and closes while this side still writes: the answer is what counts
      req.on('error', () => {})
      setTimeout(() => { reject(new Error('no answer to the oversized chunked body')) }, 20_000).unref()
      const chunk = Buffer.alloc(64 * 1024)
      let sent = 0
      const pump = (): void => {
        while (sent <= BODY_LIMIT + chunk.byteLength && !req.destroyed) {
          sent += chunk.byteLength
          if (!req.write(chunk)) { req.once('drain', pump); return }
        }
      }
      pump()
    })
    expect(refused).to.equal(413)
  })

  it('a timeout after the answer started: 408 while nothing was sent, else the answer so far with a timeout trailer or SSE event', async () => {
    // one chunk, then nothing for 3 s: the gateway still holds the headers when the 1 s passes
    const held = await post(`${url}/capability/${NAME}/drip?count=3&interval_ms=3000`, '', { 'x-shoal-timeout': '1' })
    expect(held.status).to.equal(408)
    expect(JSON.parse(held.body.toString()).error).to.deep.include({ code: 'GATEWAY_ERROR_REQUEST_TIMEOUT' })
    expect(JSON.parse(held.body.toString()).error.message).to.match(/capability example did not finish its answer within 1000 ms/)

    // chunks every 200 ms for 4 s, cut at 1.5 s: the headers went out after the second
    const plain = await post(`${url}/capability/${NAME}/drip?count=20&interval_ms=200`, '', { 'x-shoal-timeout': '1.5' })
    expect(plain.status).to.equal(200)
    const lines = plain.body.toString().split('\n').filter(l => l !== '')
    expect(lines.length).to.be.within(3, 9)
    expect(lines).to.deep.equal(lines.map((_, i) => `chunk ${i}`))
    expect(plain.trailers['x-shoal-error']).to.match(/^timeout: (orchestrator: )?capability example did not finish its answer within 1500 ms/)

    const sse = await post(`${url}/capability/${NAME}/events?count=20&interval_ms=200`, '', { 'x-shoal-timeout': '1.5' })
    expect(sse.status).to.equal(200)
    const events = sse.body.toString().trim().split('\n\n')
    expect(events.length).to.be.within(3, 10)
    const last = JSON.parse(events.at(-1)!.slice('data: '.length)) as { error: { code: string, message: string } }
    expect(last.error.code).to.equal('timeout')
    expect(last.error.message).to.match(/within 1500 ms/)
  })
})
