import { expect } from 'chai'
import { CHROMIUM } from '../../../helpers/chromium.js'
import puppeteer, { type Browser, type Page } from 'puppeteer-core'
import { waitFor, waitForValue } from '../../../helpers/wait-for.js'
import { childProcesses, probeVideo, startLiveGateway, type LiveGateway } from './harness.js'

interface Playback { currentTime: number, frames: number, width: number, height: number, spread: number }

/** the output video's playback: time, frames decoded, size, and the spread of its pixels read back through a canvas */
async function playback (page: Page): Promise<Playback> {
  return await page.evaluate(`(() => {
    const v = document.getElementById('output')
    const q = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : { totalVideoFrames: 0 }
    let spread = 0
    if (v.videoWidth > 0) {
      const c = document.createElement('canvas')
      c.width = 64; c.height = 48
      const ctx = c.getContext('2d')
      ctx.drawImage(v, 0, 0, 64, 48)
      const d = ctx.getImageData(0, 0, 64, 48).data
      let min = 255, max = 0
      for (let i = 0; i < d.length; i += 4) { const y = (d[i] + d[i + 1] + d[i + 2]) / 3; min = Math.min(min, y); max = Math.max(max, y) }
      spread = max - min
    }
    return { currentTime: v.currentTime, frames: q.totalVideoFrames, width: v.videoWidth, height: v.videoHeight, spread }
  })()`) as Playback
}

/**
 * WHIP and WHEP from headless Chromium with a fake camera, through the gateway's real HTTP
 * server, over a live session that loops its input back as output: the page publishes,
 * the session receives ~1 s H.264 MPEG-TS segments that decode on their own at the
 * camera's size, and the page plays them back. Nothing is left running afterwards.
 */
describe('gateway/live/webrtc: WHIP and WHEP from headless Chromium', function () {
  this.timeout(180_000)
  let browser: Browser | undefined
  let gateway: LiveGateway | undefined

  before(async function () {
    if (CHROMIUM === undefined) {
      // eslint-disable-next-line no-console
      console.log('      no Chromium here (apt-get install -y chromium, or set CHROMIUM_PATH)')
      this.skip()
    }
    gateway = await startLiveGateway()
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
        // a generated camera, allowed without asking
        '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
        // Chromium leaves loopback out of ICE unless told: the gateway offers only loopback
        '--allow-loopback-in-peer-connection'
      ]
    })
  })

  after(async () => {
    await browser?.close()
    await gateway?.stop()
  })

  for (const codec of ['h264', 'vp8'] as const) {
    it(`publishes the camera sent as ${codec}, gets decodable H.264 segments, and plays them back`, async () => {
      if (gateway === undefined || browser === undefined) throw new Error('not started')
      const ffmpegBefore = (await childProcesses('ffmpeg')).length
      const streamId = `cam-${codec}`
      const media = gateway.open(streamId)
      const page = await browser.newPage()
      await page.setViewport({ width: 1100, height: 640 })
      try {
        const errors: string[] = []
        page.on('pageerror', (err) => { errors.push(String(err)) })
        await page.goto(`${gateway.url}/live/video-to-video/${streamId}/play?codec=${codec}&width=320&height=240&autostart=1`, { waitUntil: 'load' })
        await page.waitForFunction('document.body.dataset.whip === "connected" || document.body.dataset.error !== undefined', { timeout: 60_000 })
        expect(await page.evaluate('document.body.dataset.error ?? null')).to.equal(null)
        expect(gateway.live.counts().publishers).to.equal(1)
        expect(gateway.live.publisher(streamId)?.codec).to.equal(codec === 'h264' ? 'H264' : 'VP8')
        expect((await childProcesses('ffmpeg')).length).to.equal(ffmpegBefore + 1)

        // input: whole segments of about a second, H.264 without B-frames, at the camera's size
        await waitFor(() => media.inputs.length >= 3, 60_000, 'three input segments')
        const probed = await Promise.all(media.inputs.slice(0, 3).map(async s => await probeVideo(s, 'mpegts')))
        for (const p of probed) {
          expect(p).to.include({ codec: 'h264', width: 320, height: 240, hasBFrames: 0, startsWithKeyframe: true })
          expect(p.keyframes).to.equal(1)
          // ~1 s at the fake camera's 30 fps; Chromium sends fewer frames when this machine is loaded
          expect(p.frames).to.be.within(2, 45)
          expect(p.durationS).to.be.within(0.1, 1.5)
        }

        // output: the page plays what came back, and it is a picture (not one flat colour)
        await page.waitForFunction('document.body.dataset.whep === "connected"', { timeout: 60_000 })
        const first = await waitForValue(async () => { const p = await playback(page); return p.frames >= 10 ? p : undefined }, 60_000, 'frames played')
        const later = await waitForValue(async () => { const p = await playback(page); return p.currentTime >= first.currentTime + 1 ? p : undefined }, 60_000, 'playback to advance a second')
        expect(later.frames).to.be.greaterThan(first.frames)
        expect([later.width, later.height]).to.deep.equal([320, 240])
        expect(later.spread).to.be.greaterThan(40)
        expect(errors).to.deep.equal([])
        if (process.env.SHOAL_SCREENSHOT_DIR !== undefined) await page.screenshot({ path: `${process.env.SHOAL_SCREENSHOT_DIR}/live-${codec}.png` })

        const publisher = gateway.live.publisher(streamId)
        if (codec === 'h264') {
          // Stop: both resources deleted
          await page.click('#stop')
        } else {
          // the connections closed without DELETE (a tab gone): the gateway notices by DTLS
          await page.evaluate('window.shoalLive.dropWithoutDelete()')
        }
        expect(await publisher?.closed).to.equal(codec === 'h264' ? 'ended by the client (DELETE)' : 'DTLS closed by the client')
        await waitFor(() => gateway?.live.counts().publishers === 0 && gateway.live.counts().viewers === 0, 30_000, 'sessions closed')
        await waitFor(async () => (await childProcesses('ffmpeg')).length === ffmpegBefore, 30_000, 'ffmpeg exited')
        expect(media.subscribers()).to.equal(0)
      } finally {
        await page.close()
      }
    })
  }

  it('on a gateway with API keys: the page without the key says so, with the key (in its fragment) publishes and plays', async () => {
    if (browser === undefined) throw new Error('not started')
    const keyed = await startLiveGateway({}, { apiKeys: ['page-key'] })
    const page = await browser.newPage()
    try {
      keyed.open('cam-key')
      const play = `${keyed.url}/live/video-to-video/cam-key/play?codec=h264&width=320&height=240&autostart=1`
      await page.goto(play, { waitUntil: 'load' })
      await page.waitForFunction('document.body.dataset.error !== undefined', { timeout: 60_000 })
      expect(await page.evaluate('document.body.dataset.error')).to.match(/^WHIP 401: .*API key/)
      await page.goto(`${play}#key=page-key`, { waitUntil: 'load' })
      // a fragment change alone does not reload the page
      await page.reload({ waitUntil: 'load' })
      await page.waitForFunction('document.body.dataset.whep === "connected" || document.body.dataset.error !== undefined', { timeout: 60_000 })
      expect(await page.evaluate('document.body.dataset.error ?? null')).to.equal(null)
      expect(await page.evaluate('document.body.dataset.whip')).to.equal('connected')
      await waitForValue(async () => { const p = await playback(page); return p.frames >= 5 ? p : undefined }, 60_000, 'frames played')
      await page.click('#stop')
      await waitFor(() => keyed.live.counts().publishers === 0 && keyed.live.counts().viewers === 0, 30_000, 'both resources deleted with the key')
    } finally {
      await page.close()
      await keyed.stop()
    }
  })
})
