import { expect } from 'chai'
import sharp from 'sharp'
import { Registry } from 'prom-client'
import { createCpuRunnerServer, type CpuRunnerServer } from '../../src/cpu-runner/index.js'
import { createRunnerClient } from '../../src/inference/runner-client/index.js'
import { dataUrlBytes, form, makePng, meanAbsDiff } from '../inference/fixtures.js'

async function post (url: string, body: FormData | string, headers: Record<string, string> = {}): Promise<{ status: number, body: any }> {
  const res = await fetch(url, { method: 'POST', body, headers })
  const text = await res.text()
  return { status: res.status, body: text === '' ? null : JSON.parse(text) }
}

async function metric (url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(name))
  return line === undefined ? 0 : Number(line.split(' ').pop())
}

describe('cpu-runner: the CPU runner (ai-runner HTTP API)', function () {
  this.timeout(60_000)
  const running: CpuRunnerServer[] = []
  async function start (options: Partial<Parameters<typeof createCpuRunnerServer>[0]> & { pipeline: string, modelId: string }): Promise<CpuRunnerServer> {
    const server = createCpuRunnerServer({ host: '127.0.0.1', port: 0, ...options })
    running.push(server)
    await server.start()
    return server
  }
  after(async () => { await Promise.all(running.map(async (s) => { await s.stop() })) })

  it('refuses at creation a model it cannot really run, naming what it runs', () => {
    for (const [pipeline, modelId] of [['text-to-image', 'stabilityai/sd-turbo'], ['upscale', 'stabilityai/stable-diffusion-x4-upscaler'], ['no-such-pipeline', 'shoal/noop']]) {
      let err: any
      try { createCpuRunnerServer({ pipeline, modelId, port: 0 }) } catch (e) { err = e }
      expect(err, `${pipeline} ${modelId}`).to.have.property('name', 'UnsupportedRunnerModelError')
      expect(err).to.have.property('code', 'CPU_RUNNER_ERROR_UNSUPPORTED_MODEL')
    }
  })

  describe('with the noop model', () => {
    let runner: CpuRunnerServer
    let png: Buffer
    before(async () => {
      png = await makePng(64, 48)
      runner = await start({ pipeline: 'upscale', modelId: 'shoal/noop', authToken: 'secret-token', maxBodyBytes: 64 * 1024 })
    })
    const auth = { authorization: 'Bearer secret-token' }

    it('answers /health, /version, /hardware/info, /hardware/stats (with the token) and /metrics with the reference shapes', async () => {
      expect(await (await fetch(`${runner.url}/health`)).json()).to.deep.equal({ status: 'OK' })
      const version: any = await (await fetch(`${runner.url}/version`)).json()
      expect(version).to.include({ pipeline: 'upscale', model_id: 'shoal/noop' })
      expect(version.version).to.match(/^shoal-cpu-runner\/\d+\.\d+\.\d+/)
      // hardware routes need the token, like the pipeline route; probes (/health, /version, /metrics) do not
      expect((await fetch(`${runner.url}/hardware/stats`)).status).to.equal(401)
      const info: any = await (await fetch(`${runner.url}/hardware/info`, { headers: auth })).json()
      expect(info).to.include({ pipeline: 'upscale', model_id: 'shoal/noop' })
      expect(info.gpu_info).to.deep.equal({})
      const stats: any = await (await fetch(`${runner.url}/hardware/stats`, { headers: auth })).json()
      expect(stats.gpu_stats).to.deep.equal({})
      const metrics = await fetch(`${runner.url}/metrics`)
      expect(metrics.headers.get('content-type')).to.match(/^text\/plain/)
      expect(await metrics.text()).to.include('shoal_runner_requests_total')
    })

    it('echoes the uploaded image as an ImageResponse data URL, echoing the seed', async () => {
      const res = await post(`${runner.url}/upscale`, form({ prompt: 'p', seed: '42' }, { image: { data: png, type: 'image/png' } }), auth)
      expect(res.status).to.equal(200)
      expect(res.body.images).to.have.length(1)
      expect(res.body.images[0]).to.include({ seed: 42, nsfw: false })
      expect(res.body.images[0].url).to.match(/^data:image\/png;base64,/)
      expect(dataUrlBytes(res.body.images[0].url).equals(png)).to.equal(true)
    })

    it('serves the next job on the same client after requests aborted at every stage (half-sent, waiting, mid-answer)', async () => {
      const client = createRunnerClient({ url: runner.url, token: 'secret-token', maxSockets: 2 })
      const job = { pipeline: 'upscale' as const, modelId: 'shoal/noop', params: { prompt: 'p' }, inputs: [{ field: 'image', filename: 'a.png', contentType: 'image/png', data: png }] }
      try {
        // aborted before, while and after the request is written, then while its answer streams
        for (const delayMs of [-1, 0, 0, 1, 2, 3, 5, 8, 13]) {
          const controller = new AbortController()
          if (delayMs < 0) queueMicrotask(() => { controller.abort() })
          else setTimeout(() => { controller.abort() }, delayMs)
          const aborted = await client.run(job, { signal: controller.signal }).then(async (res) => {
            for await (const _ of res.body) { await new Promise((resolve) => setTimeout(resolve, 5)) }
            return null
          }, (e) => e).catch((e) => e)
          if (aborted !== null) expect(aborted, `aborted after ${delayMs} ms`).to.have.property('code', 'RUNNER_ERROR_ABORTED')
          const res = await client.run(job)
          let bytes = 0
          for await (const chunk of res.body) bytes += chunk.byteLength
          expect(res.status, `the job after an abort at ${delayMs} ms`).to.equal(200)
          expect(bytes).to.be.above(png.byteLength)
        }
      } finally {
        client.close()
      }
    })

    it('answers 401 {detail:{msg}} to a missing or wrong bearer token', async () => {
      const body = (): FormData => form({ prompt: 'p' }, { image: { data: png, type: 'image/png' } })
      for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: 'secret-token' }] as Array<Record<string, string>>) {
        const res = await post(`${runner.url}/upscale`, body(), headers)
        expect(res.status).to.equal(401)
        expect(res.body.detail.msg).to.be.a('string')
      }
    })

    it('answers 422 {detail:[{loc,msg,type}]} for missing and mistyped fields', async () => {
      const res = await post(`${runner.url}/upscale`, form({ seed: 'abc', safety_check: 'maybe' }), auth)
      expect(res.status).to.equal(422)
      const byField = Object.fromEntries(res.body.detail.map((d: any) => [d.loc[1], d]))
      expect(byField.prompt).to.deep.include({ loc: ['body', 'prompt'], type: 'missing' })
      expect(byField.image).to.deep.include({ loc: ['body', 'image'], type: 'missing' })
      expect(byField.seed).to.deep.include({ loc: ['body', 'seed'], type: 'int_parsing' })
      expect(byField.safety_check).to.deep.include({ loc: ['body', 'safety_check'], type: 'bool_parsing' })
    })

    it('answers 422 json_invalid to a malformed JSON body', async () => {
      const res = await post(`${runner.url}/upscale`, '{"prompt": ', { ...auth, 'content-type': 'application/json' })
      expect(res.status).to.equal(422)
      expect(res.body.detail[0]).to.include({ type: 'json_invalid' })
    })

    it('answers 400 when the request names another model than the loaded one', async () => {
      const res = await post(`${runner.url}/upscale`, form({ prompt: 'p', model_id: 'other/model' }, { image: { data: png, type: 'image/png' } }), auth)
      expect(res.status).to.equal(400)
      expect(res.body.detail.msg).to.equal('pipeline configured with shoal/noop but called with other/model')
      const same = await post(`${runner.url}/upscale`, form({ prompt: 'p', model_id: 'shoal/noop' }, { image: { data: png, type: 'image/png' } }), auth)
      expect(same.status).to.equal(200)
    })

    it('answers 413 to a file over the body limit, 415 to an unsupported media type, 404 elsewhere', async () => {
      const big = await post(`${runner.url}/upscale`, form({ prompt: 'p' }, { image: { data: Buffer.alloc(65 * 1024), type: 'image/png' } }), auth)
      expect(big.status).to.equal(413)
      expect(big.body.detail.msg).to.be.a('string')
      const text = await post(`${runner.url}/upscale`, 'hello', { ...auth, 'content-type': 'text/plain' })
      expect(text.status).to.equal(415)
      const other = await post(`${runner.url}/text-to-image`, JSON.stringify({ prompt: 'x' }), { ...auth, 'content-type': 'application/json' })
      expect(other.status).to.equal(404)
      // the server is still fine
      expect(await (await fetch(`${runner.url}/health`)).json()).to.deep.equal({ status: 'OK' })
    })
  })

  it('noop echoes the validated params of a JSON pipeline, defaults applied', async () => {
    const runner = await start({ pipeline: 'text-to-image', modelId: 'shoal/noop' })
    const res = await post(`${runner.url}/text-to-image`, JSON.stringify({ prompt: 'a cat', width: 512 }), { 'content-type': 'application/json' })
    expect(res.status).to.equal(200)
    expect(res.body).to.deep.include({ prompt: 'a cat', width: 512, height: 576, guidance_scale: 7.5, num_inference_steps: 50, safety_check: true, num_images_per_prompt: 1 })
  })

  it('noop streams an LLM echo as Server-Sent Events ending with [DONE]', async () => {
    const runner = await start({ pipeline: 'llm', modelId: 'shoal/noop' })
    const res = await fetch(`${runner.url}/llm`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hello' }, { role: 'user', content: 'world' }], stream: true })
    })
    expect(res.status).to.equal(200)
    expect(res.headers.get('content-type')).to.equal('text/event-stream')
    const events = (await res.text()).split('\n\n').filter((e) => e !== '').map((e) => e.replace(/^data: /, ''))
    expect(events.at(-1)).to.equal('[DONE]')
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e))
    expect(chunks.map((c) => c.choices[0].delta.content).join(' ').trim()).to.equal('hello world')
    expect(chunks.at(-1).choices[0].finish_reason).to.equal('stop')
  })

  describe('with ESRGAN (real model, WASM)', () => {
    let x2: CpuRunnerServer
    let png: Buffer
    before(async () => {
      png = await makePng(128, 96)
      x2 = createCpuRunnerServer({ pipeline: 'upscale', modelId: 'upscalerjs/esrgan-slim-x2', port: 0, maxInputPixels: 512 * 512, registry: new Registry() })
      running.push(x2)
      await x2.listen()
    })

    it('reports LOADING while the model loads, then OK', async () => {
      expect(await (await fetch(`${x2.url}/health`)).json()).to.deep.equal({ status: 'LOADING' })
      const early = await post(`${x2.url}/upscale`, form({ prompt: 'p' }, { image: { data: png, type: 'image/png' } }))
      expect(early.status).to.equal(503)
      await x2.ready()
      expect(await (await fetch(`${x2.url}/health`)).json()).to.deep.equal({ status: 'OK' })
    })

    it('upscales a PNG 2x: right dimensions, same picture', async () => {
      const res = await post(`${x2.url}/upscale`, form({ prompt: 'p' }, { image: { data: png, type: 'image/png' } }))
      expect(res.status).to.equal(200)
      const out = dataUrlBytes(res.body.images[0].url)
      const meta = await sharp(out).metadata()
      expect([meta.format, meta.width, meta.height]).to.deep.equal(['png', 256, 192])
      expect(res.body.images[0].seed).to.be.a('number')
      // downscaled back, the result must look like the input (a broken model gives noise or a flat image)
      expect(await meanAbsDiff(png, out)).to.be.below(5)
    })

    it('answers 400 with a clear message to an image that does not decode, or is too large', async () => {
      const bad = await post(`${x2.url}/upscale`, form({ prompt: 'p' }, { image: { data: Buffer.from('not an image'), type: 'image/png' } }))
      expect(bad.status).to.equal(400)
      expect(bad.body.detail.msg).to.match(/could not be decoded/)
      const huge = await sharp({ create: { width: 600, height: 500, channels: 3, background: '#888' } }).png().toBuffer()
      const big = await post(`${x2.url}/upscale`, form({ prompt: 'p' }, { image: { data: huge, type: 'image/png' } }))
      expect(big.status).to.equal(400)
      expect(big.body.detail.msg).to.match(/300000 pixels/)
    })

    it('cancels the job when the client goes away', async () => {
      // 512x512 = 16 patches of 128x128: about 3 s of work, stopped at the next patch once aborted
      const large = await makePng(512, 512)
      const client = createRunnerClient({ url: x2.url })
      const abortedBefore = await metric(x2.url, 'shoal_runner_jobs_aborted_total')
      const controller = new AbortController()
      const job = client.run({ pipeline: 'upscale', modelId: 'upscalerjs/esrgan-slim-x2', params: { prompt: 'p' }, inputs: [{ field: 'image', filename: 'a.png', contentType: 'image/png', data: large }] }, { signal: controller.signal })
      setTimeout(() => { controller.abort() }, 400)
      const err = await job.then(() => null, (e) => e)
      expect(err).to.have.property('code', 'RUNNER_ERROR_ABORTED')
      const deadline = Date.now() + 5000
      while (await metric(x2.url, 'shoal_runner_jobs_aborted_total') === abortedBefore && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
      expect(await metric(x2.url, 'shoal_runner_jobs_aborted_total')).to.equal(abortedBefore + 1)
      // the model thread stopped at a patch boundary: a small job right after does not wait for the 9 patches
      const started = Date.now()
      const res = await post(`${x2.url}/upscale`, form({ prompt: 'p' }, { image: { data: png, type: 'image/png' } }))
      expect(res.status).to.equal(200)
      expect(Date.now() - started).to.be.below(1500)
      client.close()
    })

    it('upscales 4x with esrgan-slim-x4', async () => {
      const x4 = await start({ pipeline: 'upscale', modelId: 'upscalerjs/esrgan-slim-x4' })
      const small = await makePng(64, 64)
      const res = await post(`${x4.url}/upscale`, form({ prompt: 'p' }, { image: { data: small, type: 'image/png' } }))
      expect(res.status).to.equal(200)
      const out = dataUrlBytes(res.body.images[0].url)
      const meta = await sharp(out).metadata()
      expect([meta.width, meta.height]).to.deep.equal([256, 256])
      expect(await meanAbsDiff(small, out)).to.be.below(5)
    })
  })
})
