/**
 * Cuts a continuous MPEG-TS stream (ffmpeg's `-f mpegts -` output, a .ts file) into live
 * segments that each decode alone, as trickle publishers send them: a segment starts at a
 * video key frame, lasts at least `minSeconds` of video (by PTS) and begins with the
 * stream's latest PAT and PMT. Packets before the first key frame are dropped (they do
 * not decode without it). Memory is bounded by `maxBytes` per segment.
 */
import { MpegTsError } from './errors.js'
import { packetPid, patProgramPid, payloadOf, pmtVideoStream, TS_PACKET, unitStart } from './mpegts.js'

export interface TsSegmenterOptions {
  /** the shortest segment, in seconds of video; a segment ends at the first key frame after it @default 1 */
  minSeconds?: number
  /** the largest segment: a stream with no key frame within it cannot be cut @default 8 MiB */
  maxBytes?: number
}

const PTS_HZ = 90_000

/** The PES header's PTS (90 kHz) of a unit-start payload; undefined when it has none. */
function ptsOf (pes: Uint8Array): number | undefined {
  if (pes.length < 14 || pes[0] !== 0 || pes[1] !== 0 || pes[2] !== 1) return undefined
  if ((pes[7] & 0x80) === 0) return undefined
  return ((pes[9] >> 1) & 7) * 2 ** 30 + pes[10] * 2 ** 22 + (pes[11] >> 1) * 2 ** 15 + pes[12] * 2 ** 7 + (pes[13] >> 1)
}

/**
 * Whether a video packet starting a PES holds a key frame: the adaptation field's random
 * access indicator (muxers set it on key frames), or, for H.264, an SPS or IDR slice in
 * the packet's payload.
 */
function isKeyFrame (packet: Uint8Array, payload: Uint8Array, h264: boolean): boolean {
  const afc = (packet[3] >> 4) & 3
  if ((afc & 2) !== 0 && packet[4] > 0 && (packet[5] & 0x40) !== 0) return true
  if (!h264 || payload.length < 9) return false
  const es = payload.subarray(9 + payload[8])
  for (let i = 0; i + 3 < es.length; i++) {
    if (es[i] === 0 && es[i + 1] === 0 && es[i + 2] === 1) {
      const type = es[i + 3] & 0x1f
      if (type === 5 || type === 7) return true
    }
  }
  return false
}

export class TsSegmenter {
  private readonly minTicks: number
  private readonly maxBytes: number
  /** bytes of an incomplete packet from the last chunk */
  private rest: Uint8Array = new Uint8Array(0)
  private pat: Uint8Array | undefined
  private pmt: Uint8Array | undefined
  private pmtPid = -1
  private video: { pid: number, type: number } | undefined
  private packets: Uint8Array[] = []
  private bytes = 0
  private startPts: number | undefined
  private started = false

  constructor (options: TsSegmenterOptions = {}) {
    this.minTicks = Math.max(0, options.minSeconds ?? 1) * PTS_HZ
    this.maxBytes = options.maxBytes ?? 8 * 1024 * 1024
  }

  /** Takes the next bytes of the stream; returns the segments they completed. Throws `MpegTsError`. */
  push (chunk: Uint8Array): Uint8Array[] {
    const data = this.rest.length === 0 ? chunk : Buffer.concat([this.rest, chunk])
    const whole = data.length - (data.length % TS_PACKET)
    const out: Uint8Array[] = []
    for (let at = 0; at < whole; at += TS_PACKET) {
      if (data[at] !== 0x47) throw new MpegTsError('MPEGTS_ERROR_NOT_TS', `not MPEG-TS: no sync byte at offset ${at} of a chunk (give the stream in MPEG-TS, e.g. ffmpeg -f mpegts)`)
      const done = this.packet(data.slice(at, at + TS_PACKET))
      if (done !== undefined) out.push(done)
    }
    this.rest = data.slice(whole)
    return out
  }

  /** The end of the stream: the last segment, if it holds a key frame. */
  end (): Uint8Array | undefined {
    this.rest = new Uint8Array(0)
    return this.flush()
  }

  private flush (): Uint8Array | undefined {
    const segment = this.started && this.packets.length > 0 ? Buffer.concat(this.packets) : undefined
    this.packets = []
    this.bytes = 0
    return segment
  }

  private append (packet: Uint8Array): void {
    this.packets.push(packet)
    this.bytes += packet.length
    if (this.bytes > this.maxBytes) throw new MpegTsError('MPEGTS_ERROR_NO_KEY_FRAME', `no key frame within ${this.maxBytes} bytes: encode with a key frame every second or so (ffmpeg -g <fps>)`)
  }

  /** One packet; returns the segment it completed, if any. */
  private packet (packet: Uint8Array): Uint8Array | undefined {
    const pid = packetPid(packet, 0)
    const start = unitStart(packet, 0)
    const payload = payloadOf(packet, 0)
    if (pid === 0 && start && payload !== undefined) {
      // a new PAT: the segments after it start with it
      this.pat = packet
      this.pmtPid = patProgramPid(payload)
      if (this.started) this.append(packet)
      return undefined
    }
    if (pid === this.pmtPid && start && payload !== undefined) {
      this.pmt = packet
      this.video = pmtVideoStream(payload) ?? this.video
      if (this.started) this.append(packet)
      return undefined
    }
    let done: Uint8Array | undefined
    if (this.video !== undefined && pid === this.video.pid && start && payload !== undefined && isKeyFrame(packet, payload, this.video.type === 0x1b)) {
      const pts = ptsOf(payload)
      const long = this.startPts === undefined || pts === undefined || pts - this.startPts >= this.minTicks || pts <= this.startPts
      if (!this.started || long) {
        done = this.flush()
        this.started = true
        this.startPts = pts
        if (this.pat !== undefined) this.append(this.pat)
        if (this.pmt !== undefined) this.append(this.pmt)
      }
    }
    if (this.started) this.append(packet)
    return done
  }
}
