import type { LiveSessionMedia } from '../../../../src/gateway/live/media.js'

export interface LoopbackMedia extends LiveSessionMedia {
  /** every input segment taken, in order */
  readonly inputs: Uint8Array[]
  /** subscribers reading the output now */
  readonly subscribers: () => number
  /** ends the session: publishInput rejects, subscriptions end */
  end: () => void
}

/**
 * A live session whose output is its input: each segment published is handed, as is, to
 * every subscriber (a real loopback, so what a WHEP viewer plays is what WHIP ingested).
 * `publishInput` resolves once the segment is handed on, after `delayMs` when given.
 */
export function createLoopbackMedia (streamId: string, opts: { delayMs?: number, maxKept?: number } = {}): LoopbackMedia {
  const inputs: Uint8Array[] = []
  const waiting = new Set<{ items: Uint8Array[], wake: () => void }>()
  let ended = false
  const maxKept = opts.maxKept ?? 200
  return {
    streamId,
    inputs,
    subscribers: () => waiting.size,
    end () {
      ended = true
      for (const w of waiting) w.wake()
    },
    async publishInput (segment, signal) {
      if (ended) throw new Error('session ended')
      signal?.throwIfAborted()
      if (opts.delayMs !== undefined) await new Promise(resolve => setTimeout(resolve, opts.delayMs))
      if (inputs.length < maxKept) inputs.push(segment)
      for (const w of waiting) { w.items.push(segment); w.wake() }
    },
    async * subscribeOutput (signal) {
      const me = { items: [] as Uint8Array[], wake: () => {} }
      waiting.add(me)
      const onAbort = (): void => { me.wake() }
      signal?.addEventListener('abort', onAbort)
      try {
        while (!ended && signal?.aborted !== true) {
          const next = me.items.shift()
          if (next !== undefined) { yield next; continue }
          await new Promise<void>(resolve => { me.wake = resolve })
        }
      } finally {
        waiting.delete(me)
        signal?.removeEventListener('abort', onAbort)
      }
    }
  }
}
