/**
 * The timing of a scenario's events: each starts at its own time, whatever the others do
 * (a restart takes about 20 s and must not push back a partition planned 5 s later), but
 * events that act on the same thing run one after another, in the file's order: a kill
 * then a restart of one node never overlap, and a heal waits for a partition still being
 * put in place. What an event acts on is its keys (its nodes, and the lab's partition
 * rules for partition and heal). Each run records when it was planned, started and ended.
 */
import type { ScenarioEvent } from './schema.js'

/** The partition rules of the lab: every partition adds to them and heal removes them all. */
const PARTITION_RULES = 'partition-rules'

/** What an event acts on: events sharing a key are serialized. */
export function eventKeys (event: ScenarioEvent): string[] {
  const nodes = 'nodes' in event ? event.nodes.map(n => `node:${n}`) : []
  return event.action === 'partition' || event.action === 'heal' ? [...nodes, PARTITION_RULES] : nodes
}

export interface EventRun<E> {
  event: E
  /** its index in the plan */
  index: number
  /** ms after the start of the clock: when it was planned, when it started (planned, or later behind an earlier event on the same keys) and ended */
  scheduledAtMs: number
  startedAtMs: number
  finishedAtMs: number
  detail: string
  error?: string
}

export interface PlannedEvent<E> { event: E, atMs: number, keys: readonly string[] }

export interface EventSchedule<E> {
  /** every event that started, once all of them have ended, in the plan's order */
  done: Promise<Array<EventRun<E>>>
  /** events not started yet never start (those running finish); `done` then resolves with those that ran */
  cancel: () => void
}

/**
 * Starts each event at `atMs` after `startedAt` (Date.now() ms), or when the events
 * before it in the plan that share one of its keys have ended, if later. `apply` returns
 * a one-line detail; a failure is recorded, not thrown, and does not hold back the rest.
 */
export function scheduleEvents<E> (plan: ReadonlyArray<PlannedEvent<E>>, startedAt: number, apply: (event: E) => Promise<string>, onRun?: (run: EventRun<E>) => void): EventSchedule<E> {
  let cancelled = false
  const wakers = new Set<() => void>()
  const elapsed = (): number => Date.now() - startedAt
  const atTime = async (atMs: number): Promise<void> => {
    const wait = startedAt + atMs - Date.now()
    if (wait <= 0 || cancelled) return
    await new Promise<void>(resolve => {
      const wake = (): void => { clearTimeout(timer); wakers.delete(wake); resolve() }
      const timer = setTimeout(wake, wait)
      wakers.add(wake)
    })
  }
  // the last event on each key, as the plan is walked: the chain of each key is fixed
  // here, in the plan's order, not by which timer fires first
  const tails = new Map<string, Promise<unknown>>()
  const runs = plan.map(({ event, atMs, keys }, index): Promise<EventRun<E> | undefined> => {
    const before = keys.map(k => tails.get(k)).filter((p): p is Promise<unknown> => p !== undefined)
    const run = (async (): Promise<EventRun<E> | undefined> => {
      await Promise.all([atTime(atMs), ...before])
      if (cancelled) return undefined
      const startedAtMs = elapsed()
      let detail = ''
      let error: string | undefined
      try {
        detail = await apply(event)
      } catch (err) {
        error = (err as Error).message
      }
      const result: EventRun<E> = { event, index, scheduledAtMs: atMs, startedAtMs, finishedAtMs: elapsed(), detail, ...(error === undefined ? {} : { error }) }
      onRun?.(result)
      return result
    })()
    for (const k of keys) tails.set(k, run)
    return run
  })
  return {
    done: Promise.all(runs).then(all => all.filter((r): r is EventRun<E> => r !== undefined)),
    cancel: () => {
      cancelled = true
      for (const wake of [...wakers]) wake()
    }
  }
}
