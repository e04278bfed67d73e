import { expect } from 'chai'
import { createPacer } from '../../../../src/gateway/live/webrtc/whep.js'
import { checkOffer, filterOfferCandidates, remoteAddressFilter } from '../../../../src/gateway/live/webrtc/peer.js'
import { SdpOfferError } from '../../../../src/gateway/live/webrtc/errors.js'
import { resolveLiveWebRtcOptions } from '../../../../src/gateway/live/webrtc/options.js'

describe('gateway/live/webrtc: pure parts', () => {
  describe('remote candidates', () => {
    const offer = [
      'v=0', 'm=video 9 UDP/TLS/RTP/SAVPF 96',
      'a=candidate:1 1 udp 2122194687 127.0.0.1 46592 typ host generation 0',
      'a=candidate:2 1 udp 2122063615 192.0.2.2 46088 typ host generation 0',
      'a=candidate:3 1 udp 2122063615 3f1c6a1e-0b7a-4c43-8f4c-2d1a0f5c9e11.local 46088 typ host generation 0',
      'a=candidate:4 1 tcp 1518214911 127.0.0.1 9 typ host tcptype active generation 0',
      'a=candidate:5 1 udp 2122267903 ::1 42595 typ host generation 0',
      'a=rtpmap:96 VP8/90000'
    ].join('\r\n')

    it('keeps only loopback UDP candidates when the gateway listens on loopback alone', () => {
      const kept = filterOfferCandidates(offer, remoteAddressFilter(['127.0.0.1'])).split('\r\n').filter(l => l.startsWith('a=candidate:'))
      expect(kept.map(l => l.split(' ')[0])).to.deep.equal(['a=candidate:1', 'a=candidate:5'])
    })

    it('never keeps mDNS names (resolving them would query the network), whatever the local addresses', () => {
      const kept = filterOfferCandidates(offer, remoteAddressFilter(['192.0.2.2'])).split('\r\n').filter(l => l.startsWith('a=candidate:'))
      expect(kept.map(l => l.split(' ')[0])).to.deep.equal(['a=candidate:1', 'a=candidate:2', 'a=candidate:5'])
      expect(offer.split('\r\n').filter(l => !l.startsWith('a=candidate:'))).to.deep.equal(filterOfferCandidates(offer, () => false).split('\r\n'))
    })
  })

  it('refuses bodies that are not a bounded SDP offer with video', () => {
    const ok = 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n'
    expect(checkOffer(ok, 100)).to.equal(ok)
    for (const [body, message] of [[undefined, /Content-Type: application\/sdp/], ['  ', /Content-Type/], ['m=video 9\r\n', /v=0/], ['v=0\r\nm=audio 9 x\r\n', /no video/], [ok + 'x'.repeat(100), /larger than 100 bytes/]] as const) {
      expect(() => checkOffer(body, 100)).to.throw(SdpOfferError, message)
    }
  })

  it('resolves options and refuses unusable ones', () => {
    expect(resolveLiveWebRtcOptions({}).iceHosts).to.deep.equal(['127.0.0.1'])
    expect(() => resolveLiveWebRtcOptions({ iceHosts: [] })).to.throw(/iceHosts/)
    expect(() => resolveLiveWebRtcOptions({ maxViewers: 0 })).to.throw(/maxViewers/)
  })

  describe('WHEP pacing', () => {
    it('sends frames at their timestamps, on a continuous RTP clock across a restarted source', () => {
      let now = 1_000
      const pacer = createPacer(() => now)
      const first = pacer.schedule(900_000)
      expect(first.waitMs).to.equal(0)
      const rtp = (t: number): number => (first.rtpTimestamp + t) >>> 0
      // 3000 ticks (1/30 s) later
      const second = pacer.schedule(903_000)
      expect(second.rtpTimestamp).to.equal(rtp(3_000))
      expect(second.waitMs).to.be.closeTo(33.3, 0.1)
      now += 34
      expect(pacer.schedule(906_000).waitMs).to.be.closeTo(32.7, 0.1)
      // the source starts again at 0 (a new encoder): the RTP clock goes on one frame later, sent at once
      now += 40
      expect(pacer.schedule(0)).to.deep.equal({ rtpTimestamp: rtp(9_000), waitMs: 0 })
      expect(pacer.schedule(3_000).rtpTimestamp).to.equal(rtp(12_000))
      // a jump forward of more than 2 s is a new timeline too
      now += 40
      expect(pacer.schedule(3_000 + 10 * 90_000)).to.deep.equal({ rtpTimestamp: rtp(15_000), waitMs: 0 })
    })

    it('does not burst to catch up when sending fell more than a second behind', () => {
      let now = 0
      const pacer = createPacer(() => now)
      pacer.schedule(0)
      now = 5_000
      // 1 s of media but 5 s of wall time: re-anchored, sent now; the next frame keeps its spacing
      expect(pacer.schedule(90_000).waitMs).to.equal(0)
      expect(pacer.schedule(93_000).waitMs).to.be.closeTo(33.3, 0.1)
    })
  })
})
