/**
 * OpenAI's `response_format` for `/v1/audio/speech`: the runner answers in its own format
 * (eSpeak NG and the reference's text-to-speech give WAV), and the gateway converts with
 * ffmpeg. ffmpeg is found as the CPU runner finds it (Debian's on PATH, else the static
 * build of the extras), by the one resolver in src/cpu-runner/models/extras.ts.
 */
import { findProgram, programMissingHint } from '../../cpu-runner/models/extras.js'
import { runBinary } from '../../cpu-runner/models/subprocess.js'
import { invalidParam, OpenAiError } from './errors.js'
import { upstream } from './runner-answer.js'

export const SPEECH_FORMATS = ['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm'] as const
export type SpeechFormat = typeof SPEECH_FORMATS[number]

/** Each format's Content-Type, the source types it is already in, and ffmpeg's output arguments. */
const FORMATS: Record<SpeechFormat, { contentType: string, already: readonly string[], args: readonly string[] }> = {
  mp3: { contentType: 'audio/mpeg', already: ['audio/mpeg', 'audio/mp3'], args: ['-c:a', 'libmp3lame', '-b:a', '64k', '-f', 'mp3'] },
  // Ogg Opus, as OpenAI sends it; Opus runs at 48 kHz
  opus: { contentType: 'audio/ogg', already: ['audio/ogg', 'audio/opus'], args: ['-c:a', 'libopus', '-b:a', '32k', '-ar', '48000', '-f', 'ogg'] },
  aac: { contentType: 'audio/aac', already: ['audio/aac'], args: ['-c:a', 'aac', '-b:a', '64k', '-f', 'adts'] },
  flac: { contentType: 'audio/flac', already: ['audio/flac', 'audio/x-flac'], args: ['-c:a', 'flac', '-f', 'flac'] },
  wav: { contentType: 'audio/wav', already: ['audio/wav', 'audio/x-wav', 'audio/wave'], args: ['-c:a', 'pcm_s16le', '-f', 'wav'] },
  // OpenAI's pcm: raw 24 kHz, 16-bit signed little-endian, mono, no header
  pcm: { contentType: 'audio/pcm', already: [], args: ['-c:a', 'pcm_s16le', '-ar', '24000', '-ac', '1', '-f', 's16le'] }
}

/** The audio format a speech request asks for: OpenAI's default is mp3; null when it names none. */
export function speechFormatOf (value: unknown): SpeechFormat | null {
  if (value === undefined || value === null) return null
  if (typeof value === 'string' && (SPEECH_FORMATS as readonly string[]).includes(value)) return value as SpeechFormat
  throw invalidParam('response_format', `'response_format' must be one of ${SPEECH_FORMATS.join(', ')}`)
}

/** The ffmpeg the gateway converts with, or null when none is installed. */
export function speechConverter (env: NodeJS.ProcessEnv = process.env): string | null {
  return findProgram('ffmpeg', env)
}

/**
 * Whether the request can be served, checked before the job is paid for: a named format
 * other than the runner's own needs ffmpeg. With none named the default (mp3) is used
 * when ffmpeg is there, else the runner's own format.
 */
export function resolveSpeechFormat (asked: SpeechFormat | null, ffmpeg: string | null): SpeechFormat | 'native' {
  if (asked === null) return ffmpeg === null ? 'native' : 'mp3'
  if (ffmpeg === null && asked !== 'wav') {
    throw new OpenAiError(400, 'GATEWAY_ERROR_VALIDATION', `'response_format' ${asked} needs ffmpeg on the gateway: ${programMissingHint('ffmpeg', 'ffmpeg')}; wav is served without it`, { param: 'response_format', openAiCode: 'unsupported_value' })
  }
  return asked
}

/** The runner's audio in `format` (as it is when already so), with its Content-Type. */
export async function convertSpeech (
  audio: { contentType: string, data: Buffer },
  format: SpeechFormat | 'native',
  ffmpeg: string | null,
  options: { signal: AbortSignal, maxOutputBytes: number }
): Promise<{ contentType: string, data: Buffer }> {
  if (format === 'native') return audio
  const spec = FORMATS[format]
  if (spec.already.includes(audio.contentType.toLowerCase())) return { contentType: spec.contentType, data: audio.data }
  if (ffmpeg === null) {
    throw new OpenAiError(400, 'GATEWAY_ERROR_VALIDATION', `the model answered ${audio.contentType}, and converting it to ${format} needs ffmpeg on the gateway: ${programMissingHint('ffmpeg', 'ffmpeg')}`, { param: 'response_format', openAiCode: 'unsupported_value' })
  }
  try {
    const { stdout } = await runBinary(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-i', 'pipe:0', '-vn', ...spec.args, 'pipe:1'], {
      signal: options.signal,
      input: audio.data,
      maxOutputBytes: options.maxOutputBytes,
      timeoutMs: 60_000
    })
    if (stdout.byteLength === 0) throw new Error('ffmpeg wrote nothing')
    return { contentType: spec.contentType, data: stdout }
  } catch (err) {
    if (options.signal.aborted) throw err
    throw upstream(`answered audio (${audio.contentType}) that could not be converted to ${format}: ${(err as Error).message}`)
  }
}
