/**
 * Options of the gateway's WebRTC adapters (WHIP ingest, WHEP playback) for live
 * video-to-video. Every resource a client can make the gateway hold is bounded here.
 */
export interface LiveWebRtcOptions {
  /**
   * Local addresses ICE gathers candidates on and answers from. Loopback only by default:
   * the gateway then offers nothing reachable from elsewhere, and talks to nothing but
   * loopback (remote candidates on other addresses are dropped before pairing).
   */
  iceHosts: string[]
  /** UDP ports ICE may bind, inclusive; undefined: any free port */
  icePortRange?: [number, number]
  /** WHIP publishers at once, all streams together (one per stream) */
  maxPublishers: number
  /** WHEP viewers at once, all streams together */
  maxViewers: number
  /** WHEP viewers of one stream at once */
  maxViewersPerStream: number
  /** the largest SDP offer accepted, bytes (413 above) */
  maxSdpBytes: number
  /** ICE gathering for the answer must finish within this, ms */
  gatherTimeoutMs: number
  /** ICE and DTLS must connect within this after the answer, ms; else the session closes */
  connectTimeoutMs: number
  /** a publisher that sends no video for this long is closed, ms */
  idleTimeoutMs: number
  /** a connection that stays disconnected this long is closed, ms */
  disconnectedTimeoutMs: number
  /** target length of an input segment, seconds (one forced keyframe per segment) */
  segmentSeconds: number
  /** segments waiting on either side (for publishInput, for a viewer); the oldest is dropped past it */
  maxQueuedSegments: number
  /** an encoded input segment larger than this is dropped, bytes */
  maxSegmentBytes: number
  /** frames waiting for the encoder, bytes; past it frames are dropped up to the next keyframe */
  maxEncoderBacklogBytes: number
  /** input video wider than this is scaled down (aspect kept) before encoding, pixels */
  maxWidth: number
  /** x264 preset for input segments (speed over size: the model decodes them at once) */
  x264Preset: string
  /** ffmpeg to run; undefined: Debian's on PATH, else the static one of the extras package */
  ffmpegPath?: string
}

export const DEFAULT_LIVE_WEBRTC_OPTIONS: Readonly<LiveWebRtcOptions> = {
  iceHosts: ['127.0.0.1'],
  maxPublishers: 4,
  maxViewers: 16,
  maxViewersPerStream: 8,
  maxSdpBytes: 32 * 1024,
  gatherTimeoutMs: 5_000,
  connectTimeoutMs: 20_000,
  idleTimeoutMs: 15_000,
  disconnectedTimeoutMs: 10_000,
  segmentSeconds: 1,
  maxQueuedSegments: 3,
  maxSegmentBytes: 8 * 1024 * 1024,
  maxEncoderBacklogBytes: 8 * 1024 * 1024,
  maxWidth: 1280,
  x264Preset: 'veryfast'
}

export function resolveLiveWebRtcOptions (options: Partial<LiveWebRtcOptions> = {}): LiveWebRtcOptions {
  const resolved: LiveWebRtcOptions = { ...DEFAULT_LIVE_WEBRTC_OPTIONS, ...options }
  if (resolved.iceHosts.length === 0) throw new Error('iceHosts: at least one local address is needed')
  for (const name of ['maxPublishers', 'maxViewers', 'maxViewersPerStream', 'maxQueuedSegments'] as const) {
    if (!Number.isInteger(resolved[name]) || resolved[name] < 1) throw new Error(`${name}: a positive integer is needed`)
  }
  if (!(resolved.segmentSeconds > 0)) throw new Error('segmentSeconds: a positive number is needed')
  return resolved
}
