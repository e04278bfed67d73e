import type { RunnerResponse } from '../../kernel/job.js'
import type { Receipt } from '../../trust/receipts/index.js'

/**
 * A runner answer that will be followed by the orchestrator's signed receipt: `receipt`
 * settles once the body has been read to its end (undefined when none came; it never
 * rejects). The `/shoal/ai` client checked it against the peer dialed, the job sent
 * and the bytes received before it resolves.
 */
export interface AttestedResponse extends RunnerResponse {
  receipt: Promise<Receipt | undefined>
}

export function isAttested (response: RunnerResponse): response is AttestedResponse {
  return (response as Partial<AttestedResponse>).receipt instanceof Promise
}

export interface ReceiptStore {
  /** keeps a receipt under its request id, or under `requestId` (a check job's under the job it checks) */
  add: (receipt: Receipt, requestId?: string) => void
  get: (requestId: string) => Receipt[]
  /** newest first */
  recent: (limit: number) => Receipt[]
  readonly size: number
}

/**
 * The gateway's recent receipts, by request id (a spot-checked request has two: the
 * job's and the check's). Bounded: the oldest request goes first.
 */
export function createReceiptStore (maxRequests = 10_000): ReceiptStore {
  const byRequest = new Map<string, Receipt[]>()
  return {
    add (receipt, requestId = receipt.requestId) {
      const list = byRequest.get(requestId)
      if (list !== undefined) { list.push(receipt); return }
      byRequest.set(requestId, [receipt])
      while (byRequest.size > maxRequests) {
        const oldest = byRequest.keys().next().value
        if (oldest === undefined) break
        byRequest.delete(oldest)
      }
    },
    get: (requestId) => byRequest.get(requestId) ?? [],
    recent (limit) {
      const out: Receipt[] = []
      const lists = [...byRequest.values()]
      for (let i = lists.length - 1; i >= 0 && out.length < limit; i--) out.push(...(lists[i] ?? []))
      return out.slice(0, limit)
    },
    get size () { return byRequest.size }
  }
}
