import { expect } from 'chai'
import { useH264, type RTCPeerConnection } from 'werift'
import { createPeer } from '../../../../src/gateway/live/webrtc/peer.js'
import { DEFAULT_LIVE_WEBRTC_OPTIONS } from '../../../../src/gateway/live/webrtc/options.js'
import { gathered, startLiveGateway, type LiveGateway } from './harness.js'

const KEY = 'a-live-key'

/**
 * WHIP and WHEP are the gateway's routes like the others: with API keys configured they
 * want `Authorization: Bearer <key>` (offers, and DELETE and PATCH of their resources),
 * answering 401 in the API's error shape otherwise; the play page stays open (it asks for
 * the key). A WHEP viewer with the key gets its answer (no ffmpeg: WHEP does not encode).
 */
describe('gateway/live/webrtc: the API key on WHIP and WHEP', function () {
  this.timeout(30_000)
  let gateway: LiveGateway
  const peers: RTCPeerConnection[] = []

  before(async () => {
    gateway = await startLiveGateway({}, { apiKeys: [KEY] })
    gateway.open('cam')
  })

  after(async () => {
    for (const pc of peers) await pc.close()
    await gateway.stop()
  })

  const base = (): string => `${gateway.url}/live/video-to-video/cam`
  const sdp = { 'content-type': 'application/sdp' }

  it('refuses WHIP and WHEP offers, DELETE and PATCH without the key or with another, in the API\'s 401', async () => {
    for (const kind of ['whip', 'whep']) {
      for (const headers of [sdp, { ...sdp, authorization: 'Bearer not-the-key' }, { ...sdp, authorization: KEY }]) {
        const res = await fetch(`${base()}/${kind}`, { method: 'POST', headers, body: 'v=0\r\n' })
        expect(res.status, `${kind} ${JSON.stringify(headers)}`).to.equal(401)
        expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('GATEWAY_ERROR_UNAUTHORIZED')
      }
      for (const method of ['DELETE', 'PATCH']) {
        const res = await fetch(`${base()}/${kind}/some-resource`, { method, headers: { 'content-type': 'application/trickle-ice-sdpfrag' }, body: method === 'PATCH' ? 'a=ice-ufrag:x\r\n' : null })
        expect(res.status, `${method} ${kind}`).to.equal(401)
        await res.arrayBuffer()
      }
    }
    // nothing was started
    expect(gateway.live.counts()).to.deep.equal({ publishers: 0, viewers: 0, encoders: 0 })
  })

  it('serves the play page without the key, with a field for it', async () => {
    const res = await fetch(`${base()}/play`)
    expect(res.status).to.equal(200)
    const html = await res.text()
    expect(html).to.include('id="key"').and.include("authorization: 'Bearer '")
  })

  it('takes a WHEP offer with the key, and its DELETE', async () => {
    const auth = { authorization: `Bearer ${KEY}` }
    // past the key check, the route's own answers
    const bad = await fetch(`${base()}/whep`, { method: 'POST', headers: { ...sdp, ...auth }, body: 'v=0\r\n' })
    expect(bad.status).to.equal(400)
    await bad.arrayBuffer()
    const pc = createPeer(DEFAULT_LIVE_WEBRTC_OPTIONS, [useH264()])
    peers.push(pc)
    pc.addTransceiver('video', { direction: 'recvonly' })
    await pc.setLocalDescription(await pc.createOffer())
    await gathered(pc)
    const res = await fetch(`${base()}/whep`, { method: 'POST', headers: { ...sdp, ...auth }, body: pc.localDescription?.sdp })
    expect(res.status, await res.clone().text()).to.equal(201)
    const location = new URL(res.headers.get('location') ?? '', base()).href
    await res.text()
    expect(gateway.live.counts().viewers).to.equal(1)
    const refused = await fetch(location, { method: 'DELETE' })
    expect(refused.status).to.equal(401)
    const deleted = await fetch(location, { method: 'DELETE', headers: auth })
    expect(deleted.status).to.equal(200)
    expect(gateway.live.counts().viewers).to.equal(0)
  })
})
