import { expect } from 'chai'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSqliteTicketStore, ticketStorePath } from '../../src/payments/store/sqlite-ticket-store.js'
import { createMemoryTicketStore, type TicketStore, type WinningTicket } from '../../src/payments/ticket-store.js'

const SENDER = '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266'
const OTHER = '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc'
const RECIPIENT = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8'

function winner (i: number, over: Partial<WinningTicket['ticket']> = {}, receivedAt = 1000 + i): WinningTicket {
  return {
    ticketHash: `0x${i.toString(16).padStart(64, '0')}`,
    ticket: {
      recipient: RECIPIENT,
      sender: SENDER,
      faceValue: 10n ** 16n + BigInt(i),
      winProb: (1n << 255n) + BigInt(i),
      senderNonce: BigInt(i),
      recipientRandHash: `0x${'ab'.repeat(32)}`,
      expirationBlock: 100n + BigInt(i),
      ...over
    },
    signature: new Uint8Array(65).fill(i),
    recipientRand: (1n << 250n) + BigInt(i),
    domain: { chainId: 31337n, broker: '0x5fbdb2315678afecb367f032d93f642f64180aa3' },
    receivedAt
  }
}

/** The TicketStore contract, run against every implementation. */
function complianceSuite (name: string, open: () => { store: TicketStore, cleanup: () => void }): void {
  describe(`payments: TicketStore compliance (${name})`, () => {
    let store: TicketStore
    let cleanup: () => void
    beforeEach(() => { ({ store, cleanup } = open()) })
    afterEach(() => { store.close(); cleanup() })

    it('stores a winner as pending with every field intact, once', () => {
      const w = winner(1)
      expect(store.addWinner(w)).to.equal(true)
      expect(store.addWinner(w)).to.equal(false)
      const got = store.get(w.ticketHash)!
      expect(got.ticket).to.deep.equal(w.ticket)
      expect(got.signature).to.deep.equal(w.signature)
      expect(got.recipientRand).to.equal(w.recipientRand)
      expect(got.domain).to.deep.equal(w.domain)
      expect(got).to.include({ status: 'pending', attempts: 0, nextAttemptAt: 0, lastError: null, txHash: null, paidWei: null, receivedAt: 1001 })
      expect(store.get('0xnope')).to.equal(undefined)
    })

    it('returns due winners lowest expiration first, skipping those scheduled later and those not pending', () => {
      store.addWinner(winner(3))
      store.addWinner(winner(1))
      store.addWinner(winner(2))
      store.addWinner(winner(4))
      store.scheduleRetry(winner(2).ticketHash, { error: 'rpc down', at: 5, nextAttemptAt: 500, countAttempt: true })
      store.markRedeemed(winner(4).ticketHash, { txHash: '0xabc', paidWei: 7n, at: 6 })
      expect(store.due(100, 10).map(w => w.ticket.senderNonce)).to.deep.equal([1n, 3n])
      expect(store.due(500, 10).map(w => w.ticket.senderNonce)).to.deep.equal([1n, 2n, 3n])
      expect(store.due(500, 1).map(w => w.ticket.senderNonce)).to.deep.equal([1n])
    })

    it('records retries, redemptions and failures', () => {
      for (const i of [1, 2, 3]) store.addWinner(winner(i))
      store.scheduleRetry(winner(1).ticketHash, { error: 'e1', at: 10, nextAttemptAt: 20, countAttempt: true })
      store.scheduleRetry(winner(1).ticketHash, { error: 'gas', at: 11, nextAttemptAt: 30, countAttempt: false })
      expect(store.get(winner(1).ticketHash)).to.include({ attempts: 1, lastError: 'gas', nextAttemptAt: 30, updatedAt: 11, status: 'pending' })
      store.markRedeemed(winner(1).ticketHash, { txHash: '0xfeed', paidWei: 123n, at: 40 })
      expect(store.get(winner(1).ticketHash)).to.include({ status: 'redeemed', txHash: '0xfeed', paidWei: 123n, lastError: null })
      store.markFailed(winner(2).ticketHash, { status: 'failed', error: 'TicketNotWinning', at: 50 })
      store.markFailed(winner(3).ticketHash, { status: 'expired', error: 'window', at: 60 })
      expect(store.get(winner(2).ticketHash)).to.include({ status: 'failed', lastError: 'TicketNotWinning' })
      expect(store.get(winner(3).ticketHash)).to.include({ status: 'expired' })
      expect(store.due(1e12, 10)).to.have.length(0)
      const s = store.summary()
      expect(s.redeemed).to.deep.equal({ count: 1, faceValue: winner(1).ticket.faceValue, paidWei: 123n })
      expect(s.failed.count).to.equal(1)
      expect(s.expired.count).to.equal(1)
      expect(s.pending.count).to.equal(0)
    })

    it('sums the face value pending per sender (and recipient)', () => {
      store.addWinner(winner(1))
      store.addWinner(winner(2))
      store.addWinner(winner(3, { sender: OTHER }))
      store.addWinner(winner(4, { recipient: OTHER }))
      store.markRedeemed(winner(2).ticketHash, { txHash: null, paidWei: 0n, at: 1 })
      expect(store.pendingFaceValue(SENDER)).to.equal(winner(1).ticket.faceValue + winner(4).ticket.faceValue)
      expect(store.pendingFaceValue(SENDER, RECIPIENT)).to.equal(winner(1).ticket.faceValue)
      expect(store.pendingFaceValue(OTHER, RECIPIENT)).to.equal(winner(3).ticket.faceValue)
      expect(store.pendingFaceValue(RECIPIENT)).to.equal(0n)
    })

    it('lists newest first, filtered by status and sender', () => {
      for (const i of [1, 2, 3]) store.addWinner(winner(i))
      store.addWinner(winner(4, { sender: OTHER }))
      store.markRedeemed(winner(3).ticketHash, { txHash: null, paidWei: 0n, at: 1 })
      expect(store.list().map(w => Number(w.ticket.senderNonce))).to.deep.equal([4, 3, 2, 1])
      expect(store.list({ status: 'pending', sender: SENDER }).map(w => Number(w.ticket.senderNonce))).to.deep.equal([2, 1])
      expect(store.list({ limit: 1 })).to.have.length(1)
    })

    it('keeps integers beyond 2^53 exact', () => {
      const big = winner(9, { faceValue: (1n << 200n) + 1n, expirationBlock: (1n << 60n) + 3n, senderNonce: (1n << 255n) + 5n })
      store.addWinner(big)
      const got = store.get(big.ticketHash)!
      expect(got.ticket).to.deep.equal(big.ticket)
    })
  })
}

complianceSuite('memory', () => ({ store: createMemoryTicketStore(), cleanup: () => {} }))
complianceSuite('sqlite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-store-'))
  return { store: createSqliteTicketStore(ticketStorePath(dir)), cleanup: () => { rmSync(dir, { recursive: true, force: true }) } }
})

describe('payments: SQLite ticket store durability', () => {
  it('finds every winner and its state again after the file is closed and reopened', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoal-store-'))
    try {
      const path = ticketStorePath(dir)
      const a = createSqliteTicketStore(path)
      a.addWinner(winner(1))
      a.addWinner(winner(2))
      a.scheduleRetry(winner(2).ticketHash, { error: 'x', at: 1, nextAttemptAt: 2, countAttempt: true })
      a.close()
      const b = createSqliteTicketStore(path)
      expect(b.due(10, 10).map(w => w.ticket.senderNonce)).to.deep.equal([1n, 2n])
      expect(b.get(winner(2).ticketHash)).to.include({ attempts: 1, lastError: 'x' })
      b.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
