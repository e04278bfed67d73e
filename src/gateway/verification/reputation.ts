/** What spot checks have shown about one orchestrator. */
export interface ReputationEntry {
  /** checks its answer passed (as the job's orchestrator, checker or referee) */
  agreements: number
  /** checks it lost against a referee: a wrong answer, confirmed */
  faults: number
  /** epoch ms until which it gets no work; 0 when not excluded */
  excludedUntil: number
}

export interface Reputation {
  agree: (peerId: string) => void
  /** a confirmed wrong answer; returns true when this fault excludes it */
  fault: (peerId: string, now?: number) => boolean
  /**
   * 0..1, a factor of selection weight: 0 while excluded, else (a + 1) / (a + 1 + 4f) for
   * a agreements and f faults (a fault outweighs several passed checks)
   */
  score: (peerId: string, now?: number) => number
  excluded: (peerId: string, now?: number) => boolean
  get: (peerId: string) => ReputationEntry | undefined
  readonly size: number
}

export interface ReputationInit {
  excludeAfterFaults: number
  exclusionMs: number
  /** entries kept; the least recently changed go first @default 100_000 */
  maxEntries?: number
}

const FAULT_WEIGHT = 4

export function createReputation (init: ReputationInit): Reputation {
  const entries = new Map<string, ReputationEntry>()
  const maxEntries = init.maxEntries ?? 100_000
  function touch (peerId: string): ReputationEntry {
    let e = entries.get(peerId)
    if (e !== undefined) entries.delete(peerId)
    e ??= { agreements: 0, faults: 0, excludedUntil: 0 }
    entries.set(peerId, e)
    while (entries.size > maxEntries) {
      const oldest = entries.keys().next().value
      if (oldest === undefined) break
      entries.delete(oldest)
    }
    return e
  }
  const excluded = (peerId: string, now = Date.now()): boolean => (entries.get(peerId)?.excludedUntil ?? 0) > now
  return {
    agree (peerId) { touch(peerId).agreements++ },
    fault (peerId, now = Date.now()) {
      const e = touch(peerId)
      e.faults++
      if (e.faults >= init.excludeAfterFaults && e.excludedUntil <= now) {
        e.excludedUntil = now + init.exclusionMs
        return true
      }
      return false
    },
    score (peerId, now = Date.now()) {
      const e = entries.get(peerId)
      if (e === undefined) return 1
      if (e.excludedUntil > now) return 0
      return (e.agreements + 1) / (e.agreements + 1 + FAULT_WEIGHT * e.faults)
    },
    excluded,
    get: (peerId) => { const e = entries.get(peerId); return e === undefined ? undefined : { ...e } },
    get size () { return entries.size }
  }
}
