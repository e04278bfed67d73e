/**
 * IVF, the smallest container ffmpeg reads that carries a timestamp per frame: a 32-byte
 * file header, then per frame its size and 64-bit timestamp. ffmpeg takes VP8 and, by its
 * fourcc, H.264 (Annex B) in it.
 */

export type IvfCodec = 'VP8' | 'H264'

/** The file header; the size fields are 0 (the decoder reads the size from the bitstream). */
export function ivfHeader (codec: IvfCodec, timebase: number): Buffer {
  const header = Buffer.alloc(32)
  header.write('DKIF', 0, 'latin1')
  header.writeUInt16LE(0, 4)
  header.writeUInt16LE(32, 6)
  header.write(codec === 'VP8' ? 'VP80' : 'H264', 8, 'latin1')
  // timestamps count 1/timebase seconds
  header.writeUInt32LE(timebase, 16)
  header.writeUInt32LE(1, 20)
  return header
}

export function ivfFrameHeader (size: number, pts: number): Buffer {
  const header = Buffer.alloc(12)
  header.writeUInt32LE(size, 0)
  header.writeBigUInt64LE(BigInt(pts), 4)
  return header
}
