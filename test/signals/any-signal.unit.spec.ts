import { expect } from 'chai'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { setTimeout as sleep } from 'node:timers/promises'
import { anySignal } from '../../src/signals/any-signal.js'

/** The engine's full GC, reachable without starting node with --expose-gc. */
function collectGarbage (): void {
  setFlagsFromString('--expose-gc')
  ;(runInNewContext('gc') as () => void)()
}

describe('signals/anySignal', () => {
  it('a timeout among its sources still fires after a GC (AbortSignal.any lost them on Node 20)', async () => {
    // built in a function, so nothing but the combined signals refers to the timeouts
    const make = (): AbortSignal[] => Array.from({ length: 200 }, () => anySignal([new AbortController().signal, AbortSignal.timeout(50)]))
    const combined = make()
    await sleep(0)
    collectGarbage()
    await sleep(250)
    expect(combined.filter(s => s.aborted)).to.have.length(200)
    expect((combined[0].reason as Error).name).to.equal('TimeoutError')
  })

  it('aborts with the first source to abort, and is aborted at once when a source already is', () => {
    const a = new AbortController()
    const b = new AbortController()
    const combined = anySignal([a.signal, b.signal])
    expect(combined.aborted).to.equal(false)
    b.abort(new Error('b first'))
    a.abort(new Error('a second'))
    expect((combined.reason as Error).message).to.equal('b first')
    expect(anySignal([AbortSignal.abort('gone')]).reason).to.equal('gone')
  })
})
