import type { Ticket, TicketDomain } from './ticket.js'

/**
 * pending:  stored, not yet redeemed (waiting for its params to expire, for gas, or for a retry)
 * redeemed: paid on-chain (by us or, for `already used`, by someone else)
 * failed:   the contract refused it for good (not winning, bad signature, ...)
 * expired:  its redeem window closed before it could be redeemed
 */
export type WinnerStatus = 'pending' | 'redeemed' | 'failed' | 'expired'

export const WINNER_STATUSES: readonly WinnerStatus[] = ['pending', 'redeemed', 'failed', 'expired']

/** Everything needed to redeem a winning ticket, without the recipient's secret. */
export interface WinningTicket {
  /** 0x-hex ticket hash (the contract's getTicketHash) */
  ticketHash: string
  ticket: Ticket
  /** 65 bytes */
  signature: Uint8Array
  recipientRand: bigint
  domain: TicketDomain
  /** ms since the epoch */
  receivedAt: number
}

export interface StoredWinner extends WinningTicket {
  status: WinnerStatus
  /** redemption attempts so far */
  attempts: number
  /** ms since the epoch before which the redeemer leaves it alone */
  nextAttemptAt: number
  lastError: string | null
  txHash: string | null
  /** what the chain paid (may be below the face value) */
  paidWei: bigint | null
  updatedAt: number
}

export interface WinnerFilter {
  status?: WinnerStatus
  sender?: string
  /** newest first; default 100 */
  limit?: number
}

export interface StatusSummary { count: number, faceValue: bigint, paidWei: bigint }

/**
 * Durable storage of winning tickets (go-livepeer's TicketStore). Synchronous: the
 * SQLite implementation commits before `addWinner` returns, so a winner is on disk before
 * the job that carried it is acknowledged. Shared compliance tests run against every
 * implementation (test/payments/ticket-store.spec.ts).
 */
export interface TicketStore {
  /** Stores a winner as pending. Idempotent: returns false when that ticket hash is already stored. */
  addWinner: (winner: WinningTicket) => boolean
  /** the stored winner with this hash */
  get: (ticketHash: string) => StoredWinner | undefined
  /** pending winners with nextAttemptAt <= now, lowest expiration block first */
  due: (now: number, limit: number) => StoredWinner[]
  /** records a redemption (status redeemed) */
  markRedeemed: (ticketHash: string, result: { txHash: string | null, paidWei: bigint, at: number }) => void
  /** gives up on a winner: status failed (the contract refused it) or expired (window closed) */
  markFailed: (ticketHash: string, result: { status: 'failed' | 'expired', error: string, at: number }) => void
  /** keeps a winner pending, counts an attempt, and sets when to try again */
  scheduleRetry: (ticketHash: string, result: { error: string, at: number, nextAttemptAt: number, countAttempt: boolean }) => void
  /** sum of the face values of `sender`'s pending winners (for `recipient` when given): its max float shrinks by it */
  pendingFaceValue: (sender: string, recipient?: string) => bigint
  /** stored winners, newest first */
  list: (filter?: WinnerFilter) => StoredWinner[]
  /** counts and sums by status */
  summary: () => Record<WinnerStatus, StatusSummary>
  close: () => void
}

function emptySummary (): Record<WinnerStatus, StatusSummary> {
  return {
    pending: { count: 0, faceValue: 0n, paidWei: 0n },
    redeemed: { count: 0, faceValue: 0n, paidWei: 0n },
    failed: { count: 0, faceValue: 0n, paidWei: 0n },
    expired: { count: 0, faceValue: 0n, paidWei: 0n }
  }
}

export function summarize (winners: Iterable<StoredWinner>): Record<WinnerStatus, StatusSummary> {
  const out = emptySummary()
  for (const w of winners) {
    out[w.status].count++
    out[w.status].faceValue += w.ticket.faceValue
    out[w.status].paidWei += w.paidWei ?? 0n
  }
  return out
}

/** A TicketStore in memory: for tests and for nodes that accept losing winnings on a crash. */
export function createMemoryTicketStore (): TicketStore {
  const winners = new Map<string, StoredWinner>()
  let closed = false
  const open = (): void => { if (closed) throw new Error('ticket store is closed') }
  const update = (hash: string, patch: Partial<StoredWinner>): void => {
    open()
    const w = winners.get(hash)
    if (w === undefined) return
    winners.set(hash, { ...w, ...patch })
  }
  const copy = (w: StoredWinner): StoredWinner => ({ ...w, ticket: { ...w.ticket }, domain: { ...w.domain }, signature: new Uint8Array(w.signature) })

  return {
    addWinner (winner) {
      open()
      if (winners.has(winner.ticketHash)) return false
      winners.set(winner.ticketHash, {
        ...winner,
        ticket: { ...winner.ticket },
        domain: { ...winner.domain },
        signature: new Uint8Array(winner.signature),
        status: 'pending',
        attempts: 0,
        nextAttemptAt: 0,
        lastError: null,
        txHash: null,
        paidWei: null,
        updatedAt: winner.receivedAt
      })
      return true
    },
    get (hash) {
      open()
      const w = winners.get(hash)
      return w === undefined ? undefined : copy(w)
    },
    due (now, limit) {
      open()
      return [...winners.values()]
        .filter(w => w.status === 'pending' && w.nextAttemptAt <= now)
        .sort((a, b) => a.ticket.expirationBlock < b.ticket.expirationBlock ? -1 : a.ticket.expirationBlock > b.ticket.expirationBlock ? 1 : a.receivedAt - b.receivedAt)
        .slice(0, limit)
        .map(copy)
    },
    markRedeemed (hash, r) {
      update(hash, { status: 'redeemed', txHash: r.txHash, paidWei: r.paidWei, updatedAt: r.at, lastError: null })
    },
    markFailed (hash, r) {
      update(hash, { status: r.status, lastError: r.error, updatedAt: r.at })
    },
    scheduleRetry (hash, r) {
      const w = winners.get(hash)
      update(hash, { lastError: r.error, nextAttemptAt: r.nextAttemptAt, updatedAt: r.at, attempts: (w?.attempts ?? 0) + (r.countAttempt ? 1 : 0) })
    },
    pendingFaceValue (sender, recipient) {
      open()
      let sum = 0n
      for (const w of winners.values()) {
        if (w.status === 'pending' && w.ticket.sender === sender && (recipient === undefined || w.ticket.recipient === recipient)) sum += w.ticket.faceValue
      }
      return sum
    },
    list (filter = {}) {
      open()
      return [...winners.values()]
        .filter(w => (filter.status === undefined || w.status === filter.status) && (filter.sender === undefined || w.ticket.sender === filter.sender))
        .sort((a, b) => b.receivedAt - a.receivedAt)
        .slice(0, filter.limit ?? 100)
        .map(copy)
    },
    summary () {
      open()
      return summarize(winners.values())
    },
    close () { closed = true }
  }
}
