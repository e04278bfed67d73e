/**
 * The request load of a scenario: open loop (requests leave at even intervals whatever
 * the answers, so an outage shows as failures, not as a slower sender), a weighted mix
 * of pipelines chosen by a seeded generator (the same file sends the same sequence), and
 * one record per request with what the gateway's headers say happened.
 */
import sharp from 'sharp'
import { pipelineDefinition } from '../../kernel/pipelines.js'
import type { LoadPipeline, Scenario } from './schema.js'
import { seededRandom } from '../../cpu-runner/models/seeded-random.js'

export interface RequestRecord {
  /** ms after the load started: when it was due, sent and answered */
  due: number
  start: number
  end: number
  pipeline: LoadPipeline
  /** HTTP status; 0: no answer (timeout, connection failure, or not sent: too many in flight) */
  status: number
  /** the orchestrator that served it (X-Shoal-Orchestrator) */
  orchestrator: string | null
  /** X-Shoal-Attempts (0 when unknown) */
  attempts: number
  /** X-Shoal-Tried: `peer;outcome;ms[;code]` per attempt */
  tried: string
  error?: string
}

type Init = () => RequestInit

async function requestInits (mix: Scenario['load']['mix']): Promise<Map<string, Init>> {
  const png = await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 40, g: 120, b: 200 } } }).png().toBuffer()
  const inits = new Map<string, Init>()
  for (const { pipeline, model } of mix) {
    const field = pipelineDefinition(pipeline).modelField
    const json = (body: Record<string, unknown>): Init => () => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, [field]: model }) })
    switch (pipeline) {
      case 'text-to-image': inits.set(`${pipeline}\n${model}`, json({ prompt: 'a scenario request', width: 64, height: 64 })); break
      case 'llm': inits.set(`${pipeline}\n${model}`, json({ messages: [{ role: 'user', content: 'hello' }], max_tokens: 8 })); break
      case 'text-to-speech': inits.set(`${pipeline}\n${model}`, json({ text: 'hello from a scenario' })); break
      case 'upscale':
      case 'image-to-image':
        inits.set(`${pipeline}\n${model}`, () => {
          const form = new FormData()
          form.set('prompt', 'a scenario request')
          form.set(field, model)
          form.set('image', new Blob([png], { type: 'image/png' }), 'in.png')
          return { method: 'POST', body: form }
        })
        break
    }
  }
  return inits
}

export interface LoadRun {
  records: RequestRecord[]
  /** resolves when every request sent has been answered or timed out */
  done: Promise<RequestRecord[]>
  /** stops sending (requests in flight finish) */
  stop: () => void
}

/**
 * Sends `load.rate` requests a second for `load.durationS` to `gatewayUrl`, counted from
 * `startedAt` (Date.now() of the load's start; events use the same clock).
 */
export async function startLoad (gatewayUrl: string, load: Scenario['load'], startedAt: number, options: { seed?: number, onRecord?: (r: RequestRecord) => void } = {}): Promise<LoadRun> {
  const inits = await requestInits(load.mix)
  const random = seededRandom(options.seed ?? 1)
  const totalWeight = load.mix.reduce((s, m) => s + m.weight, 0)
  const pick = (): Scenario['load']['mix'][number] => {
    let x = random() * totalWeight
    for (const m of load.mix) { x -= m.weight; if (x < 0) return m }
    return load.mix[load.mix.length - 1]
  }
  const total = Math.floor(load.rate * load.durationS)
  const records: RequestRecord[] = []
  const inFlight = new Set<Promise<void>>()
  let next = 0
  let stopped = false
  const done = Promise.withResolvers<RequestRecord[]>()

  const send = (due: number): void => {
    const m = pick()
    const start = Date.now() - startedAt
    const base = { due, start, pipeline: m.pipeline }
    const finish = (r: RequestRecord): void => { records.push(r); options.onRecord?.(r) }
    if (inFlight.size >= load.maxInFlight) {
      finish({ ...base, end: start, status: 0, orchestrator: null, attempts: 0, tried: '', error: 'not sent: too many in flight' })
      return
    }
    const p = (async () => {
      try {
        const res = await fetch(`${gatewayUrl}/${m.pipeline}`, { ...(inits.get(`${m.pipeline}\n${m.model}`) as Init)(), signal: AbortSignal.timeout(load.timeoutMs) })
        await res.arrayBuffer()
        finish({
          ...base,
          end: Date.now() - startedAt,
          status: res.status,
          orchestrator: res.headers.get('x-shoal-orchestrator'),
          attempts: Number(res.headers.get('x-shoal-attempts') ?? 0) || 0,
          tried: res.headers.get('x-shoal-tried') ?? ''
        })
      } catch (err) {
        const name = (err as Error).name
        finish({ ...base, end: Date.now() - startedAt, status: 0, orchestrator: null, attempts: 0, tried: '', error: name === 'TimeoutError' ? 'client timeout' : (err as Error).message })
      }
    })()
    inFlight.add(p)
    void p.finally(() => {
      inFlight.delete(p)
      if ((stopped || next >= total) && inFlight.size === 0) done.resolve(records)
    })
  }

  const tick = (): void => {
    if (stopped) return
    const now = Date.now() - startedAt
    while (next < total && next * 1000 / load.rate <= now) send(Math.round(next++ * 1000 / load.rate))
    if (next >= total) {
      if (inFlight.size === 0) done.resolve(records)
      return
    }
    // wake for the next due request, at most 20 ms late
    setTimeout(tick, Math.max(1, Math.min(20, next * 1000 / load.rate - now)))
  }
  setTimeout(tick, Math.max(0, startedAt - Date.now()))
  return {
    records,
    done: done.promise,
    stop: () => {
      stopped = true
      if (inFlight.size === 0) done.resolve(records)
    }
  }
}
