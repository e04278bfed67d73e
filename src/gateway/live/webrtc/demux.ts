/**
 * The H.264 access units of one MPEG-TS segment, with their 90 kHz presentation times,
 * read by mediabunny's MPEG-TS demuxer (pure TypeScript; werift itself depends on it).
 */
import { BufferSource, EncodedPacketSink, Input, MPEG_TS } from 'mediabunny'

export interface AccessUnit {
  /** Annex B NAL units, as the segment carries them (parameter sets in-band before keyframes) */
  data: Buffer
  /** presentation time, 90 kHz ticks as in the transport stream */
  pts: number
  keyframe: boolean
}

export class SegmentFormatError extends Error {
  static override readonly name = 'SegmentFormatError'
  override readonly name = 'SegmentFormatError'
}

/** Every H.264 access unit of `segment`, in decoding order; throws SegmentFormatError when it has none. */
export async function readAccessUnits (segment: Uint8Array): Promise<AccessUnit[]> {
  const input = new Input({ source: new BufferSource(segment), formats: [MPEG_TS] })
  try {
    const track = await input.getPrimaryVideoTrack().catch(() => null)
    if (track === null) throw new SegmentFormatError('no video track in the segment')
    if (track.codec !== 'avc') throw new SegmentFormatError(`the segment's video is ${String(track.codec)}, not H.264`)
    const units: AccessUnit[] = []
    for await (const packet of new EncodedPacketSink(track).packets()) {
      units.push({ data: Buffer.from(packet.data), pts: Math.round(packet.timestamp * 90_000), keyframe: packet.type === 'key' })
    }
    return units
  } finally {
    input.dispose()
  }
}
