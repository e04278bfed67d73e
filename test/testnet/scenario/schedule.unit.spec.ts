import { expect } from 'chai'
import { eventKeys, scheduleEvents, type EventRun } from '../../../src/testnet/scenario/schedule.js'
import type { ScenarioEvent } from '../../../src/testnet/scenario/schema.js'

/** An apply whose events end only when the test says so, recording what started. */
function controlled (): { apply: (e: string) => Promise<string>, started: string[], finish: (e: string, error?: string) => void, whenStarted: (e: string) => Promise<void> } {
  const started: string[] = []
  const finishers = new Map<string, (error?: string) => void>()
  const waiters = new Map<string, () => void>()
  return {
    started,
    apply: async (e) => {
      started.push(e)
      waiters.get(e)?.()
      await new Promise<void>((resolve, reject) => { finishers.set(e, (error) => { if (error === undefined) resolve(); else reject(new Error(error)) }) })
      return `${e} done`
    },
    finish: (e, error) => { (finishers.get(e) as (error?: string) => void)(error) },
    whenStarted: async (e) => { if (!started.includes(e)) await new Promise<void>(resolve => waiters.set(e, resolve)) }
  }
}

describe('testnet/scenario/schedule: timed events run at their times, serialized per node', () => {
  it('keys: the nodes, and the partition rules for partition and heal', () => {
    const cases: Array<[ScenarioEvent, string[]]> = [
      [{ at: 1, action: 'kill', nodes: ['a', 'b'] }, ['node:a', 'node:b']],
      [{ at: 1, action: 'partition', nodes: ['a'] }, ['node:a', 'partition-rules']],
      [{ at: 1, action: 'heal' }, ['partition-rules']],
      [{ at: 1, action: 'slow-link', nodes: ['c'], link: { delayMs: 5 } }, ['node:c']]
    ]
    for (const [event, keys] of cases) expect(eventKeys(event)).to.deep.equal(keys)
  })

  it('a long event does not hold back a later one on other nodes; one on the same node waits for it', async () => {
    const c = controlled()
    const t0 = Date.now()
    const schedule = scheduleEvents([
      { event: 'restart a', atMs: 0, keys: ['node:a'] },
      { event: 'kill b', atMs: 30, keys: ['node:b'] },
      { event: 'kill a', atMs: 10, keys: ['node:a'] }
    ], t0, c.apply)
    await c.whenStarted('restart a')
    await c.whenStarted('kill b')
    // "restart a" is still running: "kill b" started at its own time, "kill a" waits
    expect(c.started).to.deep.equal(['restart a', 'kill b'])
    c.finish('kill b')
    await new Promise(resolve => setTimeout(resolve, 30))
    expect(c.started).to.not.include('kill a')
    c.finish('restart a')
    await c.whenStarted('kill a')
    c.finish('kill a', 'no such process')
    const runs = await schedule.done
    expect(runs.map(r => [r.event, r.index, r.scheduledAtMs, r.detail, r.error])).to.deep.equal([
      ['restart a', 0, 0, 'restart a done', undefined],
      ['kill b', 1, 30, 'kill b done', undefined],
      ['kill a', 2, 10, '', 'no such process']
    ])
    const [restart, killB, killA] = runs
    expect(killB.startedAtMs, 'kill b started before the restart ended').to.be.below(restart.finishedAtMs)
    expect(killB.startedAtMs).to.be.at.least(30)
    expect(killA.startedAtMs, 'kill a started after the restart of a ended').to.be.at.least(restart.finishedAtMs)
    for (const r of runs) expect(r.finishedAtMs).to.be.at.least(r.startedAtMs)
  })

  it('events on the same keys keep the plan order even when due at the same time', async () => {
    const order: string[] = []
    const runs: Array<EventRun<string>> = []
    const schedule = scheduleEvents(['partition x', 'heal', 'partition y'].map(event => ({ event, atMs: 5, keys: ['partition-rules'] })), Date.now(), async (e) => {
      order.push(`start ${e}`)
      await new Promise(resolve => setTimeout(resolve, e === 'partition x' ? 20 : 1))
      order.push(`end ${e}`)
      return ''
    }, r => { runs.push(r) })
    await schedule.done
    expect(order).to.deep.equal(['start partition x', 'end partition x', 'start heal', 'end heal', 'start partition y', 'end partition y'])
    expect(runs.map(r => r.event), 'reported as each ends').to.deep.equal(['partition x', 'heal', 'partition y'])
  })

  it('cancel: events not started never start, running ones finish', async () => {
    const c = controlled()
    const schedule = scheduleEvents([
      { event: 'now', atMs: 0, keys: ['node:a'] },
      { event: 'later', atMs: 60_000, keys: ['node:b'] },
      { event: 'after now', atMs: 0, keys: ['node:a'] }
    ], Date.now(), c.apply)
    await c.whenStarted('now')
    schedule.cancel()
    c.finish('now')
    const runs = await schedule.done
    expect(runs.map(r => r.event)).to.deep.equal(['now'])
    expect(c.started).to.deep.equal(['now'])
  })
})
