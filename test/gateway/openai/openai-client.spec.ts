import { expect } from 'chai'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { promisify } from 'node:util'
import { join } from 'node:path'
import { parseEther } from 'ethers'
import OpenAI, { toFile } from 'openai'
import sharp from 'sharp'
import { findProgram } from '../../../src/cpu-runner/models/extras.js'
import { listCpuModels } from '../../../src/cpu-runner/models/index.js'
import { NOOP_MODEL_ID } from '../../../src/cpu-runner/models/noop.js'
import { startTestnetChain, type TestnetChain } from '../../../src/testnet/local-chain.js'
import { startProcessMesh, type ProcessMesh, type TestnetModelEntry } from '../../../src/testnet/process-mesh.js'
import { silentWav, startReferenceRunner, type ReferenceRunner } from './reference-runner.js'

const execFileAsync = promisify(execFile)

const API_KEY = 'openai-routes-test-key'
const LLM = 'test/reference-llm'
const TEXT_TO_IMAGE = 'test/reference-text-to-image'
const WHISPER = 'test/reference-whisper'
const SPEECH = 'espeak-ng/en-us'
const PRICE = '1000000000'

/** What `audio` decodes as: ffprobe's codec name, and its length decoded by ffmpeg (raw formats need their `input` arguments). */
async function probeAudio (audio: Buffer, input: string[] = []): Promise<{ codec: string, seconds: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-speech-'))
  try {
    const path = join(dir, 'audio')
    await writeFile(path, audio)
    const { stdout } = await execFileAsync(findProgram('ffprobe') ?? 'ffprobe', ['-v', 'error', ...input, '-show_entries', 'stream=codec_name', '-of', 'json', path])
    const info = JSON.parse(stdout) as { streams?: Array<{ codec_name?: string }> }
    // decoded to 8 kHz 16-bit mono: 16,000 bytes a second (a streamed header may not say its length)
    const decoded = await execFileAsync(findProgram('ffmpeg') ?? 'ffmpeg', ['-v', 'error', ...input, '-i', path, '-f', 's16le', '-ac', '1', '-ar', '8000', 'pipe:1'], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 })
    return { codec: info.streams?.[0]?.codec_name ?? '', seconds: decoded.stdout.byteLength / 16_000 }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** The sum of a Prometheus counter's samples in a text exposition. */
async function counter (url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text()
  return text.split('\n').filter(l => l.startsWith(name + ' ') || l.startsWith(name + '{')).reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0)
}

/**
 * The official `openai` npm client, unchanged (only `baseURL` and `apiKey` set), against
 * a real mesh of `shoal` processes paying on a local chain: a bootstrap, one
 * orchestrator and a gateway. The orchestrator serves image-to-image with the echo model
 * in a CPU runner process, text-to-speech with eSpeak NG when installed, and llm,
 * text-to-image and audio-to-text with ai-runner-compatible HTTP runners answering in the
 * reference's shapes (no CPU model in this repository generates images or transcribes).
 * Every call must be debited by the orchestrator: the OpenAI routes are paid as the
 * pipeline routes are.
 */
describe('gateway/openai: the official openai client against a real paid mesh', function () {
  this.timeout(180_000)
  let chain: TestnetChain
  let mesh: ProcessMesh | undefined
  let dir: string
  const runners: ReferenceRunner[] = []
  let client: OpenAI
  let url: string
  let orchestratorMetrics: string
  let speechServed = false

  before(async function () {
    this.timeout(240_000)
    dir = await mkdtemp(join(tmpdir(), 'shoal-openai-'))
    chain = await startTestnetChain({ blockTimeSec: 1 })
    const [llm, image, whisper] = await Promise.all([startReferenceRunner('llm', LLM), startReferenceRunner('text-to-image', TEXT_TO_IMAGE), startReferenceRunner('audio-to-text', WHISPER)])
    runners.push(llm, image, whisper)
    speechServed = listCpuModels().some(m => m.modelId === SPEECH && m.available)
    const entry = (pipeline: string, modelId: string, runnerUrl?: string): TestnetModelEntry => ({ pipeline, model_id: modelId, warm: true, capacity: 2, price_per_unit: PRICE, pixels_per_unit: '1', ...(runnerUrl !== undefined ? { url: runnerUrl } : {}) })
    const models = [
      entry('llm', LLM, llm.url),
      entry('text-to-image', TEXT_TO_IMAGE, image.url),
      entry('audio-to-text', WHISPER, whisper.url),
      entry('image-to-image', NOOP_MODEL_ID),
      ...(speechServed ? [entry('text-to-speech', SPEECH)] : [])
    ]
    mesh = await startProcessMesh({
      dataDir: dir,
      orchestrators: 1,
      models: () => models,
      gatewayPort: 0,
      logLevel: 'info',
      payments: { chain, depositWei: parseEther('10'), reserveWei: parseEther('10') },
      extraArgs: { gateway: ['--api-key', API_KEY, '--model-alias', `llm:gpt-4o-mini=${LLM}`], orchestrator: () => ['--metrics-port', '0'] }
    })
    url = mesh.gateway.url
    const metricsUrl = mesh.orchestrators[0]?.metricsUrl
    if (metricsUrl === undefined) throw new Error('the orchestrator did not report its metrics endpoint')
    orchestratorMetrics = metricsUrl
    await chain.sendEth(mesh.orchestrators[0]?.ethAddress ?? '', parseEther('10'))
    client = new OpenAI({ baseURL: `${url}/v1`, apiKey: API_KEY })
  })

  after(async () => {
    await mesh?.stop()
    for (const r of runners) await r.stop()
    await chain?.stop()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  /** Runs `call` and checks the orchestrator debited the gateway for it. */
  async function paid<T> (call: () => Promise<T>): Promise<T> {
    const before = await counter(orchestratorMetrics, 'shoal_payments_debited_wei_total')
    const result = await call()
    // the debit is booked when the job's final frame is written: shortly after the answer at most
    const deadline = Date.now() + 10_000
    while (await counter(orchestratorMetrics, 'shoal_payments_debited_wei_total') <= before) {
      if (Date.now() > deadline) throw new Error('the orchestrator debited nothing for the call')
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    return result
  }

  it('lists the models the mesh serves, with their pipelines', async () => {
    const ids: string[] = []
    for await (const model of client.models.list()) ids.push(model.id)
    expect(ids).to.include.members([LLM, TEXT_TO_IMAGE, WHISPER, NOOP_MODEL_ID])
    expect(ids.includes(SPEECH)).to.equal(speechServed)
    const model = await client.models.retrieve(LLM)
    expect(model).to.include({ id: LLM, object: 'model' })
    expect((model as unknown as { pipelines: string[] }).pipelines).to.deep.equal(['llm'])
  })

  it('chat completion, not streamed: the assistant message and the runner\'s usage', async () => {
    const completion = await paid(async () => await client.chat.completions.create({
      model: LLM,
      messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello from the mesh' }],
      max_tokens: 32
    }))
    expect(completion.object).to.equal('chat.completion')
    expect(completion.model).to.equal(LLM)
    expect(completion.choices[0]?.message).to.include({ role: 'assistant', content: 'echo: hello from the mesh' })
    expect(completion.choices[0]?.finish_reason).to.equal('stop')
    expect(completion.usage).to.deep.equal({ prompt_tokens: 6, completion_tokens: 5, total_tokens: 11 })
  })

  it('chat completion, streamed: chat.completion.chunk events, then usage, then [DONE]', async () => {
    const stream = await paid(async () => await client.chat.completions.create({
      model: LLM, messages: [{ role: 'user', content: 'one two three' }], stream: true, stream_options: { include_usage: true }
    }))
    const chunks = []
    for await (const chunk of stream) chunks.push(chunk)
    expect(chunks.every(c => c.object === 'chat.completion.chunk')).to.equal(true)
    const text = chunks.map(c => c.choices[0]?.delta.content ?? '').join('')
    expect(text).to.equal('echo: one two three')
    expect(chunks[0]?.choices[0]?.delta.role).to.equal('assistant')
    expect(chunks.map(c => c.choices[0]?.finish_reason).filter(Boolean)).to.deep.equal(['stop'])
    expect(chunks.at(-1)?.usage).to.deep.equal({ prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 })
  })

  it('model aliases apply as on the pipeline routes: an OpenAI model name served by a mesh model', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'aliased' }] }).withResponse()
    expect(data.choices[0]?.message.content).to.equal('echo: aliased')
    expect(response.headers.get('x-shoal-model')).to.equal(LLM)
    expect(response.headers.get('x-shoal-requested-model')).to.equal('gpt-4o-mini')
  })

  it('the raw stream ends with data: [DONE]', async () => {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: LLM, messages: [{ role: 'user', content: 'done?' }], stream: true })
    })
    expect(res.headers.get('content-type')).to.match(/^text\/event-stream/)
    expect(res.headers.get('x-shoal-orchestrator')).to.equal(mesh?.orchestrators[0]?.peerId)
    const text = await res.text()
    expect(text.trimEnd().endsWith('data: [DONE]')).to.equal(true)
    expect(text.split('\n\n').filter(e => e.startsWith('data: {')).length).to.be.greaterThan(1)
  })

  it('text completion, streamed and not', async () => {
    const whole = await paid(async () => await client.completions.create({ model: LLM, prompt: 'say this', max_tokens: 8 }))
    expect(whole.object).to.equal('text_completion')
    expect(whole.choices[0]?.text).to.equal('echo: say this')
    expect(whole.usage?.completion_tokens).to.equal(3)
    const stream = await client.completions.create({ model: LLM, prompt: 'again', stream: true })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? ''
    expect(text).to.equal('echo: again')
  })

  it('image generation: n images of the asked size, as b64_json and as data URLs', async () => {
    const b64 = await paid(async () => await client.images.generate({ model: TEXT_TO_IMAGE, prompt: 'a shoal of fish', n: 2, size: '64x48', response_format: 'b64_json' }))
    expect(b64.data).to.have.length(2)
    const meta = await sharp(Buffer.from(b64.data?.[0]?.b64_json ?? '', 'base64')).metadata()
    expect([meta.width, meta.height]).to.deep.equal([64, 48])
    const urls = await client.images.generate({ model: TEXT_TO_IMAGE, prompt: 'a shoal of fish', size: '32x32' })
    expect(urls.data?.[0]?.url).to.match(/^data:image\/png;base64,/)
  })

  it('image edit (multipart): the image goes through image-to-image and comes back', async () => {
    const input = await sharp({ create: { width: 24, height: 16, channels: 3, background: { r: 200, g: 10, b: 10 } } }).png().toBuffer()
    const result = await paid(async () => await client.images.edit({ model: NOOP_MODEL_ID, prompt: 'redder', image: await toFile(input, 'in.png', { type: 'image/png' }), response_format: 'b64_json' }))
    // the echo model returns its input: the very bytes sent
    expect(Buffer.from(result.data?.[0]?.b64_json ?? '', 'base64').equals(input)).to.equal(true)
  })

  it('audio transcription (multipart), as json, text, verbose_json and srt', async () => {
    const wav = silentWav(250)
    const file = async (): Promise<Awaited<ReturnType<typeof toFile>>> => await toFile(wav, 'speech.wav', { type: 'audio/wav' })
    const json = await paid(async () => await client.audio.transcriptions.create({ model: WHISPER, file: await file() }))
    // the runner received the multipart body holding the file
    expect(json.text).to.match(/^heard \d+ bytes$/)
    expect(Number(json.text.match(/\d+/)?.[0])).to.be.greaterThan(wav.length)
    const text = await client.audio.transcriptions.create({ model: WHISPER, file: await file(), response_format: 'text' })
    expect(text).to.equal(json.text)
    const verbose = await client.audio.transcriptions.create({ model: WHISPER, file: await file(), response_format: 'verbose_json' })
    expect(verbose.segments?.map(s => [s.start, s.end])).to.deep.equal([[0, 0.5], [0.5, 1.25]])
    expect(verbose.duration).to.equal(1.25)
    const srt = await client.audio.transcriptions.create({ model: WHISPER, file: await file(), response_format: 'srt' })
    expect(srt).to.match(/^1\n00:00:00,000 --> 00:00:00,500\nheard\n\n2\n00:00:00,500 --> 00:00:01,250\n/)
  })

  it('speech: the audio bytes of the spoken input, mp3 by default as OpenAI answers', async function () {
    if (!speechServed || findProgram('ffmpeg') === null) {
      // eslint-disable-next-line no-console
      console.log(`      ${SPEECH} or ffmpeg is not available here (apt-get install -y espeak-ng ffmpeg, or the extras)`)
      this.skip()
    }
    const response = await paid(async () => await client.audio.speech.create({ model: SPEECH, voice: 'alloy', input: 'A shoal of fish answers from the mesh.' }))
    expect(response.headers.get('content-type')).to.equal('audio/mpeg')
    const probe = await probeAudio(Buffer.from(await response.arrayBuffer()))
    expect(probe.codec).to.equal('mp3')
    expect(probe.seconds).to.be.greaterThan(1)
  })

  it('speech: response_format mp3, opus, aac, flac, wav and pcm, each decoding as that codec', async function () {
    if (!speechServed || findProgram('ffmpeg') === null) this.skip()
    const expected = {
      mp3: { type: 'audio/mpeg', codec: 'mp3' },
      opus: { type: 'audio/ogg', codec: 'opus' },
      aac: { type: 'audio/aac', codec: 'aac' },
      flac: { type: 'audio/flac', codec: 'flac' },
      wav: { type: 'audio/wav', codec: 'pcm_s16le' },
      pcm: { type: 'audio/pcm', codec: 'pcm_s16le' }
    } as const
    for (const format of Object.keys(expected) as Array<keyof typeof expected>) {
      const response = await client.audio.speech.create({ model: SPEECH, voice: 'alloy', input: 'One fish, two fish.', response_format: format })
      expect(response.headers.get('content-type'), format).to.equal(expected[format].type)
      const audio = Buffer.from(await response.arrayBuffer())
      const probe = await probeAudio(audio, format === 'pcm' ? ['-f', 's16le', '-ar', '24000', '-ac', '1'] : [])
      expect(probe.codec, format).to.equal(expected[format].codec)
      expect(probe.seconds, format).to.be.greaterThan(0.5)
      if (format === 'wav') expect(audio.subarray(0, 4).toString()).to.equal('RIFF')
      if (format === 'pcm') expect(audio.subarray(0, 4).toString()).to.not.equal('RIFF')
    }
  })

  it('speech: an unsupported response_format is a BadRequestError naming it, and nothing is paid', async function () {
    if (!speechServed) this.skip()
    const before = await counter(orchestratorMetrics, 'shoal_payments_debited_wei_total')
    let error: unknown
    try {
      await client.audio.speech.create({ model: SPEECH, voice: 'alloy', input: 'x', response_format: 'ogg' as unknown as 'mp3' })
    } catch (err) { error = err }
    expect(error).to.be.instanceOf(OpenAI.BadRequestError)
    const bad = error as InstanceType<typeof OpenAI.BadRequestError>
    expect(bad.param).to.equal('response_format')
    expect(bad.message).to.include('mp3, opus, aac, flac, wav, pcm')
    expect(await counter(orchestratorMetrics, 'shoal_payments_debited_wei_total')).to.equal(before)
  })

  it('errors come in OpenAI\'s shape and status, as the client\'s error classes', async () => {
    const wrongKey = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'wrong' })
    let error: unknown
    try { await wrongKey.models.list() } catch (err) { error = err }
    expect(error).to.be.instanceOf(OpenAI.AuthenticationError)
    expect((error as InstanceType<typeof OpenAI.AuthenticationError>).code).to.equal('invalid_api_key')

    error = undefined
    try { await client.chat.completions.create({ model: LLM, messages: [] }) } catch (err) { error = err }
    expect(error).to.be.instanceOf(OpenAI.BadRequestError)
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).to.equal('messages')

    error = undefined
    try { await client.chat.completions.create({ model: LLM, messages: [{ role: 'user', content: 'x' }], temperature: 'hot' as unknown as number }) } catch (err) { error = err }
    expect(error).to.be.instanceOf(OpenAI.BadRequestError)
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).to.equal('temperature')

    error = undefined
    try { await client.models.retrieve('no/such-model') } catch (err) { error = err }
    expect(error).to.be.instanceOf(OpenAI.NotFoundError)
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).code).to.equal('model_not_found')

    error = undefined
    try { await client.embeddings.create({ model: LLM, input: 'x' }) } catch (err) { error = err }
    expect(error).to.be.instanceOf(OpenAI.NotFoundError)
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).code).to.equal('unknown_url')

    const raw = await fetch(`${url}/v1/images/generations`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: TEXT_TO_IMAGE, prompt: 'x', size: 'huge' }) })
    expect(raw.status).to.equal(400)
    expect(await raw.json()).to.deep.equal({ error: { message: "'size' must be WIDTHxHEIGHT, e.g. 1024x1024, or auto", type: 'invalid_request_error', param: 'size', code: 'invalid_value' } })
  })
})
