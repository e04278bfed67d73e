/**
 * werift peer connections for WHIP and WHEP: ICE only on the configured local addresses
 * (loopback by default), no STUN or TURN server, no mDNS lookups, and answers that carry
 * every candidate (WHIP and WHEP exchange one offer and one answer; no trickle).
 */
import { isIP } from 'node:net'
import { RTCPeerConnection, type RTCRtpCodecParameters } from 'werift'
import { GatewayFailureApiError } from '../../http/errors.js'
import { SdpOfferError } from './errors.js'
import type { LiveWebRtcOptions } from './options.js'

export function isLoopback (address: string): boolean {
  if (isIP(address) === 4) return address.startsWith('127.')
  return address === '::1'
}

/**
 * Which remote addresses a peer may pair with: with loopback-only local addresses, loopback
 * only; otherwise any literal IP. Host names (mDNS `.local` candidates) never: resolving
 * them would send multicast queries onto the network.
 */
export function remoteAddressFilter (iceHosts: readonly string[]): (address: string) => boolean {
  const loopbackOnly = iceHosts.every(isLoopback)
  return (address) => isIP(address) !== 0 && (!loopbackOnly || isLoopback(address))
}

/** The offer with the candidates this side would not pair with removed (they are never resolved or contacted). */
export function filterOfferCandidates (sdp: string, allowRemote: (address: string) => boolean): string {
  return sdp.split(/\r?\n/).filter(line => {
    if (!line.startsWith('a=candidate:')) return true
    // a=candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> ...
    const fields = line.slice('a=candidate:'.length).split(' ')
    return fields[2]?.toLowerCase() === 'udp' && allowRemote(fields[4] ?? '')
  }).join('\r\n')
}

/** Light checks before werift parses the offer: a bounded SDP session with a video section. */
export function checkOffer (body: unknown, maxBytes: number): string {
  if (typeof body !== 'string' || body.trim() === '') throw new SdpOfferError('the body must be an SDP offer (Content-Type: application/sdp)')
  if (Buffer.byteLength(body) > maxBytes) throw new SdpOfferError(`larger than ${maxBytes} bytes`)
  if (!body.startsWith('v=0')) throw new SdpOfferError('does not start with v=0')
  if (!/^m=video /m.test(body)) throw new SdpOfferError('no video section (m=video)')
  return body
}

export function createPeer (options: Pick<LiveWebRtcOptions, 'iceHosts' | 'icePortRange'>, video: RTCRtpCodecParameters[]): RTCPeerConnection {
  const allowRemote = remoteAddressFilter(options.iceHosts)
  const ipv4 = options.iceHosts.find(h => isIP(h) === 4)
  const ipv6 = options.iceHosts.find(h => isIP(h) === 6)
  return new RTCPeerConnection({
    // werift's default is a public STUN server: none here
    iceServers: [],
    // host addresses come from iceHosts alone, not from every interface of the machine
    iceUseIpv4: false,
    iceUseIpv6: false,
    iceAdditionalHostAddresses: [...options.iceHosts],
    iceInterfaceAddresses: { ...(ipv4 !== undefined ? { udp4: ipv4 } : {}), ...(ipv6 !== undefined ? { udp6: ipv6 } : {}) },
    ...(options.icePortRange !== undefined ? { icePortRange: options.icePortRange } : {}),
    iceUseTcp: false,
    iceFilterCandidatePair: (pair) => allowRemote(pair.remoteCandidate.host),
    iceFilterStunResponse: (_message, address) => allowRemote(address[0]),
    codecs: { audio: [], video },
    bundlePolicy: 'max-bundle'
  })
}

async function gathered (pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { sub.unSubscribe(); reject(new GatewayFailureApiError(`ICE gathering did not finish within ${timeoutMs} ms`)) }, timeoutMs)
    const sub = pc.iceGatheringStateChange.subscribe((state) => {
      if (state === 'complete') { clearTimeout(timer); sub.unSubscribe(); resolve() }
    })
  })
}

/**
 * Applies the client's offer (its unusable candidates removed), lets `prepare` set up
 * the transceivers, and answers with every local candidate. An offer werift cannot
 * parse is a 400.
 */
export async function answerOffer (pc: RTCPeerConnection, offer: string, options: Pick<LiveWebRtcOptions, 'iceHosts' | 'gatherTimeoutMs'>, prepare: () => void): Promise<string> {
  try {
    await pc.setRemoteDescription({ type: 'offer', sdp: filterOfferCandidates(offer, remoteAddressFilter(options.iceHosts)) })
  } catch (err) {
    throw new SdpOfferError(err instanceof Error ? err.message : String(err), { cause: err })
  }
  prepare()
  await pc.setLocalDescription(await pc.createAnswer())
  await gathered(pc, options.gatherTimeoutMs)
  const sdp = pc.localDescription?.sdp
  if (sdp === undefined) throw new Error('no local description after answering')
  return sdp
}
