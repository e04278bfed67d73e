import type { Attempt } from '../dispatch/errors.js'

/** One request as the dashboard shows it: what ran where, how it went. Never its inputs. */
export interface RecentRequest {
  requestId: string
  pipeline: string
  modelId: string
  /** epoch ms when the dispatch started */
  startedAt: number
  /** ms until the answer started (or the dispatch gave up); undefined while in flight */
  durationMs?: number
  /** the runner's status, or the status the error is answered with; undefined while in flight */
  status?: number
  /** the gateway error code of a failed request */
  errorCode?: string
  orchestrator?: string
  attempts: Array<{ peerId: string, outcome: string, ms: number, errorCode?: string }>
}

export interface RecentRequests {
  /** records a dispatch starting; the returned function records its end */
  start: (request: Pick<RecentRequest, 'requestId' | 'pipeline' | 'modelId'>) => (end: { status: number, errorCode?: string, orchestrator?: string, attempts: Attempt[] }) => void
  /** newest first */
  list: () => RecentRequest[]
}

/**
 * The last `capacity` requests in a ring buffer: bounded memory whatever the traffic.
 * A request is listed from the moment it is dispatched, and completed in place.
 */
export function createRecentRequests (capacity = 100, now: () => number = Date.now): RecentRequests {
  const ring: Array<RecentRequest | undefined> = new Array(Math.max(1, capacity))
  let next = 0
  return {
    start (request) {
      const entry: RecentRequest = { ...request, startedAt: now(), attempts: [] }
      ring[next] = entry
      next = (next + 1) % ring.length
      return (end) => {
        entry.durationMs = now() - entry.startedAt
        entry.status = end.status
        if (end.errorCode !== undefined) entry.errorCode = end.errorCode
        if (end.orchestrator !== undefined) entry.orchestrator = end.orchestrator
        entry.attempts = end.attempts.map(a => ({ peerId: a.peerId, outcome: a.outcome, ms: Math.round(a.ms), ...(a.errorCode !== undefined ? { errorCode: a.errorCode } : {}) }))
      }
    },
    list () {
      const out: RecentRequest[] = []
      for (let i = 1; i <= ring.length; i++) {
        const entry = ring[(next - i + ring.length) % ring.length]
        if (entry !== undefined) out.push({ ...entry, attempts: [...entry.attempts] })
      }
      return out
    }
  }
}
