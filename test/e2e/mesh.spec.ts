import { expect } from 'chai'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startProcessMesh, type ProcessMesh } from '../../src/testnet/process-mesh.js'
import { DEFAULT_MIN_LOAD_PUBLISH_INTERVAL_MS } from '../../src/discovery/constants.js'
import { decodeFirstImage, directory, pngOf, upscaleForm, waitFor } from './helpers.js'

const MODEL = 'upscalerjs/esrgan-slim-x2'

/**
 * A real mesh of separate `shoal` processes over TCP on loopback, started through the
 * CLI: a bootstrap, three orchestrators each running a CPU runner process with ESRGAN,
 * and a gateway.
 */
describe('e2e: a multi-process mesh over TCP doing real upscales', function () {
  this.timeout(180_000)
  let mesh: ProcessMesh
  let url: string

  before(async () => {
    mesh = await startProcessMesh({
      dataDir: await mkdtemp(join(tmpdir(), 'shoal-e2e-')),
      orchestrators: 3,
      models: () => [{ pipeline: 'upscale', model_id: MODEL, warm: true, capacity: 1, price_per_unit: '1', pixels_per_unit: '1' }],
      gatewayPort: 0,
      announcementTtlMs: 4_000,
      logLevel: 'debug',
      extraArgs: { gateway: ['--default-model', `upscale=${MODEL}`, '--body-limit', String(2 * 1024 * 1024)] }
    })
    url = mesh.gateway.url
  })

  after(async () => { await mesh?.stop() })

  it('the gateway lists every orchestrator, learned from gossip', async () => {
    const rows = await directory(url)
    expect(rows.map(r => r.peerId).sort()).to.deep.equal(mesh.orchestrators.map(o => o.peerId).sort())
    expect(rows[0].models[0]).to.include({ pipeline: 'upscale', modelId: MODEL, capacity: 1 })
  })

  it('a PNG posted to /upscale comes back upscaled x2, naming the orchestrator that served it', async () => {
    const res = await fetch(`${url}/upscale`, { method: 'POST', body: upscaleForm(await pngOf(48, 32)) })
    expect(res.status).to.equal(200)
    expect(mesh.orchestrators.map(o => o.peerId)).to.include(res.headers.get('x-shoal-orchestrator'))
    expect(Number(res.headers.get('x-shoal-attempts'))).to.be.at.least(1)
    expect(await decodeFirstImage(await res.json() as { images: Array<{ url: string }> })).to.deep.equal({ width: 96, height: 64 })
  })

  it('the same request works under /api/generate/upscale', async () => {
    const res = await fetch(`${url}/api/generate/upscale`, { method: 'POST', body: upscaleForm(await pngOf(20, 20)) })
    expect(res.status).to.equal(200)
    expect(await decodeFirstImage(await res.json() as { images: Array<{ url: string }> })).to.deep.equal({ width: 40, height: 40 })
  })

  it('answers bad input with the reference statuses and a JSON error', async () => {
    const cases: Array<[string, RequestInit, number, string]> = [
      ['unknown pipeline', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }, 404, '/no-such-pipeline'],
      ['malformed multipart', { method: 'POST', body: '--x\r\nbroken', headers: { 'content-type': 'multipart/form-data; boundary=x' } }, 400, '/upscale'],
      ['missing image', { method: 'POST', body: (() => { const f = new FormData(); f.set('prompt', 'p'); return f })() }, 422, '/upscale'],
      ['image that does not decode', { method: 'POST', body: (() => { const f = new FormData(); f.set('prompt', 'p'); f.set('image', new Blob([Buffer.from('not a png')], { type: 'image/png' }), 'x.png'); return f })() }, 422, '/upscale'],
      ['JSON to a multipart pipeline', { method: 'POST', body: '{"prompt":"p"}', headers: { 'content-type': 'application/json' } }, 415, '/upscale'],
      ['body over the limit', { method: 'POST', body: upscaleForm(Buffer.alloc(3 * 1024 * 1024)) }, 413, '/upscale'],
      ['a model nobody serves', { method: 'POST', body: upscaleForm(Buffer.alloc(0), { model_id: 'nobody/serves-this' }) }, 422, '/upscale']
    ]
    for (const [what, init, status, path] of cases) {
      const res = await fetch(`${url}${path}`, init)
      expect(res.status, what).to.equal(status)
      const body = await res.json() as { error?: { message?: string } }
      expect(body.error?.message, what).to.be.a('string')
    }
    const noOne = await fetch(`${url}/upscale`, { method: 'POST', body: upscaleForm(await pngOf(8, 8), { model_id: 'nobody/serves-this' }) })
    expect(noOne.status).to.equal(503)
    // and the gateway is still up
    expect((await fetch(`${url}/health`)).status).to.equal(200)
  })

  it('when one orchestrator\'s capacity is taken, concurrent requests flow to the others', async () => {
    const image = await pngOf(96, 96)
    const responses = await Promise.all([0, 1, 2].map(async () => await fetch(`${url}/upscale`, { method: 'POST', body: upscaleForm(image) })))
    expect(responses.map(r => r.status)).to.deep.equal([200, 200, 200])
    const servers = new Set(responses.map(r => r.headers.get('x-shoal-orchestrator')))
    expect(servers.size, 'distinct orchestrators used').to.be.at.least(2)
  })

  /** Waits until no orchestrator reports itself saturated, so the next busy one is serving our job. */
  async function quiet (): Promise<void> {
    await waitFor(async () => (await directory(url)).every(r => r.models.every(m => m.load === 'available')) ? true : undefined, 15_000, 'every slot to be free')
  }

  it('a client that goes away cancels the runner call on the orchestrator', async () => {
    await quiet()
    const controller = new AbortController()
    const pending = fetch(`${url}/upscale`, { method: 'POST', body: upscaleForm(await pngOf(448, 448)), signal: controller.signal }).catch(() => undefined)
    const busy = await waitFor(async () => (await directory(url)).find(r => r.models[0].load === 'saturated'), 10_000, 'a slot in use')
    const abortedAt = Date.now()
    controller.abort()
    await pending
    await waitFor(async () => (await directory(url)).find(r => r.peerId === busy.peerId && r.models[0].load === 'available'), 10_000, 'the slot to be freed')
    const freedAfter = Date.now() - abortedAt
    // gossip carries a coarse load, published at most once per DEFAULT_MIN_LOAD_PUBLISH_INTERVAL_MS,
    // so the directory shows the freed slot within that interval of the saturation it replaced
    expect(freedAfter).to.be.lessThan(DEFAULT_MIN_LOAD_PUBLISH_INTERVAL_MS + 2_500)
    const log = await import('node:fs/promises').then(async fs => await fs.readFile(mesh.orchestrators.find(o => o.peerId === busy.peerId)!.logFile, 'utf8'))
    expect(log).to.match(/cancel|abort/i)
  })

  it('an orchestrator killed in the middle of a job: the job still succeeds on another one', async () => {
    await quiet()
    const pending = fetch(`${url}/upscale`, { method: 'POST', body: upscaleForm(await pngOf(320, 320)) })
    const busy = await waitFor(async () => (await directory(url)).find(r => r.models[0].load === 'saturated'), 10_000, 'a slot in use')
    const victim = mesh.orchestrators.find(o => o.peerId === busy.peerId)!
    await victim.kill()
    const res = await pending
    expect(res.status).to.equal(200)
    expect(res.headers.get('x-shoal-orchestrator')).to.not.equal(victim.peerId)
    const tried = res.headers.get('x-shoal-tried') ?? ''
    expect(tried).to.contain(`${victim.peerId};failure`)
    expect(await decodeFirstImage(await res.json() as { images: Array<{ url: string }> })).to.deep.equal({ width: 640, height: 640 })
  })

  it('entries of a stopped orchestrator expire from the gateway', async () => {
    const alive = []
    for (const o of mesh.orchestrators) if (o.process.exitCode === null && o.process.signalCode === null) alive.push(o)
    const stopped = alive[0]
    await stopped.stop()
    await mesh.waitForDirectory(alive.slice(1).map(o => o.peerId), { timeoutMs: 15_000 })
  })
})
