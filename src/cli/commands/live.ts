import { createReadStream } from 'node:fs'
import type { Readable, Writable } from 'node:stream'
import type { CommandModule } from 'yargs'
import { MpegTsError } from '../../protocols/live/errors.js'
import { TsSegmenter } from '../../protocols/live/segmenter.js'
import { tricklePublish, trickleSubscribe } from '../../protocols/live/trickle/client.js'
import { TrickleError } from '../../protocols/live/trickle/errors.js'
import { CliError } from '../errors.js'
import { commandSummary } from './index.js'

interface LiveArgs {
  action: 'publish' | 'subscribe'
  input?: string
  gateway: string
  stream: string
  'api-key'?: string
  'segment-seconds': number
  from: number
  count?: number
}

/** The stream's trickle channel on the gateway: `in` (publish) or `out` (subscribe). */
function channelUrl (gateway: string, stream: string, direction: 'in' | 'out'): string {
  let base: URL
  try {
    base = new URL(gateway)
  } catch {
    throw new CliError('CLI_ERROR_USAGE', `--gateway ${JSON.stringify(gateway)} is not a URL (e.g. http://127.0.0.1:8935)`)
  }
  return `${base.origin}${base.pathname.replace(/\/+$/, '')}/live/video-to-video/${encodeURIComponent(stream)}/${direction}`
}

/** A gateway's answer as one line: its error message when it sent JSON. */
function httpFailure (err: TrickleError): string {
  const text = err.message.replace(/^[^:]*: /, '')
  const json = /\{.*\}$/s.exec(text)?.[0]
  try {
    const message = (JSON.parse(json ?? '') as { error?: { message?: string } }).error?.message
    if (message !== undefined) return `${String(err.details?.status ?? '')} ${message}`.trim()
  } catch {}
  return text
}

/**
 * Reads MPEG-TS (a file, or `-` for standard input: `ffmpeg ... -f mpegts - | shoal live
 * publish ...`), cuts it at key frames into segments of at least `segmentSeconds`, and
 * publishes each to the stream's trickle input in order, one at a time: the gateway
 * answers once its session took a segment, so a slow mesh slows the reading (and ffmpeg
 * behind the pipe) instead of filling memory.
 */
async function publish (input: Readable, url: string, options: { segmentSeconds: number, headers: Record<string, string>, signal: AbortSignal }): Promise<{ segments: number, bytes: number }> {
  const segmenter = new TsSegmenter({ minSeconds: options.segmentSeconds })
  let seq = 0
  let bytes = 0
  const send = async (segment: Uint8Array): Promise<void> => {
    await tricklePublish(url, seq, segment, { signal: options.signal, headers: options.headers })
    seq++
    bytes += segment.byteLength
  }
  for await (const chunk of input) {
    for (const segment of segmenter.push(chunk as Buffer)) await send(segment)
  }
  const last = segmenter.end()
  if (last !== undefined) await send(last)
  return { segments: seq, bytes }
}

/** Writes the stream's output segments to `out` in order until the stream ends (or `count` segments). */
async function subscribe (url: string, out: Writable, options: { from: number, count?: number, headers: Record<string, string>, signal: AbortSignal, onWaiting: () => void }): Promise<{ segments: number, bytes: number }> {
  let segments = 0
  let bytes = 0
  if (options.count === 0) return { segments, bytes }
  // said before the first request: a script can wait for it before it publishes
  options.onWaiting()
  for await (const { data } of trickleSubscribe(url, { from: options.from, signal: options.signal, headers: options.headers, requireChannel: true })) {
    if (!out.write(data)) await new Promise<void>((resolve, reject) => { out.once('drain', resolve); out.once('error', reject) })
    segments++
    bytes += data.byteLength
    if (options.count !== undefined && segments >= options.count) break
  }
  return { segments, bytes }
}

/**
 * `shoal live publish|subscribe`: trickle over HTTP for clients without WebRTC. ffmpeg
 * cannot publish to trickle itself (one HTTP POST per segment, numbered), so it writes
 * MPEG-TS to a pipe and `publish` cuts and posts it; `subscribe` writes the output
 * segments back to back to standard output (one MPEG-TS stream ffmpeg and players read).
 */
export const liveCommand: CommandModule<object, LiveArgs> = {
  ...commandSummary('live'),
  builder: (y) => y
    .positional('action', { choices: ['publish', 'subscribe'] as const, demandOption: true })
    .positional('input', { type: 'string', describe: 'publish: an MPEG-TS file, or - (or nothing) for standard input' })
    .option('gateway', { type: 'string', demandOption: true, describe: 'the gateway\'s HTTP address, e.g. http://127.0.0.1:8935' })
    .option('stream', { type: 'string', demandOption: true, describe: 'the live stream id (started with POST /live/video-to-video/{stream}/start)' })
    .option('api-key', { type: 'string', describe: 'the gateway\'s API key, sent as Authorization: Bearer [env SHOAL_API_KEY]' })
    .option('segment-seconds', { type: 'number', default: 1, describe: 'publish: the shortest segment, cut at the next key frame after it' })
    .option('from', { type: 'number', default: 0, describe: 'subscribe: the first output segment (-1: the live edge)' })
    .option('count', { type: 'number', describe: 'subscribe: stop after this many segments [default: until the stream ends]' }) as never,
  handler: async (args) => {
    const key = args['api-key']
    const headers: Record<string, string> = key === undefined || key === '' ? {} : { authorization: `Bearer ${key}` }
    const controller = new AbortController()
    const onSignal = (): void => { controller.abort(new Error('interrupted')) }
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    try {
      if (args.action === 'publish') {
        // yargs reads a lone `-` as an empty string
        const stdin = args.input === undefined || args.input === '' || args.input === '-'
        if (stdin && process.stdin.isTTY) throw new CliError('CLI_ERROR_USAGE', 'publish reads MPEG-TS from a file, or from a pipe with -: ffmpeg ... -f mpegts - | shoal live publish --gateway URL --stream ID -')
        if (!(args['segment-seconds'] >= 0)) throw new CliError('CLI_ERROR_USAGE', '--segment-seconds must be 0 or more')
        const input = stdin ? process.stdin : createReadStream(args.input as string)
        const done = await publish(input, channelUrl(args.gateway, args.stream, 'in'), { segmentSeconds: args['segment-seconds'], headers, signal: controller.signal })
        process.stderr.write(`published ${done.segments} segments (${done.bytes} bytes) to ${args.stream}\n`)
      } else {
        if (args.count !== undefined && !(Number.isInteger(args.count) && args.count >= 0)) throw new CliError('CLI_ERROR_USAGE', '--count must be a whole number')
        const onWaiting = (): void => { process.stderr.write(`subscribed to ${args.stream}, waiting for ${args.from === -1 ? 'the live edge' : `segment ${args.from}`}\n`) }
        const done = await subscribe(channelUrl(args.gateway, args.stream, 'out'), process.stdout, { from: args.from, ...(args.count === undefined ? {} : { count: args.count }), headers, signal: controller.signal, onWaiting })
        process.stderr.write(`received ${done.segments} segments (${done.bytes} bytes) from ${args.stream}\n`)
      }
    } catch (err) {
      if (err instanceof CliError) throw err
      if (err instanceof MpegTsError) throw new CliError('CLI_ERROR_USAGE', err.message)
      if (err instanceof TrickleError && err.code === 'TRICKLE_ERROR_NOT_FOUND') throw new CliError('CLI_ERROR_RUNTIME', `stream ${args.stream} has no output channel on the gateway: it was never started, or it already ended (${httpFailure(err)})`)
      if (err instanceof TrickleError) throw new CliError('CLI_ERROR_RUNTIME', `the gateway refused: ${httpFailure(err)}`)
      if (controller.signal.aborted) return
      throw new CliError('CLI_ERROR_RUNTIME', `live ${args.action}: ${(err as Error).message}`)
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
}
