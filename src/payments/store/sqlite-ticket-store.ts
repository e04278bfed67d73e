import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs'
import { dirname, join } from 'node:path'
import Database from 'better-sqlite3'
import { bytesToHex, hexToBytes } from '../hex.js'
import { WINNER_STATUSES, type StatusSummary, type StoredWinner, type TicketStore, type WinnerStatus } from '../ticket-store.js'

/** Where a node keeps its winning tickets, relative to its data dir. */
export function ticketStorePath (dataDir: string): string {
  return join(dataDir, 'payments', 'tickets.sqlite')
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS winning_tickets (
  ticket_hash         TEXT PRIMARY KEY,
  recipient           TEXT NOT NULL,
  sender              TEXT NOT NULL,
  face_value          TEXT NOT NULL,
  win_prob            TEXT NOT NULL,
  sender_nonce        TEXT NOT NULL,
  recipient_rand_hash TEXT NOT NULL,
  expiration_block    TEXT NOT NULL,
  expiration_order    INTEGER NOT NULL,
  signature           TEXT NOT NULL,
  recipient_rand      TEXT NOT NULL,
  chain_id            TEXT NOT NULL,
  broker              TEXT NOT NULL,
  received_at         INTEGER NOT NULL,
  status              TEXT NOT NULL DEFAULT 'pending',
  attempts            INTEGER NOT NULL DEFAULT 0,
  next_attempt_at     INTEGER NOT NULL DEFAULT 0,
  last_error          TEXT,
  tx_hash             TEXT,
  paid_wei            TEXT,
  updated_at          INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS winning_tickets_due ON winning_tickets (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS winning_tickets_sender ON winning_tickets (sender, status);
`

interface Row {
  ticket_hash: string
  recipient: string
  sender: string
  face_value: string
  win_prob: string
  sender_nonce: string
  recipient_rand_hash: string
  expiration_block: string
  signature: string
  recipient_rand: string
  chain_id: string
  broker: string
  received_at: number
  status: WinnerStatus
  attempts: number
  next_attempt_at: number
  last_error: string | null
  tx_hash: string | null
  paid_wei: string | null
  updated_at: number
}

function fromRow (r: Row): StoredWinner {
  return {
    ticketHash: r.ticket_hash,
    ticket: {
      recipient: r.recipient,
      sender: r.sender,
      faceValue: BigInt(r.face_value),
      winProb: BigInt(r.win_prob),
      senderNonce: BigInt(r.sender_nonce),
      recipientRandHash: r.recipient_rand_hash,
      expirationBlock: BigInt(r.expiration_block)
    },
    signature: hexToBytes(r.signature),
    recipientRand: BigInt(r.recipient_rand),
    domain: { chainId: BigInt(r.chain_id), broker: r.broker },
    receivedAt: r.received_at,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    txHash: r.tx_hash,
    paidWei: r.paid_wei === null ? null : BigInt(r.paid_wei),
    updatedAt: r.updated_at
  }
}

/** Past 2^53 the ordering column saturates; the exact block is kept as text. */
function orderOf (block: bigint): number {
  return block > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(block)
}

/**
 * The durable TicketStore: one SQLite file (better-sqlite3, WAL, synchronous=FULL), so a
 * winner is on disk when `addWinner` returns, and a restarted node finds every pending
 * winner again. Bigints are stored as decimal text, bytes as 0x-hex.
 */
export function createSqliteTicketStore (path: string): TicketStore {
  if (path !== ':memory:') {
    // winning tickets are money: the file (and the -wal/-shm files SQLite creates with its mode) is 0600
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    closeSync(openSync(path, 'a', 0o600))
    chmodSync(path, 0o600)
  }
  const db = new Database(path, { timeout: 5000 })
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.exec(SCHEMA)

  const insert = db.prepare(`INSERT OR IGNORE INTO winning_tickets (
    ticket_hash, recipient, sender, face_value, win_prob, sender_nonce, recipient_rand_hash, expiration_block,
    expiration_order, signature, recipient_rand, chain_id, broker, received_at, updated_at
  ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  const getOne = db.prepare<Row>('SELECT * FROM winning_tickets WHERE ticket_hash = ?')
  const dueRows = db.prepare<Row>(`SELECT * FROM winning_tickets WHERE status = 'pending' AND next_attempt_at <= ?
    ORDER BY expiration_order ASC, received_at ASC LIMIT ?`)
  const setRedeemed = db.prepare(`UPDATE winning_tickets SET status = 'redeemed', tx_hash = ?, paid_wei = ?, updated_at = ?, last_error = NULL
    WHERE ticket_hash = ?`)
  const setFailed = db.prepare('UPDATE winning_tickets SET status = ?, last_error = ?, updated_at = ? WHERE ticket_hash = ?')
  const setRetry = db.prepare(`UPDATE winning_tickets SET last_error = ?, next_attempt_at = ?, updated_at = ?, attempts = attempts + ?
    WHERE ticket_hash = ?`)
  const pendingOfSender = db.prepare<{ face_value: string, recipient: string }>(
    "SELECT face_value, recipient FROM winning_tickets WHERE sender = ? AND status = 'pending'")
  const all = db.prepare<{ status: WinnerStatus, face_value: string, paid_wei: string | null }>('SELECT status, face_value, paid_wei FROM winning_tickets')

  return {
    addWinner (w) {
      const t = w.ticket
      const res = insert.run(
        w.ticketHash, t.recipient, t.sender, t.faceValue.toString(), t.winProb.toString(), t.senderNonce.toString(),
        t.recipientRandHash, t.expirationBlock.toString(), orderOf(t.expirationBlock), bytesToHex(w.signature),
        w.recipientRand.toString(), w.domain.chainId.toString(), w.domain.broker, w.receivedAt, w.receivedAt
      )
      return res.changes === 1
    },
    get (hash) {
      const row = getOne.get(hash)
      return row === undefined ? undefined : fromRow(row)
    },
    due (now, limit) {
      return dueRows.all(now, limit).map(fromRow)
    },
    markRedeemed (hash, r) {
      setRedeemed.run(r.txHash, r.paidWei.toString(), r.at, hash)
    },
    markFailed (hash, r) {
      setFailed.run(r.status, r.error, r.at, hash)
    },
    scheduleRetry (hash, r) {
      setRetry.run(r.error, r.nextAttemptAt, r.at, r.countAttempt ? 1 : 0, hash)
    },
    pendingFaceValue (sender, recipient) {
      let sum = 0n
      for (const row of pendingOfSender.all(sender)) {
        if (recipient === undefined || row.recipient === recipient) sum += BigInt(row.face_value)
      }
      return sum
    },
    list (filter = {}) {
      const where: string[] = []
      const params: unknown[] = []
      if (filter.status !== undefined) { where.push('status = ?'); params.push(filter.status) }
      if (filter.sender !== undefined) { where.push('sender = ?'); params.push(filter.sender) }
      const sql = `SELECT * FROM winning_tickets ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY received_at DESC LIMIT ?`
      return db.prepare<Row>(sql).all(...params, filter.limit ?? 100).map(fromRow)
    },
    summary () {
      const out = Object.fromEntries(WINNER_STATUSES.map(s => [s, { count: 0, faceValue: 0n, paidWei: 0n }])) as Record<WinnerStatus, StatusSummary>
      for (const row of all.all()) {
        const s = out[row.status]
        if (s === undefined) continue
        s.count++
        s.faceValue += BigInt(row.face_value)
        s.paidWei += row.paid_wei === null ? 0n : BigInt(row.paid_wei)
      }
      return out
    },
    close () {
      if (db.open) db.close()
    }
  }
}
