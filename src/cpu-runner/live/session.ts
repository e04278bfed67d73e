/**
 * One live video session of the CPU runner, driven by the four trickle channels the
 * orchestrator gave (`POST /live-video-to-video`): input segments from `subscribe_url`,
 * each decoded, every frame through the model, encoded and published to `publish_url`
 * under the next seq; params from `control_url`; status events to `events_url` every few
 * seconds (state, input fps, inference fps, last params, restarts), as the reference's.
 */
import type { Logger } from '../../observability/logger.js'
import type { JsonValue } from '../../kernel/job.js'
import { trickleClose, tricklePublish, trickleSubscribe } from '../../protocols/live/trickle/client.js'
import { ModelInputError } from '../errors.js'
import { composite, parseColour, type Matte } from './matte.js'
import { decodeSegment, encodeSegment } from './segment-codec.js'

/** The reference's runner states. */
export type LiveRunnerState = 'LOADING' | 'ONLINE' | 'OFFLINE' | 'DEGRADED_INPUT' | 'DEGRADED_INFERENCE' | 'ERROR'

export interface LiveSessionOptions {
  ffmpeg: string
  matte: Matte
  subscribeUrl: string
  publishUrl: string
  controlUrl: string
  eventsUrl: string
  params: Record<string, JsonValue>
  streamId: string
  logger: Logger
  /** how often a status event is published @default 2000 */
  eventIntervalMs?: number
}

export interface LiveRunnerSession {
  readonly streamId: string
  /** resolves when the session has ended (input closed, or stopped) */
  readonly done: Promise<void>
  stop: () => Promise<void>
}

const DEFAULT_BACKGROUND: [number, number, number] = [0, 177, 64]

export function startLiveSession (options: LiveSessionOptions): LiveRunnerSession {
  const { ffmpeg, matte, logger } = options
  const log = logger.child({ stream: options.streamId })
  const controller = new AbortController()
  const signal = controller.signal
  let params: Record<string, JsonValue> = options.params
  let state: LiveRunnerState = 'LOADING'
  let restarts = 0
  let lastError: string | null = null
  let outSeq = 0
  let eventSeq = 0
  let framesIn = 0
  let framesOut = 0
  let inferenceMs = 0
  let segmentsIn = 0
  let window = { at: performance.now(), framesIn: 0, framesOut: 0, inferenceMs: 0 }
  let lastOutputAt = 0
  let startSeconds = 0
  let size = { width: 0, height: 0 }

  function status (): Record<string, JsonValue> {
    const now = performance.now()
    const seconds = Math.max(0.001, (now - window.at) / 1000)
    const inFps = (framesIn - window.framesIn) / seconds
    const framesRun = framesOut - window.framesOut
    const msRun = inferenceMs - window.inferenceMs
    const inferenceFps = msRun > 0 ? framesRun / (msRun / 1000) : 0
    window = { at: now, framesIn, framesOut, inferenceMs }
    return {
      type: 'status',
      stream_id: options.streamId,
      state,
      input_fps: Math.round(inFps * 100) / 100,
      output_fps: Math.round((framesRun / seconds) * 100) / 100,
      inference_fps: Math.round(inferenceFps * 100) / 100,
      last_params: params,
      restart_count: restarts,
      last_error: lastError,
      segments_in: segmentsIn,
      segments_out: outSeq,
      frames_in: framesIn,
      frames_out: framesOut,
      width: size.width,
      height: size.height,
      timestamp: Date.now()
    }
  }

  async function publishEvent (event: Record<string, JsonValue>): Promise<void> {
    if (options.eventsUrl === '') return
    try {
      await tricklePublish(options.eventsUrl, eventSeq++, Buffer.from(JSON.stringify(event)), { signal, contentType: 'application/json' })
    } catch (err) {
      if (!signal.aborted) log.debug({ err: (err as Error).message }, 'status event not published')
    }
  }

  const ticker = setInterval(() => {
    // input stalled for a while: the reference reports degraded input
    if (state === 'ONLINE' && performance.now() - lastOutputAt > 5_000) state = 'DEGRADED_INPUT'
    void publishEvent(status())
  }, options.eventIntervalMs ?? 2_000)

  async function controlLoop (): Promise<void> {
    if (options.controlUrl === '') return
    try {
      for await (const { data } of trickleSubscribe(options.controlUrl, { from: 0, signal })) {
        try {
          const parsed = JSON.parse(Buffer.from(data).toString('utf8')) as unknown
          if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
            params = parsed as Record<string, JsonValue>
            log.info({ params }, 'params updated')
            void publishEvent({ type: 'params_updated', stream_id: options.streamId, params, timestamp: Date.now() })
          }
        } catch {
          void publishEvent({ type: 'error', stream_id: options.streamId, message: 'control message is not a JSON object', timestamp: Date.now() })
        }
      }
    } catch (err) {
      if (!signal.aborted) log.info({ err: (err as Error).message }, 'control channel ended')
    }
  }

  async function processSegment (data: Uint8Array): Promise<void> {
    const decoded = await decodeSegment(ffmpeg, data, signal)
    segmentsIn++
    framesIn += decoded.frames.length
    size = { width: decoded.width, height: decoded.height }
    const colour = parseColour(params.background) ?? DEFAULT_BACKGROUND
    const out: Uint8Array[] = []
    const started = performance.now()
    for (const frame of decoded.frames) {
      signal.throwIfAborted()
      const alpha = await matte.alpha(frame, decoded.width, decoded.height)
      out.push(composite(frame, alpha, colour))
      // the model runs in this thread: let health checks and the channels' HTTP in between frames
      await new Promise<void>(resolve => { setImmediate(resolve) })
    }
    inferenceMs += performance.now() - started
    const encoded = await encodeSegment(ffmpeg, out, decoded.width, decoded.height, decoded.fps, startSeconds, signal)
    startSeconds += out.length / decoded.fps
    await tricklePublish(options.publishUrl, outSeq, encoded, { signal })
    outSeq++
    framesOut += out.length
    lastOutputAt = performance.now()
    state = 'ONLINE'
  }

  async function mainLoop (): Promise<void> {
    try {
      // from the channel's first segment: one published before we subscribed is not skipped
      for await (const { seq, data } of trickleSubscribe(options.subscribeUrl, { from: 0, signal })) {
        try {
          await processSegment(data)
        } catch (err) {
          if (signal.aborted) break
          lastError = (err as Error).message
          if (err instanceof ModelInputError) {
            state = 'DEGRADED_INPUT'
            log.info({ seq, err: lastError }, 'input segment refused')
            await publishEvent({ type: 'error', stream_id: options.streamId, seq, message: lastError, timestamp: Date.now() })
          } else {
            restarts++
            state = 'DEGRADED_INFERENCE'
            log.warn({ seq, err: lastError }, 'segment failed; continuing with the next')
            await publishEvent({ type: 'error', stream_id: options.streamId, seq, message: lastError, timestamp: Date.now() })
          }
        }
      }
    } catch (err) {
      if (!signal.aborted) {
        state = 'ERROR'
        lastError = (err as Error).message
        log.warn({ err: lastError }, 'input channel failed')
      }
    }
  }

  const done = (async () => {
    void publishEvent(status())
    const control = controlLoop()
    await mainLoop()
    clearInterval(ticker)
    if ((state as LiveRunnerState) !== 'ERROR') state = 'OFFLINE'
    const last = status()
    controller.abort(new Error('session ended'))
    await control
    // the last event and the end of output, outside the aborted signal
    try { await tricklePublish(options.eventsUrl, eventSeq++, Buffer.from(JSON.stringify(last)), { contentType: 'application/json' }) } catch {}
    await trickleClose(options.publishUrl)
    log.info({ segmentsIn, framesOut }, 'live session ended')
  })()

  return {
    streamId: options.streamId,
    done,
    stop: async () => {
      controller.abort(new Error('session stopped'))
      await done
    }
  }
}
