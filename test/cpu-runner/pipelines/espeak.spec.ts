import { expect } from 'chai'
import { createCpuRunnerServer, type CpuRunnerServer } from '../../../src/cpu-runner/index.js'
import { assertCpuModelSupported } from '../../../src/cpu-runner/models/index.js'
import { fixStreamedWavHeader, speechSettings } from '../../../src/cpu-runner/models/espeak.js'
import { fromDataUrl, skipWithoutBinary } from './helpers.js'

interface Wav { sampleRate: number, channels: number, bitsPerSample: number, samples: Int16Array }

function readWav (wav: Buffer): Wav {
  expect(wav.toString('ascii', 0, 4)).to.equal('RIFF')
  expect(wav.readUInt32LE(4), 'RIFF size').to.equal(wav.length - 8)
  expect(wav.toString('ascii', 8, 12)).to.equal('WAVE')
  let offset = 12
  let fmt: { sampleRate: number, channels: number, bitsPerSample: number } | null = null
  while (offset + 8 <= wav.length) {
    const id = wav.toString('ascii', offset, offset + 4)
    const size = wav.readUInt32LE(offset + 4)
    if (id === 'fmt ') fmt = { channels: wav.readUInt16LE(offset + 10), sampleRate: wav.readUInt32LE(offset + 12), bitsPerSample: wav.readUInt16LE(offset + 22) }
    if (id === 'data') {
      expect(offset + 8 + size, 'data size').to.equal(wav.length)
      const pcm = wav.subarray(offset + 8)
      const samples = new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.length - (pcm.length % 2)))
      return { ...(fmt as NonNullable<typeof fmt>), samples }
    }
    offset += 8 + size
  }
  throw new Error('no data chunk')
}

const rms = (s: Int16Array): number => Math.sqrt(s.reduce((sum, v) => sum + v * v, 0) / Math.max(1, s.length))

describe('cpu-runner/pipelines: text-to-speech with espeak-ng', function () {
  this.timeout(30_000)

  it('maps the reference speaker description to an eSpeak voice, speed and pitch', () => {
    const reference = 'A male speaker delivers a slightly expressive and animated speech with a moderate speed and pitch.'
    expect(speechSettings('en-us', reference)).to.deep.equal({ voice: 'en-us', speed: 175, pitch: 50 })
    expect(speechSettings('en-us', 'A female speaker talks slowly with a high pitch')).to.deep.equal({ voice: 'en-us+f3', speed: 140, pitch: 70 })
    expect(speechSettings('de+m2', 'a woman speaking very fast, deep voice')).to.deep.equal({ voice: 'de+m2', speed: 240, pitch: 30 })
  })

  it('fixes the placeholder sizes of a streamed WAV header', () => {
    const wav = Buffer.alloc(44 + 10)
    wav.write('RIFF', 0, 'ascii'); wav.writeUInt32LE(0x7ffff024, 4); wav.write('WAVE', 8, 'ascii')
    wav.write('fmt ', 12, 'ascii'); wav.writeUInt32LE(16, 16)
    wav.write('data', 36, 'ascii'); wav.writeUInt32LE(0x7ffff000, 40)
    const fixed = fixStreamedWavHeader(wav)
    expect(fixed.readUInt32LE(4)).to.equal(46)
    expect(fixed.readUInt32LE(40)).to.equal(10)
    expect(() => fixStreamedWavHeader(Buffer.from('not a wav file at all, not at all, no no no no'))).to.throw(/WAV/)
  })

  it('refuses the model when espeak-ng is not on PATH and the extras are not installed, saying how to install it', () => {
    let err: any
    try { assertCpuModelSupported('text-to-speech', 'espeak-ng/en-us', { PATH: '/nonexistent', SHOAL_EXTRAS_DIR: '/nonexistent' }) } catch (e) { err = e }
    expect(err).to.have.property('name', 'UnsupportedRunnerModelError')
    expect(err.message).to.contain('apt-get install -y espeak-ng')
    expect(() => { assertCpuModelSupported('text-to-speech', 'espeak-ng/not a voice!') }).to.throw(/not an eSpeak voice/)
  })

  describe('through the runner\'s HTTP API', () => {
    let runner: CpuRunnerServer
    before(async function () {
      skipWithoutBinary(this, 'espeak-ng', 'espeak-ng')
      runner = createCpuRunnerServer({ pipeline: 'text-to-speech', modelId: 'espeak-ng/en-us', port: 0, workers: 2 })
      await runner.start()
    })
    after(async () => { await runner?.stop() })

    const speak = async (body: Record<string, unknown>): Promise<Response> =>
      await fetch(`${runner.url}/text-to-speech`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

    it('speaks the text as a 22 kHz mono WAV data URL, longer text giving longer audio', async () => {
      const started = performance.now()
      const short = await speak({ text: 'Hello from the shoal.' })
      const ms = performance.now() - started
      expect(short.status).to.equal(200)
      const body = await short.json() as { audio: { url: string } }
      expect(Object.keys(body)).to.deep.equal(['audio'])
      const { type, data } = fromDataUrl(body.audio.url)
      expect(type).to.equal('audio/wav')
      const wav = readWav(data)
      expect(wav).to.include({ sampleRate: 22050, channels: 1, bitsPerSample: 16 })
      const seconds = wav.samples.length / wav.sampleRate
      expect(seconds).to.be.within(0.8, 4)
      expect(rms(wav.samples), 'not silence').to.be.greaterThan(500)

      const long = await speak({ text: 'Hello from the shoal. A shoal of fish swims far and fast, and every fish finds its way home again.' })
      const longWav = readWav(fromDataUrl((await long.json() as { audio: { url: string } }).audio.url).data)
      expect(longWav.samples.length).to.be.greaterThan(wav.samples.length * 2.5)
      // eslint-disable-next-line no-console
      console.log(`      espeak-ng: ${seconds.toFixed(2)} s of speech in ${ms.toFixed(0)} ms`)
    })

    it('a slow description gives longer audio than a fast one for the same text', async () => {
      const text = 'The quick brown fox jumps over the lazy dog.'
      const slow = readWav(fromDataUrl((await (await speak({ text, description: 'a slow speaker' })).json() as { audio: { url: string } }).audio.url).data)
      const fast = readWav(fromDataUrl((await (await speak({ text, description: 'a fast speaker' })).json() as { audio: { url: string } }).audio.url).data)
      expect(slow.samples.length).to.be.greaterThan(fast.samples.length * 1.2)
    })

    it('answers 400 for empty text and for a model id other than the loaded one', async () => {
      const empty = await speak({ text: '   ' })
      expect(empty.status).to.equal(400)
      expect(await empty.json()).to.have.nested.property('detail.msg').that.matches(/empty/)
      const other = await speak({ text: 'hi', model_id: 'parler-tts/parler-tts-large-v1' })
      expect(other.status).to.equal(400)
    })
  })

  it('fails to load an unknown voice', async function () {
    skipWithoutBinary(this, 'espeak-ng', 'espeak-ng')
    const runner = createCpuRunnerServer({ pipeline: 'text-to-speech', modelId: 'espeak-ng/xx-nope', port: 0 })
    try {
      let err: any
      try { await runner.start() } catch (e) { err = e }
      expect(err).to.have.property('name', 'ModelFailureError')
      expect(err.message).to.match(/no voice "xx-nope"/)
      expect(runner.status).to.equal('ERROR')
    } finally {
      await runner.stop()
    }
  })
})
