/**
 * What an MPEG-TS segment holds, read without decoding it: the video codec (from the
 * PMT), the number of video frames (PES packets on the video PID: one access unit each,
 * as ffmpeg and encoders mux live video) and, for H.264, the picture size from the first
 * SPS. Both ends of a live session bill pixels with it (width x height x frames) and the
 * gateway refuses input that is not MPEG-TS with H.264 video before it reaches the mesh.
 */

export interface SegmentInfo {
  /** 'h264', 'hevc', 'mpeg2', or 'other' (stream type in hex) */
  codec: string
  frames: number
  /** 0 when unknown (no SPS found, or not H.264) */
  width: number
  height: number
}

/** bytes in an MPEG-TS packet */
export const TS_PACKET = 188
const PACKET = TS_PACKET
const STREAM_TYPES: Record<number, string> = { 0x1b: 'h264', 0x24: 'hevc', 0x02: 'mpeg2', 0x01: 'mpeg1' }
const VIDEO_TYPES = new Set([0x01, 0x02, 0x10, 0x1b, 0x24, 0x42, 0xea])

/** Whether the bytes look like MPEG-TS: sync bytes every 188 bytes. */
export function isMpegTs (data: Uint8Array): boolean {
  if (data.byteLength < PACKET || data.byteLength % PACKET !== 0) return false
  for (let i = 0; i < data.byteLength; i += PACKET) if (data[i] !== 0x47) return false
  return true
}

/** The PID of the packet at `at`. */
export function packetPid (data: Uint8Array, at: number): number {
  return ((data[at + 1] & 0x1f) << 8) | data[at + 2]
}

/** Whether the packet at `at` starts a payload unit (a PES packet or a table section). */
export function unitStart (data: Uint8Array, at: number): boolean {
  return (data[at + 1] & 0x40) !== 0
}

/** The payload of the packet at `at` (after its adaptation field); undefined when it has none. */
export function payloadOf (data: Uint8Array, at: number): Uint8Array | undefined {
  const afc = (data[at + 3] >> 4) & 3
  if (afc === 0 || afc === 2) return undefined
  let start = at + 4
  if (afc === 3) start += 1 + data[at + 4]
  if (start >= at + PACKET) return undefined
  return data.subarray(start, at + PACKET)
}

/** The PMT PID of the first program of a PAT (a unit-start payload on PID 0); -1 when none. */
export function patProgramPid (payload: Uint8Array): number {
  // pointer field, then the table
  const t = payload.subarray(1 + payload[0])
  const sectionLength = ((t[1] & 0x0f) << 8) | t[2]
  for (let i = 8; i + 4 <= 3 + sectionLength - 4 && i + 4 <= t.length; i += 4) {
    const program = (t[i] << 8) | t[i + 1]
    if (program !== 0) return ((t[i + 2] & 0x1f) << 8) | t[i + 3]
  }
  return -1
}

/** The first video stream of a PMT (a unit-start payload on the PMT PID): its PID and stream type. */
export function pmtVideoStream (payload: Uint8Array): { pid: number, type: number } | undefined {
  const t = payload.subarray(1 + payload[0])
  const sectionLength = ((t[1] & 0x0f) << 8) | t[2]
  const infoLength = ((t[10] & 0x0f) << 8) | t[11]
  const end = Math.min(3 + sectionLength - 4, t.length)
  for (let i = 12 + infoLength; i + 5 <= end;) {
    const type = t[i]
    const pid = ((t[i + 1] & 0x1f) << 8) | t[i + 2]
    const esInfo = ((t[i + 3] & 0x0f) << 8) | t[i + 4]
    if (VIDEO_TYPES.has(type)) return { pid, type }
    i += 5 + esInfo
  }
  return undefined
}

/** Reads the segment's video stream; undefined when it is not MPEG-TS or has no video. */
export function inspectSegment (data: Uint8Array): SegmentInfo | undefined {
  if (!isMpegTs(data)) return undefined
  let pmtPid = -1
  let videoPid = -1
  let streamType = -1
  let frames = 0
  const firstPes: Uint8Array[] = []
  let collecting = 0 // 0 before, 1 while in the first PES, 2 after
  for (let at = 0; at < data.byteLength; at += PACKET) {
    const pid = packetPid(data, at)
    const start = unitStart(data, at)
    const payload = payloadOf(data, at)
    if (payload === undefined) continue
    if (pid === 0 && start && pmtPid < 0) {
      pmtPid = patProgramPid(payload)
      continue
    }
    if (pid === pmtPid && start && videoPid < 0) {
      const video = pmtVideoStream(payload)
      if (video !== undefined) { videoPid = video.pid; streamType = video.type }
      continue
    }
    if (pid !== videoPid || videoPid < 0) continue
    if (start) {
      frames++
      if (collecting === 0) collecting = 1
      else if (collecting === 1) collecting = 2
    }
    if (collecting === 1) firstPes.push(payload)
  }
  if (videoPid < 0) return undefined
  const codec = STREAM_TYPES[streamType] ?? `other-0x${streamType.toString(16)}`
  let size = { width: 0, height: 0 }
  if (codec === 'h264' && firstPes.length > 0) {
    const pes = Buffer.concat(firstPes)
    // PES header: 6 bytes, 2 flag bytes, header data length
    const es = pes.length > 9 ? pes.subarray(9 + pes[8]) : Buffer.alloc(0)
    size = h264Size(es) ?? size
  }
  return { codec, frames, ...size }
}

/** The picture size from the first SPS of an H.264 Annex B stream. */
export function h264Size (es: Uint8Array): { width: number, height: number } | undefined {
  for (let i = 0; i + 4 < es.length; i++) {
    if (es[i] !== 0 || es[i + 1] !== 0 || es[i + 2] !== 1) continue
    if ((es[i + 3] & 0x1f) !== 7) continue
    // the SPS runs to the next start code; drop emulation prevention bytes
    let end = i + 4
    while (end + 2 < es.length && !(es[end] === 0 && es[end + 1] === 0 && (es[end + 2] === 1 || es[end + 2] === 0))) end++
    const rbsp: number[] = []
    for (let k = i + 4; k < end; k++) {
      if (k >= i + 6 && es[k] === 3 && es[k - 1] === 0 && es[k - 2] === 0) continue
      rbsp.push(es[k])
    }
    try {
      return parseSps(rbsp)
    } catch {
      return undefined
    }
  }
  return undefined
}

function parseSps (bytes: number[]): { width: number, height: number } {
  let bit = 0
  const u = (n: number): number => {
    let v = 0
    for (let k = 0; k < n; k++) {
      const byte = bytes[bit >> 3]
      if (byte === undefined) throw new Error('SPS ends early')
      v = (v * 2) + ((byte >> (7 - (bit & 7))) & 1)
      bit++
    }
    return v
  }
  const ue = (): number => {
    let zeros = 0
    while (u(1) === 0) { zeros++; if (zeros > 31) throw new Error('bad exp-Golomb') }
    return (2 ** zeros) - 1 + u(zeros)
  }
  const se = (): number => { const k = ue(); return k % 2 === 1 ? (k + 1) / 2 : -k / 2 }
  const profile = u(8)
  u(16) // constraint flags, level
  ue() // sps id
  let chromaFormat = 1
  if ([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].includes(profile)) {
    chromaFormat = ue()
    if (chromaFormat === 3) u(1)
    ue(); ue() // bit depths
    u(1)
    if (u(1) === 1) {
      for (let k = 0; k < (chromaFormat !== 3 ? 8 : 12); k++) {
        if (u(1) === 1) {
          let last = 8
          let next = 8
          for (let j = 0; j < (k < 6 ? 16 : 64); j++) {
            if (next !== 0) next = (last + se() + 256) % 256
            last = next === 0 ? last : next
          }
        }
      }
    }
  }
  ue() // log2 max frame num
  const pocType = ue()
  if (pocType === 0) ue()
  else if (pocType === 1) {
    u(1); se(); se()
    const n = ue()
    for (let k = 0; k < n; k++) se()
  }
  ue() // max ref frames
  u(1)
  const widthMbs = ue() + 1
  const heightMaps = ue() + 1
  const frameMbsOnly = u(1)
  if (frameMbsOnly === 0) u(1)
  u(1)
  let crop = [0, 0, 0, 0]
  if (u(1) === 1) crop = [ue(), ue(), ue(), ue()]
  const cropX = chromaFormat === 0 || chromaFormat === 3 ? 1 : 2
  const cropY = (chromaFormat === 1 ? 2 : 1) * (2 - frameMbsOnly)
  return {
    width: widthMbs * 16 - (crop[0] + crop[1]) * cropX,
    height: heightMaps * 16 * (2 - frameMbsOnly) - (crop[2] + crop[3]) * cropY
  }
}
