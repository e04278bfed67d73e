/**
 * One WHEP viewer: the live session's output segments (H.264 MPEG-TS) demuxed into access
 * units and sent as an H.264 track, paced by their timestamps. Nothing is re-encoded:
 * every output segment opens with a keyframe, so a viewer starts at the next segment, and
 * a viewer that falls behind drops whole segments (at most `maxQueuedSegments` wait).
 *
 * Closes on DELETE, when the session's output ends, or when the connection fails.
 */
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { H264Packetizer, useH264, type RTCPeerConnection, type RTCRtpTransceiver } from 'werift'
import type { Logger } from '../../../observability/logger.js'
import type { LiveSessionMedia } from '../media.js'
import { readAccessUnits, type AccessUnit } from './demux.js'
import { SdpOfferError } from './errors.js'
import type { LiveWebRtcOptions } from './options.js'
import { answerOffer, createPeer } from './peer.js'
import { SegmentQueue } from './queue.js'
import { watchConnection } from './watch.js'
import type { LiveWebRtcMetrics } from './metrics.js'

export interface WhepCounts {
  segments: number
  droppedSegments: number
  badSegments: number
  frames: number
}

export interface WhepSession {
  readonly id: string
  readonly streamId: string
  readonly answer: string
  readonly counts: WhepCounts
  close: (reason: string) => Promise<void>
  readonly closed: Promise<string>
}

/** 90 kHz: the clock of both MPEG-TS timestamps and H.264 RTP */
const CLOCK = 90_000
/** a timestamp jump larger than this (a restarted encoder, a swapped orchestrator) starts a new timeline */
const MAX_GAP = 2 * CLOCK
/** sending later than this behind the timeline re-anchors it rather than bursting to catch up, ms */
const MAX_LATE_MS = 1_000

/**
 * Maps access-unit timestamps to send times and to a continuous RTP timeline: a jump or
 * a step back in the source (a new encoder) continues the RTP clock one frame later.
 */
export function createPacer (now: () => number = () => performance.now()) {
  let anchor: { wall: number, pts: number } | undefined
  let lastPts = 0
  let rtpOffset = 0
  let lastRtp: number | undefined
  return {
    /** the RTP timestamp of `pts` and how long to wait before sending it, ms */
    schedule (pts: number): { rtpTimestamp: number, waitMs: number } {
      const t = now()
      if (anchor === undefined || pts < lastPts || pts - lastPts > MAX_GAP) {
        rtpOffset = lastRtp === undefined ? 0 : lastRtp + 3_000 - pts
        anchor = { wall: t, pts }
      }
      let due = anchor.wall + (pts - anchor.pts) * 1_000 / CLOCK
      if (t - due > MAX_LATE_MS) {
        anchor = { wall: t, pts }
        due = t
      }
      lastPts = pts
      lastRtp = pts + rtpOffset
      return { rtpTimestamp: lastRtp >>> 0, waitMs: Math.max(0, due - t) }
    }
  }
}

export async function startWhepSession (init: {
  media: LiveSessionMedia
  offer: string
  options: LiveWebRtcOptions
  logger: Logger
  metrics?: LiveWebRtcMetrics | null
}): Promise<WhepSession> {
  const { media, options } = init
  const id = randomUUID()
  const logger = init.logger.child({ component: 'live-whep', stream: media.streamId, resource: id })
  const pc: RTCPeerConnection = createPeer(options, [
    useH264({ parameters: 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1' })
  ])
  const abort = new AbortController()
  const counts: WhepCounts = { segments: 0, droppedSegments: 0, badSegments: 0, frames: 0 }
  const queue = new SegmentQueue(options.maxQueuedSegments, () => { counts.droppedSegments++; init.metrics?.segments.inc({ kind: 'whep', outcome: 'dropped' }) })
  let closeReason: string | undefined
  let resolveClosed: (reason: string) => void = () => {}
  const closed = new Promise<string>(resolve => { resolveClosed = resolve })
  let closing: Promise<void> | undefined
  let stopWatch: () => void = () => {}

  const close = async (reason: string): Promise<void> => {
    closing ??= (async () => {
      closeReason = reason
      abort.abort(new Error(reason))
      stopWatch()
      queue.end()
      await pc.close().catch(() => {})
      logger.info({ reason, ...counts }, 'live WHEP viewer closed')
      resolveClosed(reason)
    })()
    await closing
  }

  try {
    let transceiver: RTCRtpTransceiver | undefined
    const answer = await answerOffer(pc, init.offer, options, () => {
      transceiver = pc.getTransceivers().find(t => t.kind === 'video')
      if (transceiver === undefined) throw new SdpOfferError('no video section')
      if (!transceiver.codecs.some(c => c.mimeType.toLowerCase() === 'video/h264')) throw new SdpOfferError('does not take H.264 (packetization-mode=1) video')
      transceiver.setDirection('sendonly')
    })
    const video = transceiver
    if (video === undefined) throw new SdpOfferError('no video section')
    stopWatch = watchConnection(pc, options, (reason) => { void close(reason) })

    const answeredAt = performance.now()
    // the session's output -> the bounded queue, from now on (each segment opens with a keyframe)
    void (async () => {
      try {
        for await (const segment of media.subscribeOutput(abort.signal)) queue.push(segment)
        if (closeReason === undefined) await close('the session ended')
      } catch (err) {
        if (closeReason === undefined) await close(`the session's output failed: ${err instanceof Error ? err.message : String(err)}`)
      }
    })()

    // the queue -> RTP, paced, once connected
    void (async () => {
      const connected = await new Promise<boolean>((resolve) => {
        if (pc.connectionState === 'connected') { resolve(true); return }
        const sub = pc.connectionStateChange.subscribe((state) => {
          if (state === 'connected') { sub.unSubscribe(); resolve(true) }
        })
        abort.signal.addEventListener('abort', () => { sub.unSubscribe(); resolve(false) }, { once: true })
      })
      if (!connected) return
      const packetizer = new H264Packetizer({})
      const pacer = createPacer()
      try {
        for await (const segment of queue) {
          let units: AccessUnit[]
          try {
            units = await readAccessUnits(segment)
          } catch (err) {
            counts.badSegments++
            init.metrics?.segments.inc({ kind: 'whep', outcome: 'bad' })
            logger.warn({ err }, 'live WHEP: an output segment could not be read; skipped')
            continue
          }
          counts.segments++
          init.metrics?.segments.inc({ kind: 'whep', outcome: 'sent' })
          for (const unit of units) {
            const { rtpTimestamp, waitMs } = pacer.schedule(unit.pts)
            if (waitMs > 0) await sleep(waitMs, undefined, { signal: abort.signal })
            for (const packet of packetizer.packetize(unit.data, rtpTimestamp)) await video.sender.sendRtp(packet)
            if (counts.frames === 0) init.metrics?.firstSegmentDelay.observe({ kind: 'whep' }, (performance.now() - answeredAt) / 1000)
            counts.frames++
          }
        }
      } catch (err) {
        if (closeReason === undefined) await close(`sending failed: ${err instanceof Error ? err.message : String(err)}`)
      }
    })()

    logger.info({}, 'live WHEP viewer answered')
    return { id, streamId: media.streamId, answer, counts, close, closed }
  } catch (err) {
    await close('failed to start')
    throw err
  }
}
