/**
 * One WHIP publisher: the browser's video track (VP8 or H.264 over RTP) received by werift,
 * reordered, depacketized into frames, re-encoded by ffmpeg into ~1 s H.264 MPEG-TS
 * segments (`encoder.ts`) and fed to the live session's `publishInput`, one at a time
 * (its backpressure: segments waiting meanwhile are bounded, the oldest dropped).
 *
 * Closes, releasing the peer and ffmpeg, on DELETE, when ICE never connects, when the
 * connection fails or the browser stops sending, when ffmpeg dies, or when the session
 * refuses input (it ended).
 */
import { randomUUID } from 'node:crypto'
import { useH264, useVP8, type RTCPeerConnection, type RTCRtpTransceiver, type RtpHeader, type RtpPacket } from 'werift'
import { DepacketizeBase, JitterBufferBase } from 'werift/nonstandard'
import type { Logger } from '../../../observability/logger.js'
import type { LiveSessionMedia } from '../media.js'
import { startSegmentEncoder, type SegmentEncoder } from './encoder.js'
import type { IvfCodec } from './ivf.js'
import type { LiveWebRtcOptions } from './options.js'
import { answerOffer, createPeer } from './peer.js'
import { SdpOfferError } from './errors.js'
import { watchConnection } from './watch.js'
import type { LiveWebRtcMetrics } from './metrics.js'

export interface WhipSession {
  readonly id: string
  readonly streamId: string
  /** the SDP answer */
  readonly answer: string
  /** what the browser sends */
  readonly codec: IvfCodec
  readonly encoder: SegmentEncoder
  /** segments taken by publishInput so far */
  readonly published: () => number
  /** closes everything; resolves when ffmpeg has exited */
  close: (reason: string) => Promise<void>
  /** resolves once closed, with the reason */
  readonly closed: Promise<string>
}

/** a frame spread over more packets than this (about 2.4 MB) is dropped: no camera frame needs it */
const MAX_PACKETS_PER_FRAME = 2_000

/** RTP timestamps (32-bit, wrapping) as increasing 90 kHz ticks from the first frame. */
function timestampUnwrapper (): (timestamp: number) => number {
  let first: number | undefined
  let last = 0
  let extended = 0
  let lastPts = -1
  return (timestamp) => {
    if (first === undefined) { first = timestamp; last = timestamp }
    extended += ((timestamp - last) | 0)
    last = timestamp
    const pts = Math.max(extended, lastPts + 1)
    lastPts = pts
    return pts
  }
}

const ivfCodecOf = (mimeType: string): IvfCodec | undefined => {
  const name = mimeType.toLowerCase()
  return name === 'video/h264' ? 'H264' : name === 'video/vp8' ? 'VP8' : undefined
}

export async function startWhipSession (init: {
  media: LiveSessionMedia
  offer: string
  options: LiveWebRtcOptions
  ffmpeg: string
  logger: Logger
  metrics?: LiveWebRtcMetrics | null
}): Promise<WhipSession> {
  const { media, options } = init
  const id = randomUUID()
  const logger = init.logger.child({ component: 'live-whip', stream: media.streamId, resource: id })
  const pc: RTCPeerConnection = createPeer(options, [
    useH264({ parameters: 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1' }),
    useVP8()
  ])
  const abort = new AbortController()
  let encoder: SegmentEncoder | undefined
  let published = 0
  let closeReason: string | undefined
  let resolveClosed: (reason: string) => void = () => {}
  const closed = new Promise<string>(resolve => { resolveClosed = resolve })
  let closing: Promise<void> | undefined
  const stopWatch: Array<() => void> = []

  const close = async (reason: string): Promise<void> => {
    closing ??= (async () => {
      closeReason = reason
      abort.abort(new Error(reason))
      for (const stop of stopWatch) stop()
      await pc.close().catch(() => {})
      await encoder?.close()
      logger.info({ reason, published, ...encoder?.counts }, 'live WHIP publisher closed')
      resolveClosed(reason)
    })()
    await closing
  }

  // werift may announce the track while applying the offer: the handler is bound below
  let onRtp: ((rtp: RtpPacket) => void) | undefined
  pc.onTrack.subscribe((track) => {
    if (track.kind === 'video') track.onReceiveRtp.subscribe((rtp: RtpPacket) => { onRtp?.(rtp) })
  })

  try {
    let transceiver: RTCRtpTransceiver | undefined
    const answer = await answerOffer(pc, init.offer, options, () => {
      transceiver = pc.getTransceivers().find(t => t.kind === 'video')
      if (transceiver === undefined) throw new SdpOfferError('no video section')
      if (!transceiver.codecs.some(c => ivfCodecOf(c.mimeType) !== undefined)) throw new SdpOfferError('offers neither H.264 (packetization-mode=1) nor VP8 video')
      transceiver.setDirection('recvonly')
    })
    const video = transceiver
    if (video === undefined) throw new SdpOfferError('no video section')
    const chosen = video.codecs.map(c => ({ codec: c, ivf: ivfCodecOf(c.mimeType) })).find(c => c.ivf !== undefined)
    if (chosen?.ivf === undefined) throw new SdpOfferError('offers neither H.264 (packetization-mode=1) nor VP8 video')
    const ivf = chosen.ivf
    const payloadTypes = new Set(video.codecs.filter(c => ivfCodecOf(c.mimeType) === ivf).map(c => c.payloadType))
    encoder = await startSegmentEncoder({ ffmpeg: init.ffmpeg, codec: ivf, options, logger, onDrop: () => { init.metrics?.segments.inc({ kind: 'whip', outcome: 'dropped' }) } })
    const activeEncoder = encoder

    // RTP -> frames
    const jitter = new JitterBufferBase(90_000, { latency: 200, bufferSize: 1_000 })
    const newDepacketizer = (): DepacketizeBase => {
      const d = new DepacketizeBase(ivf === 'H264' ? 'MPEG4/ISO/AVC' : 'VP8', { isFinalPacketInSequence: (h: RtpHeader) => h.marker, waitForKeyframe: true })
      d.onNeedKeyFrame.subscribe(requestKeyframe)
      return d
    }
    // the depacketizer holds a frame's packets until its last one (the marker bit): bounded here
    let packetsInFrame = 0
    const pts = timestampUnwrapper()
    let ssrc: number | undefined
    let lastKeyframeRequest = 0
    let needKeyframe = false
    let lastMediaAt = Date.now()
    const requestKeyframe = (): void => {
      const now = Date.now()
      if (ssrc === undefined || now - lastKeyframeRequest < 500) return
      lastKeyframeRequest = now
      video.receiver.sendRtcpPLI(ssrc).catch(() => {})
    }
    let depacketizer = newDepacketizer()
    onRtp = (rtp) => {
      if (closeReason !== undefined || !payloadTypes.has(rtp.header.payloadType)) return
      ssrc = rtp.header.ssrc
      lastMediaAt = Date.now()
      for (const out of jitter.processInput({ rtp })) {
        if (out.isPacketLost !== undefined) { needKeyframe = true; requestKeyframe() }
        if (out.rtp === undefined) continue
        if (++packetsInFrame > MAX_PACKETS_PER_FRAME) {
          depacketizer = newDepacketizer()
          packetsInFrame = 0
          needKeyframe = true
          continue
        }
        for (const { frame } of depacketizer.processInput({ rtp: out.rtp })) {
          packetsInFrame = 0
          if (frame === undefined) continue
          // after a loss, frames until the next keyframe would reference what is missing
          if (needKeyframe && !frame.isKeyframe) continue
          needKeyframe = false
          if (!activeEncoder.write({ data: frame.data, pts: pts(frame.timestamp as number), keyframe: frame.isKeyframe })) {
            needKeyframe = true
            requestKeyframe()
          }
        }
      }
    }

    stopWatch.push(watchConnection(pc, options, (reason) => { void close(reason) }))
    const idle = setInterval(() => {
      if (pc.connectionState === 'connected' && Date.now() - lastMediaAt > options.idleTimeoutMs) void close(`no video for ${options.idleTimeoutMs} ms`)
    }, Math.min(1_000, options.idleTimeoutMs))
    stopWatch.push(() => { clearInterval(idle) })

    const answeredAt = performance.now()
    // segments -> the session, one at a time
    void (async () => {
      try {
        for await (const segment of activeEncoder.segments) {
          await media.publishInput(segment, abort.signal)
          if (published === 0) init.metrics?.firstSegmentDelay.observe({ kind: 'whip' }, (performance.now() - answeredAt) / 1000)
          published++
          init.metrics?.segments.inc({ kind: 'whip', outcome: 'published' })
        }
        const failure = await activeEncoder.exited
        if (closeReason === undefined) await close(failure ?? 'encoder ended')
      } catch (err) {
        if (closeReason === undefined) {
          logger.info({ err }, 'live WHIP: the session refused input')
          await close(`session refused input: ${err instanceof Error ? err.message : String(err)}`)
        }
      }
    })()

    logger.info({ codec: ivf, pid: activeEncoder.pid }, 'live WHIP publisher answered')
    return {
      id,
      streamId: media.streamId,
      answer,
      codec: ivf,
      encoder: activeEncoder,
      published: () => published,
      close,
      closed
    }
  } catch (err) {
    await close('failed to start')
    throw err
  }
}
