import type { Clock } from './clock.js'

/**
 * Each sender's credit at a recipient, in wei: tickets' expected value in, work out.
 * A balance may go below zero when a job's actual cost exceeds the credit it was
 * admitted with (the next job must cover it first).
 */
export interface Balances {
  /** adds `wei` to the sender's balance; returns the new balance */
  credit: (sender: string, wei: bigint) => bigint
  /** subtracts `wei` from the sender's balance; returns the new balance */
  debit: (sender: string, wei: bigint) => bigint
  /** the sender's balance (0 when unknown) */
  balance: (sender: string) => bigint
  /** how many senders have a balance */
  size: () => number
}

export interface BalancesOptions {
  /** drop a sender's (positive) balance after this long without activity; default 24 h. Debts are kept. */
  idleTtlMs?: number
  /** keep at most this many senders (the least recently active go first); default 100,000 */
  maxSenders?: number
}

interface Account { wei: bigint, touched: number }

export function createBalances (clock: Clock, options: BalancesOptions = {}): Balances {
  const idleTtl = options.idleTtlMs ?? 24 * 60 * 60 * 1000
  const maxSenders = options.maxSenders ?? 100_000
  // a Map iterates in insertion order: re-inserting on touch keeps it ordered by activity
  const accounts = new Map<string, Account>()

  const sweep = (now: number): void => {
    for (const [sender, account] of accounts) {
      const idle = now - account.touched > idleTtl
      if (!idle && accounts.size <= maxSenders) break
      // debts outlive the idle limit: waiting must not wipe what a sender owes
      if (idle && account.wei < 0n && accounts.size <= maxSenders) continue
      accounts.delete(sender)
    }
  }

  const change = (sender: string, delta: bigint): bigint => {
    const now = clock.now()
    const account = accounts.get(sender)
    const wei = (account === undefined ? 0n : account.wei < 0n || now - account.touched <= idleTtl ? account.wei : 0n) + delta
    accounts.delete(sender)
    accounts.set(sender, { wei, touched: now })
    sweep(now)
    return wei
  }

  return {
    credit: (sender, wei) => {
      if (wei < 0n) throw new RangeError('credit must not be negative')
      return change(sender, wei)
    },
    debit: (sender, wei) => {
      if (wei < 0n) throw new RangeError('debit must not be negative')
      return change(sender, -wei)
    },
    balance: (sender) => {
      const account = accounts.get(sender)
      if (account === undefined) return 0n
      return account.wei < 0n || clock.now() - account.touched <= idleTtl ? account.wei : 0n
    },
    size: () => accounts.size
  }
}
