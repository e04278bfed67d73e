import type { InferenceJob, RunnerResponse } from '../../../src/kernel/job.js'
import type { SendJob, SendOptions } from '../../../src/gateway/dispatch/dispatcher.js'
export { waitFor } from '../../helpers/wait-for.js'

export const upscaleJob: InferenceJob = { pipeline: 'upscale', modelId: 'esrgan-slim', params: { prompt: 'x' }, inputs: [] }

export function ok (text = 'ok', status = 200): RunnerResponse {
  return {
    status,
    contentType: 'application/json',
    body: (async function * () { yield new TextEncoder().encode(JSON.stringify({ text })) })()
  }
}

/** How one fake orchestrator answers: after `ms` real milliseconds, or never ('hang'). */
export type FakeBehaviour = (call: number, options: SendOptions) => { ms: number | 'hang', result?: RunnerResponse | Error }

export interface FakeCall {
  peerId: string
  options: SendOptions
  /** Date.now() when it was sent */
  at: number
  /** why its signal aborted, once it has */
  abortReason?: unknown
}

/**
 * Fake orchestrators on the real clock. An attempt that has not answered rejects with
 * its signal's reason when the signal aborts, like the /shoal/ai client; with
 * `ignoreSignal` it never settles at all, to show the dispatcher needs no help.
 */
export function fakeSend (behaviours: Record<string, FakeBehaviour>, init: { ignoreSignal?: boolean } = {}): { send: SendJob, calls: FakeCall[] } {
  const calls: FakeCall[] = []
  const perPeer = new Map<string, number>()
  const send: SendJob = async (peerId, _job, options) => {
    const call: FakeCall = { peerId, options, at: Date.now() }
    calls.push(call)
    const n = (perPeer.get(peerId) ?? 0) + 1
    perPeer.set(peerId, n)
    const behaviour = behaviours[peerId]
    if (behaviour === undefined) throw new Error(`no behaviour for ${peerId}`)
    const { ms, result } = behaviour(n, options)
    return await new Promise<RunnerResponse>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined
      const onAbort = (): void => {
        call.abortReason = options.signal.reason
        if (init.ignoreSignal === true) return
        clearTimeout(timer)
        reject(options.signal.reason)
      }
      options.signal.addEventListener('abort', onAbort, { once: true })
      if (ms === 'hang') return
      timer = setTimeout(() => {
        options.signal.removeEventListener('abort', onAbort)
        if (result instanceof Error) reject(result)
        else resolve(result ?? ok(peerId))
      }, ms)
    })
  }
  return { send, calls }
}
