import { peerModelKey, type PeerModelKey, type PipelineModel } from '../../kernel/model-key.js'
import type { PipelineName } from '../../kernel/pipelines.js'
import type { Candidate } from './candidate.js'

/** Slots one orchestrator reported for one (pipeline, model) on its `/shoal/ai` connection. */
export interface SlotLoad {
  capacity: number
  inUse: number
}

export interface LiveLoadOptions {
  /** how long a reported load overrides the announced one, ms */
  ttlMs: number
  /** how long an INSUFFICIENT_CAPACITY answer marks the (orchestrator, model) full, ms */
  busyMs: number
  /** bound on the (orchestrator, model) entries kept; the oldest go first */
  maxEntries: number
}

export const defaultLiveLoadOptions: LiveLoadOptions = {
  // reports come with every job on the connection; a few seconds old is still far
  // fresher than an announcement, which will soon carry only a coarse load state
  ttlMs: 5_000,
  // long enough not to ask again at once, short enough that a freed slot is soon used
  busyMs: 500,
  maxEntries: 10_000
}

/** Called when a report shows a free slot, so that requests waiting for one can go. */
export type SlotFreeListener = (peerId: string, pipeline: PipelineName, modelId: string) => void

export interface LiveLoad {
  /** a load report from the orchestrator (on the `/shoal/ai` connection) */
  observe: (peerId: string, pipeline: PipelineName, modelId: string, load: SlotLoad, now: number) => void
  /** the orchestrator answered busy for (pipeline, model): treat it as full for `busyMs` */
  busy: (peerId: string, model: PipelineModel, now: number) => void
  /** the candidate with the freshest load known: a fresh report replaces the announced slots, a busy mark fills them */
  apply: (candidate: Candidate, now: number) => Candidate
  /** listen for reports of a free slot; returns the unsubscribe */
  onSlotFree: (listener: SlotFreeListener) => () => void
}

interface Entry {
  capacity: number
  inUse: number
  /** when the report arrived; -Infinity when there is only a busy mark */
  at: number
  busyUntil: number
}

/**
 * Live slot counts per (orchestrator, model), fresher than gossip: what the
 * orchestrators report on their connections and what busy answers imply. Bounded, and
 * each entry expires by time (`apply` ignores stale ones), so it needs no timer.
 */
export function createLiveLoad (init: Partial<LiveLoadOptions> = {}): LiveLoad {
  const options: LiveLoadOptions = { ...defaultLiveLoadOptions, ...init }
  const entries = new Map<PeerModelKey, Entry>()
  const listeners = new Set<SlotFreeListener>()

  function put (k: PeerModelKey, entry: Entry): void {
    entries.delete(k)
    entries.set(k, entry)
    while (entries.size > options.maxEntries) {
      const oldest = entries.keys().next().value
      if (oldest === undefined) break
      entries.delete(oldest)
    }
  }

  return {
    observe (peerId, pipeline, modelId, load, now) {
      const capacity = Number.isFinite(load.capacity) ? Math.max(0, Math.floor(load.capacity)) : 0
      const inUse = Number.isFinite(load.inUse) ? Math.max(0, Math.floor(load.inUse)) : capacity
      // a report is newer than any busy answer seen before it
      put(peerModelKey(peerId, { pipeline, modelId }), { capacity, inUse, at: now, busyUntil: 0 })
      if (inUse < capacity) {
        for (const listener of listeners) listener(peerId, pipeline, modelId)
      }
    },

    busy (peerId, model, now) {
      const k = peerModelKey(peerId, model)
      const existing = entries.get(k)
      put(k, existing === undefined
        ? { capacity: 0, inUse: 0, at: -Infinity, busyUntil: now + options.busyMs }
        : { ...existing, busyUntil: now + options.busyMs })
    },

    apply (candidate, now) {
      const e = entries.get(peerModelKey(candidate.peerId, candidate))
      if (e === undefined) return candidate
      const fresh = now - e.at <= options.ttlMs
      const capacity = fresh ? e.capacity : candidate.capacity
      if (e.busyUntil > now) return { ...candidate, capacity, inUse: Math.max(capacity, fresh ? e.inUse : candidate.inUse) }
      if (fresh) return { ...candidate, capacity, inUse: e.inUse }
      return candidate
    },

    onSlotFree (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    }
  }
}
