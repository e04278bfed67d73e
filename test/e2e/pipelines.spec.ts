import { expect } from 'chai'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { listCpuModels } from '../../src/cpu-runner/models/index.js'
import { startProcessMesh, type ProcessMesh, type TestnetModelEntry } from '../../src/testnet/process-mesh.js'
import { fromDataUrl, portraitPhoto, probeVideo, textImage } from '../cpu-runner/pipelines/helpers.js'
import { writeTinyLlamaGguf } from '../../src/testnet/tiny-gguf.js'
import { directory } from './helpers.js'

const MODELS = {
  'segment-anything-2': 'human-models/selfie-person-mask',
  'image-to-text': 'paddleocr/ppocr-v4+centernet-objects',
  'text-to-speech': 'espeak-ng/en-us',
  'image-to-video': 'ffmpeg/ken-burns'
} as const

function form (fields: Record<string, string>, image: Buffer): FormData {
  const f = new FormData()
  for (const [k, v] of Object.entries(fields)) f.set(k, v)
  f.set('image', new Blob([image], { type: 'image/png' }), 'image.png')
  return f
}

/**
 * One orchestrator serving every optional CPU pipeline whose packages and binaries are
 * installed here (each model in its own `shoal runner` process), a bootstrap and a
 * gateway, as separate processes on loopback with payments off. Requests go in at the
 * gateway's HTTP API and real results come out.
 */
describe('e2e: the optional CPU pipelines through a real mesh', function () {
  this.timeout(180_000)
  let dir: string
  let mesh: ProcessMesh | undefined
  let url: string
  const served = new Map<string, string>()

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'shoal-e2e-pipelines-'))
    const gguf = await writeTinyLlamaGguf(join(dir, 'tiny-random-llama.gguf'))
    const available = new Set(listCpuModels({ ...process.env, SHOAL_LLM_MODEL_PATH: gguf }).filter((m) => m.available).map((m) => m.modelId))
    for (const [pipeline, modelId] of Object.entries(MODELS)) if (available.has(modelId)) served.set(pipeline, modelId)
    if (available.has(gguf)) served.set('llm', gguf)
    const missing = ['segment-anything-2', 'image-to-text', 'llm', 'text-to-speech', 'image-to-video'].filter((p) => !served.has(p))
    // eslint-disable-next-line no-console
    if (missing.length > 0) console.log(`      not served here (npm run install:extras; apt-get install -y espeak-ng ffmpeg): ${missing.join(', ')}`)
    if (served.size === 0) this.skip()
    const entries: TestnetModelEntry[] = [...served].map(([pipeline, modelId]) => ({ pipeline, model_id: modelId, warm: true, capacity: pipeline === 'llm' ? 2 : 1, price_per_unit: '1', pixels_per_unit: '1' }))
    mesh = await startProcessMesh({
      dataDir: dir,
      orchestrators: 1,
      models: () => entries,
      gatewayPort: 0,
      announcementTtlMs: 10_000,
      logLevel: 'info'
    })
    url = mesh.gateway.url
  })

  after(async () => {
    await mesh?.stop()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  const need = (ctx: Mocha.Context, pipeline: string): string => {
    const modelId = served.get(pipeline)
    if (modelId === undefined) ctx.skip()
    return modelId as string
  }

  it('the gateway lists every served model, learned from the orchestrator\'s announcement', async () => {
    const rows = await directory(url)
    expect(rows).to.have.length(1)
    expect(rows[0].models.map((m) => `${m.pipeline} ${m.modelId}`).sort()).to.deep.equal([...served].map(([p, m]) => `${p} ${m}`).sort())
  })

  it('segment-anything-2: a person mask for a real photo', async function () {
    const modelId = need(this, 'segment-anything-2')
    const res = await fetch(`${url}/segment-anything-2`, { method: 'POST', body: form({ model_id: modelId, return_logits: 'false' }, await portraitPhoto()) })
    expect(res.status).to.equal(200)
    const body = await res.json() as { masks: string, scores: string, logits: string }
    const masks = JSON.parse(body.masks) as number[][][]
    expect([masks.length, masks[0].length, masks[0][0].length]).to.deep.equal([1, 152, 150])
    expect(masks[0][76][75]).to.equal(1)
    expect(masks[0][3][3]).to.equal(0)
    expect((JSON.parse(body.scores) as number[])[0]).to.be.greaterThan(0.8)
    expect(JSON.parse(body.logits)).to.have.nested.property('[0].length', 256)
  })

  it('image-to-text: the text in an image and the objects in a photo', async function () {
    const modelId = need(this, 'image-to-text')
    const text = await fetch(`${url}/image-to-text`, { method: 'POST', body: form({ model_id: modelId }, await textImage(['Shoal runs on CPU', 'Invoice 2024-17: 42.50 EUR'])) })
    expect(text.status).to.equal(200)
    expect(await text.json()).to.deep.equal({ text: 'Shoal runs on CPU\nInvoice 2024-17: 42.50 EUR' })
    const photo = await fetch(`${url}/image-to-text`, { method: 'POST', body: form({ model_id: modelId }, await portraitPhoto()) })
    expect(((await photo.json()) as { text: string }).text).to.match(/^objects: person\b/m)
  })

  it('text-to-speech: a WAV of the spoken text', async function () {
    const modelId = need(this, 'text-to-speech')
    const res = await fetch(`${url}/text-to-speech`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model_id: modelId, text: 'A shoal of fish answers from the mesh.' }) })
    expect(res.status).to.equal(200)
    const { type, data } = fromDataUrl(((await res.json()) as { audio: { url: string } }).audio.url)
    expect(type).to.equal('audio/wav')
    expect(data.toString('ascii', 0, 4)).to.equal('RIFF')
    // 22050 samples/s x 2 bytes: at least a second of speech
    expect(data.length).to.be.greaterThan(44_100)
  })

  it('image-to-video: an MP4 with a camera move over the still', async function () {
    const modelId = need(this, 'image-to-video')
    const res = await fetch(`${url}/image-to-video`, { method: 'POST', body: form({ model_id: modelId, width: '256', height: '144', fps: '10', seed: '3' }, await textImage(['moving picture'])) })
    expect(res.status).to.equal(200)
    const body = await res.json() as { images: Array<{ url: string, seed: number, nsfw: boolean }> }
    expect(body.images[0]).to.include({ seed: 3, nsfw: false })
    const { type, data } = fromDataUrl(body.images[0].url)
    expect(type).to.equal('video/mp4')
    const file = join(dir, 'e2e.mp4')
    await writeFile(file, data)
    expect(await probeVideo(file)).to.include({ codec: 'h264', width: 256, height: 144, frames: 25, fps: '10/1' })
  })

  it('llm: a completion whose usage counts the generated tokens', async function () {
    const modelId = need(this, 'llm')
    const res = await fetch(`${url}/llm`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: modelId, messages: [{ role: 'user', content: 'hello shoal' }], max_tokens: 16, temperature: 0 }) })
    expect(res.status).to.equal(200)
    const body = await res.json() as { model: string, usage: { completion_tokens: number }, choices: Array<{ message: { content: string }, finish_reason: string }> }
    expect(body.model).to.equal(modelId)
    expect(body.usage.completion_tokens).to.equal(16)
    expect(body.choices[0].finish_reason).to.equal('length')
    expect(body.choices[0].message.content).to.be.a('string').and.not.equal('')
  })

  it('llm with stream: true: Server-Sent Events relayed chunk by chunk, the first long before the last', async function () {
    const modelId = need(this, 'llm')
    const res = await fetch(`${url}/llm`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: modelId, messages: [{ role: 'user', content: 'tell me a long story' }], max_tokens: 400, temperature: 0, stream: true }) })
    expect(res.status).to.equal(200)
    expect(res.headers.get('content-type')).to.match(/^text\/event-stream/)
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    const decoder = new TextDecoder()
    let pending = ''
    const events: Array<{ at: number, data: string }> = []
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      pending += decoder.decode(value, { stream: true })
      const blocks = pending.split('\n\n')
      pending = blocks.pop() ?? ''
      for (const block of blocks) if (block.startsWith('data:')) events.push({ at: performance.now(), data: block.slice(5).trim() })
    }
    expect(events.at(-1)?.data).to.equal('[DONE]')
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data) as { usage?: { completion_tokens: number }, choices: Array<{ delta: { content: string }, finish_reason: string }> })
    expect(chunks.length).to.be.greaterThan(10)
    expect(chunks.at(-1)?.usage?.completion_tokens).to.equal(400)
    expect(chunks.at(-1)?.choices[0].finish_reason).to.equal('length')
    const firstText = events.findIndex((_, i) => i < chunks.length && chunks[i].choices[0].delta.content !== '')
    expect(firstText).to.be.at.least(0)
    const spread = events[events.length - 2].at - events[firstText].at
    // eslint-disable-next-line no-console
    console.log(`      llm stream through the mesh: ${chunks.length} chunks over ${spread.toFixed(0)} ms`)
    expect(spread, 'ms from the first text chunk to the usage chunk').to.be.greaterThan(20)
  })
})
