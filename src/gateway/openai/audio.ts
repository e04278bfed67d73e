import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ParsedForm } from '../http/index.js'
import { invalidParam } from './errors.js'
import { jsonBody, requiredString } from './body.js'
import { readOpenAiForm } from './form.js'
import { fromDataUrl, readJsonAnswer, upstream } from './runner-answer.js'
import type { OpenAiContext } from './context.js'
import { convertSpeech, resolveSpeechFormat, speechConverter, speechFormatOf } from './speech-format.js'

/** audio-to-text's and text-to-speech's fields as OpenAI calls them, for error `param`s. */
export const AUDIO_PARAMS: Readonly<Record<string, string>> = { model_id: 'model', audio: 'file', text: 'input', description: 'instructions' }

const TRANSCRIPTION_FORMATS = ['json', 'text', 'srt', 'verbose_json', 'vtt'] as const
type TranscriptionFormat = typeof TRANSCRIPTION_FORMATS[number]

// what OpenAI's audio/transcriptions takes (the ones the pipeline cannot honour are read and ignored)
const TRANSCRIPTION_FIELDS = {
  files: { file: 'one' },
  texts: ['model', 'language', 'prompt', 'response_format', 'temperature', 'timestamp_granularities[]', 'include[]', 'chunking_strategy', 'stream', 'known_speaker_names[]', 'known_speaker_references[]']
} as const

interface Segment { start: number, end: number, text: string }

/** The pipeline's TextResponse (`{text, chunks: [{timestamp: [start, end], text}]}`). */
function textResponse (value: unknown): { text: string, segments: Segment[] } {
  const v = value as { text?: unknown, chunks?: unknown } | null
  if (typeof v?.text !== 'string') throw upstream('answered a transcription without text')
  const chunks = Array.isArray(v.chunks) ? v.chunks : []
  const segments = chunks.flatMap((c: unknown): Segment[] => {
    const chunk = c as { timestamp?: unknown, text?: unknown }
    const [start, end] = Array.isArray(chunk.timestamp) ? chunk.timestamp as unknown[] : []
    if (typeof chunk.text !== 'string' || typeof start !== 'number') return []
    return [{ start, end: typeof end === 'number' ? end : start, text: chunk.text }]
  })
  return { text: v.text, segments }
}

function clock (seconds: number, separator: ',' | '.'): string {
  const ms = Math.max(0, Math.round(seconds * 1000))
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0')
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}${separator}${pad(ms % 1000, 3)}`
}

/** `POST /v1/audio/transcriptions` (multipart) on audio-to-text, in each of OpenAI's response formats. */
export async function transcriptions (ctx: OpenAiContext, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const form = await readOpenAiForm(request, ctx.limits, TRANSCRIPTION_FIELDS)
  const file = form.files.get('file')?.[0]
  if (file === undefined) throw invalidParam('file', "you must provide a 'file'")
  const format = (form.fields.get('response_format') ?? 'json') as TranscriptionFormat
  if (!TRANSCRIPTION_FORMATS.includes(format)) throw invalidParam('response_format', `'response_format' must be one of ${TRANSCRIPTION_FORMATS.join(', ')}`)
  const words = form.fields.get('timestamp_granularities[]') === 'word'
  // segments are asked for only when the answer shows them
  const timestamps = words ? 'word' : format === 'json' || format === 'text' ? 'false' : 'true'
  const fields = new Map<string, string>([['return_timestamps', timestamps]])
  const model = form.fields.get('model')
  if (model !== undefined) fields.set('model_id', model)
  const pipelineForm: ParsedForm = { fields, files: new Map([['audio', file]]) }
  const result = await ctx.submit('audio-to-text', { form: pipelineForm }, request, reply)
  const { text, segments } = textResponse(await readJsonAnswer(result.response, ctx.limits.bodyLimitBytes))
  switch (format) {
    case 'json': return { text }
    case 'text': return await reply.type('text/plain; charset=utf-8').send(text)
    case 'verbose_json': return {
      task: 'transcribe',
      language: form.fields.get('language') ?? 'unknown',
      duration: segments.length > 0 ? segments[segments.length - 1]?.end ?? 0 : 0,
      text,
      segments: segments.map((s, id) => ({ id, seek: 0, start: s.start, end: s.end, text: s.text, tokens: [], temperature: 0, avg_logprob: 0, compression_ratio: 0, no_speech_prob: 0 }))
    }
    case 'srt': return await reply.type('text/plain; charset=utf-8')
      .send(segments.map((s, i) => `${i + 1}\n${clock(s.start, ',')} --> ${clock(s.end, ',')}\n${s.text.trim()}\n`).join('\n'))
    case 'vtt': return await reply.type('text/vtt; charset=utf-8')
      .send(`WEBVTT\n\n${segments.map(s => `${clock(s.start, '.')} --> ${clock(s.end, '.')}\n${s.text.trim()}\n`).join('\n')}`)
  }
}

/**
 * `POST /v1/audio/speech` on text-to-speech: the audio in the `response_format` asked
 * (mp3 by default, as OpenAI), converted from the model's own format by ffmpeg. An
 * unknown format, or one that cannot be made here, is refused before the job is paid.
 */
export async function speech (ctx: OpenAiContext, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const body = jsonBody(request)
  const input = requiredString(body, 'input')
  if (input === '') throw invalidParam('input', "'input' must not be empty")
  const ffmpeg = speechConverter()
  const format = resolveSpeechFormat(speechFormatOf(body.response_format), ffmpeg)
  const json = {
    text: input,
    ...(typeof body.model === 'string' ? { model_id: body.model } : {}),
    ...(typeof body.instructions === 'string' ? { description: body.instructions } : {})
  }
  const result = await ctx.submit('text-to-speech', { json }, request, reply)
  const answer = await readJsonAnswer(result.response, ctx.limits.bodyLimitBytes) as { audio?: { url?: unknown } } | null
  const audio = fromDataUrl(answer?.audio?.url)
  if (audio === undefined) throw upstream('answered speech without an audio data URL')
  // the conversion stops when the client goes away
  const gone = new AbortController()
  const onClose = (): void => { gone.abort(new Error('the client closed the connection')) }
  reply.raw.once('close', onClose)
  try {
    const out = await convertSpeech(audio, format, ffmpeg, { signal: gone.signal, maxOutputBytes: ctx.limits.bodyLimitBytes * 4 })
    return await reply.type(out.contentType).send(out.data)
  } finally {
    reply.raw.off('close', onClose)
  }
}
