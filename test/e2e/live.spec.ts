import { expect } from 'chai'
import { execFile, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { promisify } from 'node:util'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LIVE_MODEL_ID } from '../../src/cpu-runner/live/model.js'
import { listCpuModels } from '../../src/cpu-runner/models/index.js'
import { composite, loadMatte, type Matte } from '../../src/cpu-runner/live/matte.js'
import { startProcessMesh, type ProcessMesh } from '../../src/testnet/process-mesh.js'
import { decodeFrames, personSegments, psnr } from '../protocols/live/media.js'
import { descendants, processName } from '../helpers/processes.js'
import { liveTryCommands } from '../../src/testnet/live-demo.js'
import { packageRoot } from '../../src/testnet/package-root.js'
import { findProgram } from '../../src/cpu-runner/models/extras.js'
import { CHROMIUM } from '../helpers/chromium.js'
import puppeteer from 'puppeteer-core'
import { waitFor } from './helpers.js'

const BASE = '/live/video-to-video'

/**
 * Live video-to-video through a real mesh: a bootstrap, two orchestrators (each with a
 * CPU live runner: person segmentation with a virtual background per frame) and a
 * gateway, as separate processes. ffmpeg cuts a clip of a real person into H.264
 * MPEG-TS segments, which are published to the gateway over trickle HTTP; the output is
 * subscribed over trickle, decoded, and compared frame by frame with the model applied
 * to the input in this process.
 */
describe('e2e: live video-to-video through a real mesh (trickle in and out)', function () {
  this.timeout(240_000)
  let dir: string
  let mesh: ProcessMesh | undefined
  let url: string
  let matte: Matte
  let segments: Uint8Array[]

  before(async function () {
    if (!listCpuModels().some(m => m.modelId === LIVE_MODEL_ID && m.available)) this.skip()
    dir = await mkdtemp(join(tmpdir(), 'shoal-e2e-live-'))
    segments = await personSegments({ size: 128, fps: 10, seconds: 4 })
    matte = await loadMatte()
    mesh = await startProcessMesh({
      dataDir: dir,
      orchestrators: 2,
      models: () => [{ pipeline: 'live-video-to-video', model_id: LIVE_MODEL_ID, warm: true, capacity: 2, price_per_unit: '1', pixels_per_unit: '1' }],
      gatewayPort: 0,
      announcementTtlMs: 10_000,
      logLevel: 'info',
      env: { ...process.env, SHOAL_LIVE_EVENT_INTERVAL_MS: '500' }
    })
    url = mesh.gateway.url
  })

  after(async () => {
    matte?.close()
    await mesh?.stop()
    if (dir !== undefined && process.env.SHOAL_KEEP_TEST_LOGS === undefined) await rm(dir, { recursive: true, force: true })
  })

  async function start (stream: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    const res = await fetch(`${url}${BASE}/${stream}/start?params=${encodeURIComponent(JSON.stringify(params))}`, { method: 'POST' })
    const body = await res.json() as Record<string, unknown>
    expect(res.status, JSON.stringify(body)).to.equal(200)
    return body
  }

  async function publish (stream: string, seq: number, data: Uint8Array): Promise<Response> {
    return await fetch(`${url}${BASE}/${stream}/in/${seq}`, { method: 'POST', body: data, headers: { 'content-type': 'video/mp2t' }, signal: AbortSignal.timeout(90_000) })
  }

  /** reads output segments from `from` until `count` arrived */
  async function collect (stream: string, from: number, count: number): Promise<Uint8Array[]> {
    const out: Uint8Array[] = []
    let seq = from
    while (out.length < count) {
      const res = await fetch(`${url}${BASE}/${stream}/out/${seq}`, { signal: AbortSignal.timeout(90_000) })
      expect(res.status, `out/${seq}`).to.equal(200)
      expect(res.headers.get('lp-trickle-seq')).to.equal(String(seq))
      out.push(new Uint8Array(await res.arrayBuffer()))
      seq++
    }
    return out
  }

  async function status (stream: string): Promise<Record<string, any>> {
    const res = await fetch(`${url}${BASE}/${stream}/status`)
    return await res.json() as Record<string, any>
  }

  it('replaces the background of every frame of a real person: H.264 MPEG-TS out, as many frames, in order, matching the model', async () => {
    const started = await start('cam1', { background: '#0000ff' })
    expect(started.subscribe_url).to.equal(`${BASE}/cam1/out`)
    const reading = collect('cam1', 0, segments.length)
    for (const [i, s] of segments.entries()) expect((await publish('cam1', i, s)).status).to.equal(200)
    const outputs = await reading
    let framesIn = 0
    let framesOut = 0
    for (const [i, s] of segments.entries()) {
      const input = await decodeFrames(s)
      const output = await decodeFrames(outputs[i])
      framesIn += input.frames.length
      framesOut += output.frames.length
      expect([output.width, output.height]).to.deep.equal([input.width, input.height])
      expect(output.frames.length).to.equal(input.frames.length)
      for (const [k, frame] of input.frames.entries()) {
        const expected = composite(frame, await matte.alpha(frame, input.width, input.height), [0, 0, 255])
        const vsModel = psnr(expected, output.frames[k])
        expect(vsModel, `segment ${i} frame ${k}`).to.be.greaterThan(28)
        expect(vsModel, `segment ${i} frame ${k}: closer to the model's output than to the input`).to.be.greaterThan(psnr(frame, output.frames[k]) + 3)
        // in order: the same frame a step earlier or later matches worse
        if (k > 0) expect(vsModel).to.be.greaterThan(psnr(expected, output.frames[k - 1]))
      }
    }
    expect(framesOut).to.equal(framesIn)
    const s = await waitFor(async () => { const st = await status('cam1'); return ['ONLINE', 'DEGRADED_INPUT'].includes(st.runner?.state) && st.runner?.frames_out >= framesIn ? st : undefined }, 20_000, 'runner status')
    expect(s.state).to.equal('running')
    expect(mesh?.orchestrators.map(o => o.peerId)).to.include(s.orchestrator)
    expect(s.gateway.frames_out).to.equal(framesIn)
    expect(s.gateway.pixels_out).to.equal(framesIn * 128 * 128)
    expect(s.runner.last_params).to.deep.equal({ background: '#0000ff' })
  })

  it('applies new params sent to /update to the following segments', async () => {
    const res = await fetch(`${url}${BASE}/cam1/update`, { method: 'POST', body: JSON.stringify({ background: '#ff0000' }), headers: { 'content-type': 'application/json' } })
    expect(res.status).to.equal(200)
    await waitFor(async () => { const st = await status('cam1'); return st.runner?.last_params?.background === '#ff0000' ? true : undefined }, 20_000, 'params applied')
    const from = (await status('cam1')).gateway.segments_out as number
    const reading = collect('cam1', from, 1)
    expect((await publish('cam1', segments.length, segments[0])).status).to.equal(200)
    const [out] = await reading
    const input = await decodeFrames(segments[0])
    const output = await decodeFrames(out)
    const expected = composite(input.frames[0], await matte.alpha(input.frames[0], input.width, input.height), [255, 0, 0])
    expect(psnr(expected, output.frames[0])).to.be.greaterThan(28)
  })

  it('runs the commands shoal testnet prints: ffmpeg piped into `shoal live publish`, `shoal live subscribe` to a file', async () => {
    const out = join(dir, 'cli-out.ts')
    const cmd = liveTryCommands(url, 'clicam', { size: 128, fps: 10, seconds: 4, background: '#0000ff', output: out })
    // as a user runs them: bash in the package's folder (npx finds the shoal bin), ffmpeg on PATH
    const ffmpeg = findProgram('ffmpeg') as string
    const env = { ...process.env, PATH: `${dirname(ffmpeg)}:${process.env.PATH ?? ''}` }
    const sh = async (line: string): Promise<{ stdout: string, stderr: string }> => await promisify(execFile)('bash', ['-c', line], { cwd: packageRoot(), env, timeout: 120_000 })
    const started = JSON.parse((await sh(cmd.start)).stdout) as Record<string, unknown>
    expect(started).to.include({ stream_id: 'clicam', subscribe_url: `${BASE}/clicam/out` })
    const subscriber = spawn('bash', ['-c', cmd.subscribe], { cwd: packageRoot(), env, stdio: ['ignore', 'ignore', 'pipe'] })
    let subscriberLog = ''
    subscriber.stderr.on('data', (d: Buffer) => { subscriberLog += d.toString() })
    const t0 = Date.now()
    const timeline: string[] = []
    const mark = (what: string): void => { timeline.push(`${Date.now() - t0} ms ${what}`) }
    subscriber.stderr.on('data', (d: Buffer) => { mark(`subscriber: ${d.toString().trim()}`) })
    const subscribed = new Promise<number | null>(resolve => subscriber.once('exit', (code) => { mark(`subscriber exit ${String(code)}`); resolve(code) }))
    try {
      // as a user would: publish once the subscriber waits for the first segment (npx starting it takes seconds on a loaded machine),
      // seen from the gateway: its request is being served
      await waitFor(async () => subscriber.exitCode !== null || (await status('clicam')).gateway.subscribers >= 1 ? true : undefined, 60_000, 'the subscriber to wait on the gateway')
      mark('the gateway serves the subscriber')
      expect(subscriber.exitCode, subscriberLog).to.equal(null)
      const published = await sh(cmd.publish)
      mark('published')
      expect(published.stderr).to.match(/published 4 segments/)
      const st = await waitFor(async () => { const s = await status('clicam'); return s.gateway.segments_out >= s.gateway.segments_in ? s : undefined }, 60_000, 'every segment processed')
      expect(st.gateway.frames_in).to.equal(40)
      expect(st.gateway.frames_out).to.equal(40)
      expect(JSON.parse((await sh(cmd.status)).stdout).state).to.equal('running')
      expect(JSON.parse((await sh(cmd.stop)).stdout).state).to.equal('stopped')
      mark('stopped')
      // the stream ended: the subscriber has written everything and exits
      expect(await subscribed, timeline.join('\n')).to.equal(0)
    } finally {
      if (subscriber.exitCode === null) subscriber.kill()
    }
    expect(subscriberLog).to.match(/received 4 segments/)
    // subscribing to a stream that ended is an error that says so, not an empty stream
    const late = await sh(`${cmd.subscribe.replace(/ > .*$/, '')} > /dev/null`).then(() => undefined, (err: { code?: number, stderr?: string }) => err)
    expect(late?.code).to.equal(1)
    expect(late?.stderr).to.match(/stream clicam has no output channel on the gateway: it was never started, or it already ended/)
    // one MPEG-TS stream: every frame, in order, the model's (the same clip decoded here, the mask applied)
    const output = await decodeFrames(new Uint8Array(await readFile(out)))
    expect([output.width, output.height, output.frames.length]).to.deep.equal([128, 128, 40])
    const source = await promisify(execFile)(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=128x128:rate=10', '-t', '4', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 })
    const frameBytes = 128 * 128 * 3
    for (const k of [0, 13, 39]) {
      const input = new Uint8Array(source.stdout.subarray(k * frameBytes, (k + 1) * frameBytes))
      const expected = composite(input, await matte.alpha(input, 128, 128), [0, 0, 255])
      const vsModel = psnr(expected, output.frames[k])
      expect(vsModel, `frame ${k}`).to.be.greaterThan(24)
      expect(vsModel, `frame ${k}: closer to the model's output than to the input`).to.be.greaterThan(psnr(input, output.frames[k]) + 3)
    }
  })

  it('lists the live sessions on the gateway dashboard: running and ended, orchestrator, runner state, segments', async () => {
    // the JSON: running sessions first, then those that ended
    const data = await (await fetch(`${url}/dashboard/data`)).json() as { live: Array<Record<string, any>> }
    const cam1 = data.live.find(l => l.streamId === 'cam1')
    const cli = data.live.find(l => l.streamId === 'clicam')
    expect(cam1).to.include({ state: 'running', modelId: LIVE_MODEL_ID, reason: null, swaps: 0, segmentsInFlight: 0 })
    expect(mesh?.orchestrators.map(o => o.peerId)).to.include(cam1?.orchestrator)
    expect(cam1?.segmentsOut).to.equal(segments.length + 1)
    expect(cam1?.runnerState).to.be.oneOf(['ONLINE', 'DEGRADED_INPUT'])
    expect(cli).to.include({ state: 'stopped', reason: 'stopped by the client', segmentsIn: 4, segmentsOut: 4 })
    expect(data.live.indexOf(cam1 as Record<string, any>)).to.be.lessThan(data.live.indexOf(cli as Record<string, any>))
    if (CHROMIUM === undefined) return
    // the page shows them
    const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] })
    try {
      const page = await browser.newPage()
      const errors: string[] = []
      page.on('pageerror', (err) => { errors.push(String(err)) })
      await page.goto(`${url}/dashboard`, { waitUntil: 'load' })
      await page.waitForSelector('#live tr[data-stream="cam1"]', { timeout: 30_000 })
      const rows = await page.evaluate('[...document.querySelectorAll(\'#live tbody tr\')].map(r => ({ stream: r.dataset.stream, state: r.dataset.state, cells: [...r.querySelectorAll(\'td\')].map(td => td.textContent), orchestrator: r.querySelector(\'td.orchestrator\').title }))') as Array<{ stream: string, state: string, cells: string[], orchestrator: string }>
      const running = rows.find(r => r.stream === 'cam1')
      expect(running?.state).to.equal('running')
      expect(running?.orchestrator).to.equal(cam1?.orchestrator)
      expect(running?.cells.slice(0, 3)).to.deep.equal(['cam1', LIVE_MODEL_ID, 'running'])
      expect(running?.cells[6]).to.equal(`${segments.length + 1} / ${segments.length + 1}`)
      const ended = rows.find(r => r.stream === 'clicam')
      expect(ended?.cells[2]).to.equal('stopped: stopped by the client')
      expect(ended?.cells[6]).to.equal('4 / 4')
      expect(errors).to.deep.equal([])
    } finally {
      await browser.close()
    }
  })

  it('refuses bad input with clear errors and leaks no session or process', async () => {
    const notVideo = await publish('cam1', 99, Buffer.from('this is not a video segment'))
    expect(notVideo.status).to.equal(415)
    expect(((await notVideo.json()) as any).error.message).to.match(/not MPEG-TS/)
    const oversized = await publish('cam1', 99, new Uint8Array(9 * 1024 * 1024).fill(0x47))
    expect(oversized.status).to.equal(413)
    const unknown = await publish('nosuchstream', 0, segments[0])
    expect(unknown.status).to.equal(404)
    expect(((await unknown.json()) as any).error.message).to.match(/no live stream "nosuchstream"/)
    expect((await fetch(`${url}${BASE}/nosuchstream/status`)).status).to.equal(404)
    expect((await fetch(`${url}${BASE}/nosuchstream/out/0`)).status).to.equal(404)
    const badParams = await fetch(`${url}${BASE}/cam2/start?params=notjson`, { method: 'POST' })
    expect(badParams.status).to.equal(400)

    const orchestratorPids = (mesh as ProcessMesh).orchestrators.map(o => o.pid)
    const stop = await fetch(`${url}${BASE}/cam1/stop`, { method: 'POST' })
    expect(stop.status).to.equal(200)
    expect(((await stop.json()) as any).state).to.equal('stopped')
    // the output channel says the stream ended
    const ended = await fetch(`${url}${BASE}/cam1/out/-1`)
    expect(ended.status).to.equal(404)
    expect(ended.headers.get('lp-trickle-closed')).to.equal('terminated')
    // no ffmpeg left running under any orchestrator, gateway and orchestrators count no session
    await waitFor(async () => {
      const kids = (await Promise.all(orchestratorPids.map(descendants))).flat()
      const names = await Promise.all(kids.map(processName))
      return names.includes('ffmpeg') ? undefined : true
    }, 20_000, 'no ffmpeg left')
    const metrics = await (await fetch(`${url}/metrics`)).text()
    expect(metrics).to.match(/^shoal_gateway_live_sessions 0$/m)
  })

  it('moves the session to another orchestrator when its orchestrator is SIGKILLed mid-stream, and says so in status', async () => {
    const m = mesh as ProcessMesh
    await start('cam3', {})
    const first = collect('cam3', 0, 2)
    for (const i of [0, 1]) expect((await publish('cam3', i, segments[i])).status).to.equal(200)
    await first
    const before = await status('cam3')
    const victim = m.orchestrators.find(o => o.peerId === before.orchestrator)
    expect(victim, 'the orchestrator serving the stream').to.not.equal(undefined)
    await victim?.kill()
    const swapped = await waitFor(async () => { const st = await status('cam3'); return st.gateway.swaps.length > 0 && st.state === 'running' ? st : undefined }, 60_000, 'a swap')
    expect(swapped.orchestrator).to.not.equal(before.orchestrator)
    expect(swapped.gateway.swaps[0]).to.include({ from: before.orchestrator, to: swapped.orchestrator })
    // output resumes, its numbering continuing at the gateway
    const from = swapped.gateway.segments_out as number
    const resumed = collect('cam3', from, 2)
    for (const i of [2, 3]) expect((await publish('cam3', i, segments[i])).status).to.equal(200)
    const outputs = await resumed
    for (const [k, out] of outputs.entries()) {
      const input = await decodeFrames(segments[2 + k])
      const output = await decodeFrames(out)
      expect(output.frames.length).to.equal(input.frames.length)
      const expected = composite(input.frames[0], await matte.alpha(input.frames[0], input.width, input.height), [0, 177, 64])
      expect(psnr(expected, output.frames[0])).to.be.greaterThan(28)
    }
    expect((await fetch(`${url}${BASE}/cam3/stop`, { method: 'POST' })).status).to.equal(200)
  })
})
