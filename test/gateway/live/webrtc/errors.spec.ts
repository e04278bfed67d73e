import { expect } from 'chai'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { useH264, useVP8, type RTCPeerConnection } from 'werift'
import { createPeer } from '../../../../src/gateway/live/webrtc/peer.js'
import { DEFAULT_LIVE_WEBRTC_OPTIONS } from '../../../../src/gateway/live/webrtc/options.js'
import { waitFor } from '../../../helpers/wait-for.js'
import { childProcesses, exchange, gathered, sendVp8, startLiveGateway, vp8Source, type LiveGateway } from './harness.js'

/** an offer from a werift client (its answer is never applied unless the test does) */
async function offer (direction: 'sendonly' | 'recvonly', codec: 'vp8' | 'h264' = direction === 'sendonly' ? 'vp8' : 'h264'): Promise<{ pc: RTCPeerConnection, sdp: string }> {
  const pc = createPeer(DEFAULT_LIVE_WEBRTC_OPTIONS, [codec === 'vp8' ? useVP8() : useH264()])
  pc.addTransceiver('video', { direction })
  await pc.setLocalDescription(await pc.createOffer())
  await gathered(pc)
  return { pc, sdp: pc.localDescription?.sdp ?? '' }
}

async function post (url: string, body: string, contentType = 'application/sdp'): Promise<{ status: number, body: string, headers: Headers }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body })
  return { status: response.status, body: await response.text(), headers: response.headers }
}

const code = (body: string): string => (JSON.parse(body) as { error: { code: string } }).error.code

/**
 * The WebRTC routes' refusals and limits, with werift clients: clear statuses for unknown
 * streams, bad offers and full capacity; sessions end when the client goes, never
 * connects, or the live session ends; and whatever happened, no session or ffmpeg is left.
 */
describe('gateway/live/webrtc: errors, limits and ends', function () {
  this.timeout(180_000)
  let gateway: LiveGateway | undefined
  const peers: RTCPeerConnection[] = []
  let ffmpegBefore = 0

  beforeEach(async function () {
    ffmpegBefore = (await childProcesses('ffmpeg')).length
    // a short connect timeout only where it is what the test is about (answers sit unapplied elsewhere)
    const short = this.currentTest?.title.includes('never connects') === true
    gateway = await startLiveGateway({ maxPublishers: 2, maxViewersPerStream: 1, connectTimeoutMs: short ? 5_000 : 60_000 })
  })

  afterEach(async () => {
    for (const pc of peers.splice(0)) await pc.close()
    await gateway?.stop()
    // nothing outlives the gateway
    expect(gateway?.live.counts()).to.deep.equal({ publishers: 0, viewers: 0, encoders: 0 })
    await waitFor(async () => (await childProcesses('ffmpeg')).length === ffmpegBefore, 30_000, 'ffmpeg exited')
  })

  it('answers 404 for a stream without a live session, 400 for bad offers, 415 for other bodies', async () => {
    if (gateway === undefined) throw new Error('not started')
    const base = `${gateway.url}/live/video-to-video`
    const whip = await offer('sendonly')
    const whep = await offer('recvonly')
    peers.push(whip.pc, whep.pc)
    for (const kind of ['whip', 'whep']) {
      const missing = await post(`${base}/nobody/${kind}`, kind === 'whip' ? whip.sdp : whep.sdp)
      expect(missing.status).to.equal(404)
      expect(code(missing.body)).to.equal('GATEWAY_ERROR_NOT_FOUND')
      expect(JSON.parse(missing.body).error.message).to.match(/no live session for stream "nobody"/)
    }
    gateway.open('s')
    const cases: Array<[string, string, number]> = [
      ['not SDP', 'hello', 400],
      ['empty', '', 400],
      ['audio only', 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n', 400],
      ['unparsable video', 'v=0\r\nm=video x\r\n', 400]
    ]
    for (const [what, body, status] of cases) {
      const answer = await post(`${base}/s/whip`, body)
      expect(answer.status, what).to.equal(status)
      expect(code(answer.body), what).to.equal('GATEWAY_ERROR_BAD_REQUEST')
      expect(JSON.parse(answer.body).error.message, what).to.match(/^bad SDP offer/)
    }
    // a viewer that takes no H.264
    const vp8Viewer = await offer('recvonly', 'vp8')
    peers.push(vp8Viewer.pc)
    const refused = await post(`${base}/s/whep`, vp8Viewer.sdp)
    expect(refused.status).to.equal(400)
    expect(JSON.parse(refused.body).error.message).to.match(/H\.264/)
    expect((await post(`${base}/s/whip`, whip.sdp, 'text/plain')).status).to.equal(415)
    expect((await post(`${base}/s/whip`, whip.sdp, 'application/octet-stream')).status).to.equal(415)
    expect((await post(`${base}/s/whip`, 'v=0\r\nm=video ' + 'x'.repeat(40_000))).status).to.equal(413)
    // resources: unknown ones 404, trickle 405
    expect((await fetch(`${base}/s/whip/0000`, { method: 'DELETE' })).status).to.equal(404)
    expect((await fetch(`${base}/s/whep/0000`, { method: 'PATCH', headers: { 'content-type': 'application/trickle-ice-sdpfrag' }, body: 'a=end-of-candidates' })).status).to.equal(405)
    expect(gateway.live.counts()).to.deep.equal({ publishers: 0, viewers: 0, encoders: 0 })
    expect((await childProcesses('ffmpeg')).length).to.equal(ffmpegBefore)
  })

  it('bounds publishers and viewers (503 with Retry-After); a new publisher replaces the one before', async () => {
    if (gateway === undefined) throw new Error('not started')
    const base = `${gateway.url}/live/video-to-video`
    for (const s of ['a', 'b', 'c']) gateway.open(s)
    const answers = []
    for (const s of ['a', 'b']) {
      const o = await offer('sendonly')
      peers.push(o.pc)
      answers.push(await post(`${base}/${s}/whip`, o.sdp))
    }
    expect(answers.map(a => a.status)).to.deep.equal([201, 201])
    expect(answers[0]?.headers.get('location')).to.match(/^\/live\/video-to-video\/a\/whip\/[0-9a-f-]{36}$/)
    expect(gateway.live.counts()).to.deep.equal({ publishers: 2, viewers: 0, encoders: 2 })
    expect((await childProcesses('ffmpeg')).length).to.equal(ffmpegBefore + 2)
    const third = await offer('sendonly')
    peers.push(third.pc)
    const full = await post(`${base}/c/whip`, third.sdp)
    expect(full.status).to.equal(503)
    expect(full.headers.get('retry-after')).to.equal('5')
    expect(code(full.body)).to.equal('GATEWAY_ERROR_LIVE_CAPACITY')
    // the same stream again: the old publisher goes, the new one takes its place
    const old = gateway.live.publisher('a')
    const again = await post(`${base}/a/whip`, third.sdp)
    expect(again.status).to.equal(201)
    expect(await old?.closed).to.equal('replaced by a new publisher')
    expect(gateway.live.counts()).to.deep.equal({ publishers: 2, viewers: 0, encoders: 2 })
    expect((await childProcesses('ffmpeg')).length).to.equal(ffmpegBefore + 2)

    const v1 = await offer('recvonly')
    const v2 = await offer('recvonly')
    peers.push(v1.pc, v2.pc)
    expect((await post(`${base}/a/whep`, v1.sdp)).status).to.equal(201)
    const perStream = await post(`${base}/a/whep`, v2.sdp)
    expect(perStream.status).to.equal(503)
    expect(JSON.parse(perStream.body).error.message).to.match(/maxViewersPerStream/)
    expect((await post(`${base}/b/whep`, v2.sdp)).status).to.equal(201)
  })

  it('closes sessions whose client never connects', async () => {
    if (gateway === undefined) throw new Error('not started')
    const base = `${gateway.url}/live/video-to-video`
    gateway.open('s')
    const whip = await offer('sendonly')
    const whep = await offer('recvonly')
    peers.push(whip.pc, whep.pc)
    // answers never applied: ICE never connects
    expect((await post(`${base}/s/whip`, whip.sdp)).status).to.equal(201)
    const publisher = gateway.live.publisher('s')
    expect((await post(`${base}/s/whep`, whep.sdp)).status).to.equal(201)
    expect(await publisher?.closed).to.equal('not connected within 5000 ms')
    await waitFor(() => gateway?.live.counts().viewers === 0, 30_000, 'the viewer closed')
    await waitFor(async () => (await childProcesses('ffmpeg')).length === ffmpegBefore, 30_000, 'ffmpeg exited')
  })

  it('closes viewers when the live session ends', async () => {
    if (gateway === undefined) throw new Error('not started')
    const base = `${gateway.url}/live/video-to-video`
    const media = gateway.open('s')
    const viewer = createPeer(DEFAULT_LIVE_WEBRTC_OPTIONS, [useH264()])
    peers.push(viewer)
    viewer.addTransceiver('video', { direction: 'recvonly' })
    await exchange(viewer, `${base}/s/whep`)
    await waitFor(() => viewer.connectionState === 'connected' && media.subscribers() === 1, 60_000, 'the viewer connected')
    media.end()
    await waitFor(() => gateway?.live.counts().viewers === 0, 30_000, 'the viewer closed with the session')
  })

  it('closes a publisher whose session refuses input, and everything when the gateway stops', async () => {
    if (gateway === undefined) throw new Error('not started')
    const base = `${gateway.url}/live/video-to-video`
    const dir = await mkdtemp(join(tmpdir(), 'shoal-whip-end-'))
    try {
      const frames = await vp8Source(join(dir, 'v.ivf'), { width: 160, height: 120, fps: 30, frames: 150 })
      const media = gateway.open('s')
      const publisher = createPeer(DEFAULT_LIVE_WEBRTC_OPTIONS, [useVP8()])
      peers.push(publisher)
      const sending = publisher.addTransceiver('video', { direction: 'sendonly' })
      await exchange(publisher, `${base}/s/whip`)
      await waitFor(() => publisher.connectionState === 'connected', 60_000, 'connected')
      const session = gateway.live.publisher('s')
      let stop = false
      const sent = sendVp8(sending, frames, 30, () => stop)
      await waitFor(() => media.inputs.length >= 1, 60_000, 'a segment')
      media.end()
      expect(await session?.closed).to.match(/^session refused input/)
      stop = true
      await sent
      await waitFor(async () => (await childProcesses('ffmpeg')).length === ffmpegBefore, 30_000, 'ffmpeg exited')

      // sessions left open when the gateway stops are closed by it (checked in afterEach)
      const other = gateway.open('t')
      const o = await offer('sendonly')
      const v = await offer('recvonly')
      peers.push(o.pc, v.pc)
      expect((await post(`${base}/t/whip`, o.sdp)).status).to.equal(201)
      expect((await post(`${base}/t/whep`, v.sdp)).status).to.equal(201)
      expect(other.subscribers()).to.equal(1)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
