import { expect } from 'chai'
import { mkdtemp, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { createCpuModel, assertCpuModelSupported } from '../../../src/cpu-runner/models/index.js'
import { extraPackageDir, findProgram } from '../../../src/cpu-runner/models/extras.js'
import { silentLogger } from '../../../src/observability/logger.js'
import type { ValidatedRequest } from '../../../src/cpu-runner/schemas.js'

/**
 * Without Debian's espeak-ng and ffmpeg (a PATH holding only node), the extras package's own
 * programs run: eSpeak NG's WASM build and the static ffmpeg from npm.
 */
describe('cpu-runner/pipelines: the programs the extras package ships (no Debian packages)', function () {
  this.timeout(120_000)
  let bin: string
  let env: NodeJS.ProcessEnv
  before(async function () {
    if (extraPackageDir('espeak-ng') === null || extraPackageDir('@ffmpeg-installer/linux-x64') === null) {
      // eslint-disable-next-line no-console
      console.log('      skipped: the extras package is not installed (npm run install:extras)')
      this.skip()
    }
    bin = await mkdtemp(join(tmpdir(), 'shoal-path-'))
    await symlink(process.execPath, join(bin, 'node'))
    env = { PATH: bin }
  })
  after(async () => { if (bin !== undefined) await rm(bin, { recursive: true, force: true }) })

  it('finds them when PATH has no espeak-ng or ffmpeg, and refuses with both ways to install when the extras are missing too', () => {
    expect(findProgram('espeak-ng', env)).to.match(/extras\/bin\/espeak-ng\.mjs$/)
    expect(findProgram('ffmpeg', env)).to.match(/@ffmpeg-installer\/linux-x64\/ffmpeg$/)
    assertCpuModelSupported('text-to-speech', 'espeak-ng/en-us', env)
    assertCpuModelSupported('image-to-video', 'ffmpeg/ken-burns', env)
    const bare = { PATH: bin, SHOAL_EXTRAS_DIR: join(bin, 'no-extras') }
    expect(() => { assertCpuModelSupported('text-to-speech', 'espeak-ng/en-us', bare) }).to.throw(/npm run install:extras.*apt-get install -y espeak-ng/)
    expect(() => { assertCpuModelSupported('image-to-video', 'ffmpeg/ken-burns', bare) }).to.throw(/npm run install:extras.*apt-get install -y ffmpeg/)
  })

  it('text-to-speech on the WASM eSpeak NG: a WAV of speech, and an unknown voice fails to load', async () => {
    const model = createCpuModel('text-to-speech', 'espeak-ng/en-us', { env, logger: silentLogger(), workers: 1 })
    await model.load()
    const out = await model.run({ params: { text: 'Hello from the shoal, spoken by the WASM build.' }, files: {} } as unknown as ValidatedRequest, { signal: AbortSignal.timeout(60_000) })
    const url = (out as unknown as { body: { audio: { url: string } } }).body.audio.url
    expect(url).to.match(/^data:audio\/wav;base64,/)
    const wav = Buffer.from(url.slice(url.indexOf(',') + 1), 'base64')
    expect(wav.toString('ascii', 0, 4)).to.equal('RIFF')
    expect(wav.readUInt32LE(4)).to.equal(wav.length - 8)
    // 22.05 kHz 16-bit mono: about a second or more of speech
    expect(wav.length).to.be.greaterThan(22_050 * 2)
    await model.close()
    const bad = createCpuModel('text-to-speech', 'espeak-ng/xx-nope', { env, logger: silentLogger(), workers: 1 })
    let err: unknown
    try { await bad.load() } catch (e) { err = e }
    expect(String(err)).to.match(/no voice "xx-nope"/)
  })

  it('image-to-video on the static ffmpeg: an H.264 MP4', async () => {
    const model = createCpuModel('image-to-video', 'ffmpeg/ken-burns', { env, logger: silentLogger(), workers: 1 })
    await model.load()
    const still = await sharp({ create: { width: 96, height: 64, channels: 3, background: { r: 200, g: 80, b: 20 } } }).png().toBuffer()
    const out = await model.run({ params: { width: 64, height: 48, fps: 6, seed: 3 }, files: { image: { data: still, filename: 'a.png', contentType: 'image/png' } } } as unknown as ValidatedRequest, { signal: AbortSignal.timeout(60_000) })
    const url = (out as unknown as { body: { images: Array<{ url: string }> } }).body.images[0]?.url ?? ''
    const mp4 = Buffer.from(url.slice(url.indexOf(',') + 1), 'base64')
    expect(url).to.match(/^data:video\/mp4;base64,/)
    expect(mp4.toString('ascii', 4, 8)).to.equal('ftyp')
    expect(mp4.includes(Buffer.from('avc1'))).to.equal(true)
    await model.close()
  })
})
