import { expect } from 'chai'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { useH264, useVP8, type RtpHeader, type RtpPacket } from 'werift'
import { DepacketizeBase, JitterBufferBase } from 'werift/nonstandard'
import { createPeer } from '../../../../src/gateway/live/webrtc/peer.js'
import { DEFAULT_LIVE_WEBRTC_OPTIONS } from '../../../../src/gateway/live/webrtc/options.js'
import { waitFor } from '../../../helpers/wait-for.js'
import { childProcesses, exchange, probeVideo, sendVp8, socketCount, startLiveGateway, vp8Source, type LiveGateway } from './harness.js'

const run = promisify(execFile)
const W = 320
const H = 240
const FPS = 30
const FRAMES = 75
/** frames are compared at this size, in grey */
const SMALL = { w: 80, h: 60 }

async function greyFrames (args: string[]): Promise<Buffer[]> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', ...args, '-vf', `scale=${SMALL.w}:${SMALL.h},format=gray`, '-f', 'rawvideo', 'pipe:1'], { encoding: 'buffer', maxBuffer: 64 << 20 })
  const size = SMALL.w * SMALL.h
  const frames: Buffer[] = []
  for (let at = 0; at + size <= stdout.length; at += size) frames.push(stdout.subarray(at, at + size))
  return frames
}

function meanAbsDiff (a: Buffer, b: Buffer): number {
  let sum = 0
  for (let i = 0; i < a.length; i++) sum += Math.abs((a[i] ?? 0) - (b[i] ?? 0))
  return sum / a.length
}

/**
 * WHIP and WHEP with werift as the client, no browser: a generated VP8 video (a known
 * picture per frame) is published over WHIP, looped back by the session, received over
 * WHEP as H.264, and every frame that comes back matches the frame sent at the same place
 * (within encoding error): nothing lost, reordered or duplicated on the way.
 */
describe('gateway/live/webrtc: WHIP and WHEP with a werift client', function () {
  this.timeout(180_000)
  let gateway: LiveGateway | undefined
  let dir: string | undefined

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shoal-whip-client-'))
    gateway = await startLiveGateway()
  })

  after(async () => {
    await gateway?.stop()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('sends VP8 in, gets every frame back as H.264 in order, and leaves nothing behind', async () => {
    if (gateway === undefined || dir === undefined) throw new Error('not started')
    const ffmpegBefore = (await childProcesses('ffmpeg')).length
    const socketsBefore = await socketCount()
    const source = join(dir, 'source.ivf')
    const frames = await vp8Source(source, { width: W, height: H, fps: FPS, frames: FRAMES })
    expect(frames).to.have.length(FRAMES)
    const media = gateway.open('werift')
    const base = `${gateway.url}/live/video-to-video/werift`

    // the viewer first, so it sees the output from its first segment
    const viewer = createPeer(DEFAULT_LIVE_WEBRTC_OPTIONS, [useH264()])
    viewer.addTransceiver('video', { direction: 'recvonly' })
    const received: Buffer[] = []
    const jitter = new JitterBufferBase(90_000, { latency: 200, bufferSize: 1000 })
    const depacketizer = new DepacketizeBase('MPEG4/ISO/AVC', { isFinalPacketInSequence: (h: RtpHeader) => h.marker, waitForKeyframe: true })
    viewer.onTrack.subscribe(track => track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
      for (const out of jitter.processInput({ rtp })) {
        if (out.rtp === undefined) continue
        for (const { frame } of depacketizer.processInput({ rtp: out.rtp })) if (frame !== undefined) received.push(frame.data)
      }
    }))
    const whepUrl = await exchange(viewer, `${base}/whep`)

    const publisher = createPeer(DEFAULT_LIVE_WEBRTC_OPTIONS, [useVP8()])
    const sending = publisher.addTransceiver('video', { direction: 'sendonly' })
    const whipUrl = await exchange(publisher, `${base}/whip`)
    await waitFor(() => publisher.connectionState === 'connected' && viewer.connectionState === 'connected', 60_000, 'both connected')
    expect(gateway.live.counts()).to.deep.equal({ publishers: 1, viewers: 1, encoders: 1 })

    // real time, a frame every 1/30 s
    await sendVp8(sending, frames, FPS)

    // two whole segments of 30 frames (a keyframe each second); the last, partial one ends with the stream
    await waitFor(() => media.inputs.length >= 2, 60_000, 'two input segments')
    for (const segment of media.inputs.slice(0, 2)) {
      expect(await probeVideo(segment, 'mpegts')).to.include({ codec: 'h264', width: W, height: H, frames: 30, keyframes: 1, hasBFrames: 0, startsWithKeyframe: true })
    }
    await waitFor(() => received.length >= 60, 60_000, 'sixty frames over WHEP')

    // frame for frame, what came back is what was sent
    const sent = await greyFrames(['-i', source])
    const back = join(dir, 'back.h264')
    await writeFile(back, Buffer.concat(received))
    const got = await greyFrames(['-f', 'h264', '-i', back])
    expect(got.length).to.be.within(60, FRAMES)
    const diffs = got.map((frame, i) => meanAbsDiff(frame, sent[i] ?? Buffer.alloc(0)))
    expect(Math.max(...diffs)).to.be.below(3)
    // and a neighbour would not match as well: the comparison can tell frames apart
    expect(meanAbsDiff(got[10] ?? Buffer.alloc(0), sent[20] ?? Buffer.alloc(0))).to.be.above(Math.max(...diffs))

    // DELETE ends both; the encoder exits, the subscription ends, the sockets close
    expect((await fetch(whepUrl, { method: 'DELETE' })).status).to.equal(200)
    expect((await fetch(whipUrl, { method: 'DELETE' })).status).to.equal(200)
    expect((await fetch(whipUrl, { method: 'DELETE' })).status).to.equal(404)
    await publisher.close()
    await viewer.close()
    expect(gateway.live.counts()).to.deep.equal({ publishers: 0, viewers: 0, encoders: 0 })
    await waitFor(async () => (await childProcesses('ffmpeg')).length === ffmpegBefore, 30_000, 'ffmpeg exited')
    await waitFor(() => media.subscribers() === 0, 5_000, 'the subscription ended')
    await waitFor(async () => await socketCount() <= socketsBefore, 30_000, 'sockets closed')

    // what the metrics say of it
    const value = async (name: string, labels: Record<string, string>, sample = name): Promise<number> =>
      (await gateway?.registry.getSingleMetric(name)?.get())?.values.find(v => ((v as { metricName?: string }).metricName ?? name) === sample && Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0
    expect(await value('shoal_gateway_live_webrtc_sessions', { kind: 'whip' })).to.equal(0)
    expect(await value('shoal_gateway_live_webrtc_sessions', { kind: 'whep' })).to.equal(0)
    expect(await value('shoal_gateway_live_webrtc_sessions_started_total', { kind: 'whip' })).to.equal(1)
    expect(await value('shoal_gateway_live_webrtc_segments_total', { kind: 'whip', outcome: 'published' })).to.equal(media.inputs.length)
    expect(await value('shoal_gateway_live_webrtc_segments_total', { kind: 'whep', outcome: 'sent' })).to.be.at.least(2)
    expect(await value('shoal_gateway_live_webrtc_first_segment_delay_seconds', { kind: 'whip' }, 'shoal_gateway_live_webrtc_first_segment_delay_seconds_count')).to.equal(1)
  })
})
