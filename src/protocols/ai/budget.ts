import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/**
 * The orchestrator's memory budget for job inputs held in memory: a node-wide total and
 * a per-peer total. A job reserves its whole declared input when its JobHeader arrives,
 * before any of its bytes are accepted, and gives it back when the job ends (Final, or
 * the peer resets or leaves). A header that does not fit is answered at once, so no
 * peer can make the orchestrator hold more than its share.
 */

export interface InputBudgetLimits {
  /** input bytes held at once for all peers together */
  nodeBytes: number
  /** input bytes held at once for one peer (all its streams together) */
  peerBytes: number
  /**
   * after this many input bytes were given back, run a full garbage collection once
   * things settle; 0 never does. Input frames are old-generation buffers by the time a
   * stalled or abandoned upload ends, and V8 collects them only when something else
   * allocates: an orchestrator gone quiet after an attack would keep their memory.
   * @default 64 MiB
   */
  collectAfterBytes?: number
}

/** Wait this long after the last big release before collecting: the stream's teardown may still hold the buffers. */
const COLLECT_DELAY_MS = 500
export const DEFAULT_COLLECT_AFTER_BYTES = 64 * 1024 * 1024

let gcFunction: (() => void) | null | undefined
/** V8's `gc()`, exposed at run time when the process was not started with --expose-gc. */
function fullCollection (): (() => void) | null {
  if (gcFunction === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc
    try {
      if (exposed !== undefined) gcFunction = exposed
      else {
        setFlagsFromString('--expose-gc')
        gcFunction = runInNewContext('gc') as () => void
      }
    } catch {
      gcFunction = null
    }
  }
  return gcFunction
}

/** Why a reservation was refused: the peer's share or the node's total is used up. */
export interface BudgetRefusal {
  scope: 'peer' | 'node'
  /** bytes held now in that scope */
  used: number
  limit: number
}

/** Bytes reserved for one job; `release()` is idempotent. */
export interface BudgetReservation {
  readonly bytes: number
  /** gives the reservation back; `held`: the bytes really buffered (they count toward the next collection) */
  release: (held?: number) => void
}

export class InputBudget {
  private used = 0
  private readonly perPeer = new Map<string, number>()
  private released = 0
  private lastCollect = -Infinity
  private collectTimer: NodeJS.Timeout | undefined

  constructor (readonly limits: InputBudgetLimits) {}

  /** Stops a pending collection (the service stops). */
  close (): void {
    clearTimeout(this.collectTimer)
    this.collectTimer = undefined
  }

  private onRelease (bytes: number): void {
    const threshold = this.limits.collectAfterBytes ?? DEFAULT_COLLECT_AFTER_BYTES
    if (threshold <= 0) return
    this.released += bytes
    if (this.released < threshold) return
    // debounced: a peer leaving ends all its jobs at once, one collection follows
    clearTimeout(this.collectTimer)
    // and never more often than once per delay, whatever peers do
    const wait = Math.max(COLLECT_DELAY_MS, this.lastCollect + COLLECT_DELAY_MS * 4 - performance.now())
    this.collectTimer = setTimeout(() => {
      this.collectTimer = undefined
      this.released = 0
      this.lastCollect = performance.now()
      fullCollection()?.()
    }, wait)
    this.collectTimer.unref()
  }

  /** Input bytes held now, node-wide. */
  get usedBytes (): number {
    return this.used
  }

  /** Input bytes held now for one peer. */
  usedBy (peer: string): number {
    return this.perPeer.get(peer) ?? 0
  }

  /** Reserves `bytes` for `peer`, or says which limit it would pass. */
  reserve (peer: string, bytes: number): BudgetReservation | BudgetRefusal {
    const peerUsed = this.usedBy(peer)
    if (peerUsed + bytes > this.limits.peerBytes) return { scope: 'peer', used: peerUsed, limit: this.limits.peerBytes }
    if (this.used + bytes > this.limits.nodeBytes) return { scope: 'node', used: this.used, limit: this.limits.nodeBytes }
    this.used += bytes
    this.perPeer.set(peer, peerUsed + bytes)
    let released = false
    return {
      bytes,
      release: (held = bytes) => {
        if (released) return
        released = true
        this.used -= bytes
        const left = this.usedBy(peer) - bytes
        if (left <= 0) this.perPeer.delete(peer)
        else this.perPeer.set(peer, left)
        this.onRelease(Math.min(held, bytes))
      }
    }
  }
}

export function isRefusal (r: BudgetReservation | BudgetRefusal): r is BudgetRefusal {
  return 'scope' in r
}
