import sharp from 'sharp'

export interface ImageInfo {
  width: number
  height: number
  format: string
}

/**
 * Reads an image's header with sharp (no pixel decode, so it stays cheap for large
 * inputs). Undefined when sharp does not recognise it as an image it can decode.
 */
export async function probeImage (data: Uint8Array): Promise<ImageInfo | undefined> {
  if (data.byteLength === 0) return undefined
  try {
    const meta = await sharp(data).metadata()
    if (meta.width === undefined || meta.height === undefined || meta.width <= 0 || meta.height <= 0) return undefined
    return { width: meta.width, height: meta.height, format: meta.format ?? 'unknown' }
  } catch {
    return undefined
  }
}

function ascii (data: Uint8Array, start: number, text: string): boolean {
  if (data.byteLength < start + text.length) return false
  for (let i = 0; i < text.length; i++) {
    if (data[start + i] !== text.charCodeAt(i)) return false
  }
  return true
}

/**
 * The container of an audio (or audio-bearing video) file from its first bytes, or
 * undefined when it is none that the runner's decoder (ffmpeg) is expected to read.
 * The reference runner answers such files with 415.
 */
export function sniffAudio (data: Uint8Array): string | undefined {
  if (ascii(data, 0, 'RIFF') && (ascii(data, 8, 'WAVE') || ascii(data, 8, 'AVI '))) return ascii(data, 8, 'WAVE') ? 'wav' : 'avi'
  if (ascii(data, 0, 'ID3')) return 'mp3'
  if (ascii(data, 0, 'fLaC')) return 'flac'
  if (ascii(data, 0, 'OggS')) return 'ogg'
  if (ascii(data, 4, 'ftyp')) return 'mp4'
  if (ascii(data, 0, 'FORM') && (ascii(data, 8, 'AIFF') || ascii(data, 8, 'AIFC'))) return 'aiff'
  if (ascii(data, 0, '#!AMR')) return 'amr'
  if (ascii(data, 0, 'caff')) return 'caf'
  if (data[0] === 0x1a && data[1] === 0x45 && data[2] === 0xdf && data[3] === 0xa3) return 'webm'
  // MPEG audio frame or AAC ADTS: 11 set sync bits
  if (data.byteLength >= 2 && data[0] === 0xff && ((data[1] ?? 0) & 0xe0) === 0xe0) return 'mpeg'
  // MPEG transport stream: sync byte every 188 bytes
  if (data.byteLength >= 376 && data[0] === 0x47 && data[188] === 0x47) return 'mpegts'
  return undefined
}
