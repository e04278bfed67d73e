import { expect } from 'chai'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { createCpuRunnerServer, type CpuRunnerServer } from '../../../src/cpu-runner/index.js'
import { assertCpuModelSupported } from '../../../src/cpu-runner/models/index.js'
import { cameraMove, KEN_BURNS_FRAMES, zoompanFilter } from '../../../src/cpu-runner/models/ken-burns.js'
import { fromDataUrl, meanAbsDiff, probeVideo, skipWithoutBinary, textImage, videoFrame } from './helpers.js'

/** A still with structure everywhere, so any camera move changes the frame. */
async function still (): Promise<Buffer> {
  const lines = ['SHOAL KEN BURNS', 'zoom and pan', '0123456789 ABCDEFG']
  const text = await textImage(lines, 640)
  const { width = 0, height = 0 } = await sharp(text).metadata()
  const raw = Buffer.alloc(width * height * 3)
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) { const i = (y * width + x) * 3; raw[i] = (x * 255) / width; raw[i + 1] = (y * 255) / height; raw[i + 2] = 128 }
  return await sharp(raw, { raw: { width, height, channels: 3 } }).composite([{ input: text, blend: 'multiply' }]).png().toBuffer()
}

describe('cpu-runner/pipelines: image-to-video with ffmpeg (Ken Burns)', function () {
  this.timeout(60_000)
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'shoal-ken-burns-test-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('derives the camera move from the seed and the motion amount', () => {
    expect(cameraMove(7, 127)).to.deep.equal(cameraMove(7, 127))
    const moves = [1, 2, 3, 4, 5, 6, 7, 8].map((seed) => cameraMove(seed, 127))
    expect(new Set(moves.map((m) => m.zoomFrom < m.zoomTo)).size, 'both zoom in and zoom out occur').to.equal(2)
    const still = cameraMove(3, 0)
    expect(still.zoomFrom).to.equal(1)
    expect(still.zoomTo).to.equal(1)
    const strong = cameraMove(3, 255)
    expect(Math.max(strong.zoomFrom, strong.zoomTo)).to.be.closeTo(1.4, 1e-9)
    expect(zoompanFilter(cameraMove(1, 127), 25, 64, 32, 6)).to.match(/^zoompan=z='.*':x='.*':y='.*':d=1:s=64x32:fps=6,format=yuv420p$/)
  })

  it('refuses the model when ffmpeg is not on PATH and the extras are not installed, saying how to install it', () => {
    let err: any
    try { assertCpuModelSupported('image-to-video', 'ffmpeg/ken-burns', { PATH: '/nonexistent', SHOAL_EXTRAS_DIR: '/nonexistent' }) } catch (e) { err = e }
    expect(err).to.have.property('name', 'UnsupportedRunnerModelError')
    expect(err.message).to.contain('apt-get install -y ffmpeg')
  })

  describe('through the runner\'s HTTP API', () => {
    let runner: CpuRunnerServer
    let image: Buffer
    before(async function () {
      skipWithoutBinary(this, 'ffmpeg', 'ffmpeg')
      skipWithoutBinary(this, 'ffprobe', 'ffmpeg')
      image = await still()
      runner = createCpuRunnerServer({ pipeline: 'image-to-video', modelId: 'ffmpeg/ken-burns', port: 0 })
      await runner.start()
    })
    after(async () => { await runner?.stop() })

    const post = async (fields: Record<string, string>, picture: Buffer = image): Promise<Response> => {
      const form = new FormData()
      for (const [k, v] of Object.entries(fields)) form.set(k, v)
      form.set('image', new Blob([picture], { type: 'image/png' }), 'still.png')
      return await fetch(`${runner.url}/image-to-video`, { method: 'POST', body: form })
    }

    it('turns a still into an H.264 MP4 of 25 frames at the requested size and fps, with real motion', async () => {
      const started = performance.now()
      const res = await post({ width: '320', height: '180', fps: '8', seed: '11', motion_bucket_id: '200' })
      const ms = performance.now() - started
      expect(res.status).to.equal(200)
      const body = await res.json() as { images: Array<{ url: string, seed: number, nsfw: boolean }> }
      expect(body.images).to.have.length(1)
      expect(body.images[0]).to.include({ seed: 11, nsfw: false })
      const { type, data } = fromDataUrl(body.images[0].url)
      expect(type).to.equal('video/mp4')
      expect(data.toString('ascii', 4, 8)).to.equal('ftyp')
      const file = join(dir, 'a.mp4')
      await writeFile(file, data)
      const info = await probeVideo(file)
      expect(info).to.include({ codec: 'h264', width: 320, height: 180, frames: KEN_BURNS_FRAMES, fps: '8/1' })
      expect(info.duration).to.be.closeTo(KEN_BURNS_FRAMES / 8, 0.2)
      const first = await videoFrame(file, 0, 320, 180)
      const middle = await videoFrame(file, 12, 320, 180)
      const last = await videoFrame(file, KEN_BURNS_FRAMES - 1, 320, 180)
      expect(meanAbsDiff(first, last), 'first vs last frame').to.be.greaterThan(4)
      expect(meanAbsDiff(first, middle), 'first vs middle frame').to.be.greaterThan(1)
      // the first frame of a zoom that starts wide is the still itself
      const reference = await sharp(image).resize(320, 180, { fit: 'cover' }).removeAlpha().raw().toBuffer()
      const move = cameraMove(11, 200)
      const wideEnd = move.zoomFrom === 1 ? first : last
      expect(meanAbsDiff(wideEnd, reference), 'the wide end shows the whole still').to.be.lessThan(12)
      // eslint-disable-next-line no-console
      console.log(`      ken-burns: 25 frames 320x180 in ${ms.toFixed(0)} ms`)
    })

    it('the same seed gives the same video; odd sizes are rounded down to even', async () => {
      const a = fromDataUrl((await (await post({ width: '161', height: '91', seed: '5' })).json() as { images: Array<{ url: string }> }).images[0].url).data
      const b = fromDataUrl((await (await post({ width: '160', height: '90', seed: '5' })).json() as { images: Array<{ url: string }> }).images[0].url).data
      const file = join(dir, 'b.mp4')
      await writeFile(file, a)
      expect(await probeVideo(file)).to.include({ width: 160, height: 90, frames: KEN_BURNS_FRAMES, fps: '6/1' })
      expect(a.equals(b)).to.equal(true)
    })

    it('answers 400 for an image that does not decode, a video too large and a bad fps', async () => {
      expect((await post({}, Buffer.from('not an image'))).status).to.equal(400)
      expect((await post({ width: '4096', height: '4096' })).status).to.equal(400)
      expect((await post({ fps: '0' })).status).to.equal(400)
      expect((await post({ width: '8', height: '8' })).status).to.equal(400)
    })
  })
})
