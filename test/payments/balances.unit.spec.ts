import { expect } from 'chai'
import { createBalances } from '../../src/payments/balances.js'
import { manualClock } from '../../src/payments/clock.js'

describe('payments: balances', () => {
  it('credits and debits per sender, and may go below zero', () => {
    const b = createBalances(manualClock())
    expect(b.balance('a')).to.equal(0n)
    expect(b.credit('a', 100n)).to.equal(100n)
    expect(b.debit('a', 30n)).to.equal(70n)
    expect(b.debit('a', 100n)).to.equal(-30n)
    expect(b.balance('b')).to.equal(0n)
    expect(() => b.credit('a', -1n)).to.throw(RangeError)
    expect(() => b.debit('a', -1n)).to.throw(RangeError)
  })

  it('forgets idle credit but never an idle debt', () => {
    const clock = manualClock()
    const b = createBalances(clock, { idleTtlMs: 1000 })
    b.credit('rich', 100n)
    b.debit('owes', 50n)
    clock.advance(1001)
    expect(b.balance('rich')).to.equal(0n)
    expect(b.balance('owes')).to.equal(-50n)
    b.credit('other', 1n) // triggers the sweep
    expect(b.size()).to.equal(2)
    expect(b.credit('owes', 80n)).to.equal(30n)
  })

  it('keeps at most maxSenders, dropping the least recently active', () => {
    const b = createBalances(manualClock(), { maxSenders: 2 })
    b.credit('a', 1n)
    b.credit('b', 1n)
    b.credit('a', 1n)
    b.credit('c', 1n)
    expect(b.size()).to.equal(2)
    expect(b.balance('b')).to.equal(0n)
    expect(b.balance('a')).to.equal(2n)
  })
})
