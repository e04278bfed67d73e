/**
 * `text-to-speech` with eSpeak NG: a formant synthesiser (rules, not a neural network),
 * run as the `espeak-ng` binary (Debian package `espeak-ng`). Model ids are
 * `espeak-ng/<voice>` with an eSpeak voice (a language such as `en-us`, `de`, `fr`,
 * optionally a variant: `en-us+f3`). The answer is ai-runner's AudioResponse:
 * `{audio: {url: 'data:audio/wav;base64,...'}}` (22.05 kHz mono 16-bit WAV).
 *
 * `description` (a speaker style for Parler-TTS in the reference) is read for a few
 * words only: "female"/"woman" picks a female variant, "slow"/"fast" the speed,
 * "high"/"low"/"deep" pitch the pitch. Everything else in it is ignored.
 */
import { ModelFailureError, ModelInputError } from '../errors.js'
import { findProgram, programMissingHint } from './extras.js'
import type { CpuModelFamily, FamilyModelOptions } from './family.js'
import { BinaryFailedError, runBinary } from './subprocess.js'
import type { CpuModel } from './types.js'

export const ESPEAK_MODEL_PREFIX = 'espeak-ng/'
const BINARY = 'espeak-ng'
/** the longest text accepted, in characters (400 above): about 10 minutes of speech */
export const ESPEAK_MAX_TEXT_CHARS = 10_000
const VOICE = /^[a-z]{2,3}(-[a-z0-9]{1,8}){0,3}(\+[a-z0-9_-]{1,20})?$/i
const LISTED_VOICES = ['en-us', 'en-gb', 'de', 'fr', 'es']

export interface SpeechSettings {
  /** eSpeak voice, with a variant when one is chosen */
  voice: string
  /** words per minute */
  speed: number
  /** 0-99 */
  pitch: number
}

/** The voice of an `espeak-ng/<voice>` model id, or null when the id is not one. */
export function espeakVoice (modelId: string): string | null {
  if (!modelId.startsWith(ESPEAK_MODEL_PREFIX)) return null
  const voice = modelId.slice(ESPEAK_MODEL_PREFIX.length)
  return VOICE.test(voice) ? voice : null
}

/** What a reference-style speaker `description` turns into for eSpeak (see the module comment). */
export function speechSettings (voice: string, description: string): SpeechSettings {
  const text = description.toLowerCase()
  let chosen = voice
  if (!voice.includes('+') && /\b(female|woman|girl)\b/.test(text)) chosen = `${voice}+f3`
  const speed = /\b(very slow|very slowly)\b/.test(text) ? 110 : /\b(slow|slowly)\b/.test(text) ? 140 : /\b(very fast|very quickly)\b/.test(text) ? 240 : /\b(fast|quick|quickly)\b/.test(text) ? 205 : 175
  const pitch = /\bhigh[- ]pitch(ed)?\b/.test(text) ? 70 : /\b(low[- ]pitch(ed)?|deep)\b/.test(text) ? 30 : 50
  return { voice: chosen, speed, pitch }
}

/**
 * eSpeak writes a streaming WAV to stdout, with placeholder sizes in its header;
 * this sets the RIFF and data chunk sizes to the real ones.
 */
export function fixStreamedWavHeader (wav: Buffer): Buffer {
  if (wav.length < 44 || wav.toString('ascii', 0, 4) !== 'RIFF' || wav.toString('ascii', 8, 12) !== 'WAVE') {
    throw new ModelFailureError('espeak-ng did not write a WAV file')
  }
  // walk the chunks to the data chunk (eSpeak writes fmt then data, 44-byte header)
  let offset = 12
  while (offset + 8 <= wav.length) {
    const id = wav.toString('ascii', offset, offset + 4)
    if (id === 'data') {
      wav.writeUInt32LE(wav.length - offset - 8, offset + 4)
      wav.writeUInt32LE(wav.length - 8, 4)
      return wav
    }
    offset += 8 + wav.readUInt32LE(offset + 4)
  }
  throw new ModelFailureError('espeak-ng wrote a WAV file without a data chunk')
}

function createEspeakModel (modelId: string, options: FamilyModelOptions): CpuModel {
  const voice = espeakVoice(modelId) as string
  let binary = ''
  return {
    pipeline: 'text-to-speech',
    modelId,
    concurrency: Math.max(1, options.workers),
    load: async ({ signal } = {}) => {
      const found = findProgram(BINARY, options.env)
      if (found === null) throw new ModelFailureError(programMissingHint(BINARY, 'espeak-ng'))
      binary = found
      // an unknown voice makes espeak-ng fail: find out now, not on the first request
      try {
        await runBinary(binary, ['-v', voice, '--stdout', '--stdin'], { input: 'a', signal: signal ?? AbortSignal.timeout(10_000), timeoutMs: 10_000 })
      } catch (err) {
        if (err instanceof BinaryFailedError) throw new ModelFailureError(`espeak-ng has no voice "${voice}" (see \`espeak-ng --voices\`): ${err.stderr.trim()}`)
        throw err
      }
    },
    run: async (request, { signal }) => {
      const text = typeof request.params.text === 'string' ? request.params.text : ''
      if (text.trim() === '') throw new ModelInputError('text is empty: there is nothing to say')
      if ([...text].length > ESPEAK_MAX_TEXT_CHARS) throw new ModelInputError(`text is longer than ${ESPEAK_MAX_TEXT_CHARS} characters`)
      const description = typeof request.params.description === 'string' ? request.params.description : ''
      const settings = speechSettings(voice, description)
      const { stdout } = await runBinary(binary, [
        '-v', settings.voice,
        '-s', String(settings.speed),
        '-p', String(settings.pitch),
        '--stdout',
        '--stdin'
      ], { input: text, signal, timeoutMs: 120_000 })
      const wav = fixStreamedWavHeader(stdout)
      return { kind: 'json', body: { audio: { url: `data:audio/wav;base64,${wav.toString('base64')}` } } }
    },
    close: async () => {}
  }
}

export const espeakFamily: CpuModelFamily = {
  pipeline: 'text-to-speech',
  models: () => LISTED_VOICES.map((voice) => ({
    modelId: `${ESPEAK_MODEL_PREFIX}${voice}`,
    description: `eSpeak NG formant synthesis (not neural), voice ${voice}; any espeak-ng/<voice> of \`espeak-ng --voices\` works`
  })),
  matches: (modelId) => modelId.startsWith(ESPEAK_MODEL_PREFIX),
  unavailable: (modelId, env) => {
    if (espeakVoice(modelId) === null) return `"${modelId}" is not an eSpeak voice id (espeak-ng/<voice>, e.g. espeak-ng/en-us)`
    return findProgram(BINARY, env) === null ? programMissingHint(BINARY, 'espeak-ng') : null
  },
  create: createEspeakModel
}
