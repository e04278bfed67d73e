import { expect } from 'chai'
import { BodySpool, BodySpoolError } from '../../../src/gateway/custom/body-spool.js'

/** A source of numbered chunks that waits for `release` before each past the `free` first ones. */
function source (chunks: number, size: number, free = chunks): { body: AsyncIterable<Uint8Array>, read: () => number, release: () => void, fail: (err: Error) => void } {
  let read = 0
  let gate = Promise.withResolvers<void>()
  let failure: Error | undefined
  return {
    body: (async function * () {
      for (let i = 0; i < chunks; i++) {
        if (i >= free) { await gate.promise; gate = Promise.withResolvers<void>() }
        if (failure !== undefined) throw failure
        read++
        yield new Uint8Array(size).fill(i)
      }
    })(),
    read: () => read,
    release: () => { gate.resolve() },
    fail: (err) => { failure = err; gate.resolve() }
  }
}

async function collect (body: AsyncIterable<Uint8Array>, limit = Infinity): Promise<number[]> {
  const seen: number[] = []
  for await (const chunk of body) {
    seen.push(chunk[0] as number)
    if (seen.length >= limit) break
  }
  return seen
}

const tick = async (): Promise<void> => { await new Promise(resolve => setTimeout(resolve, 5)) }

describe('gateway/custom: the request body spool', () => {
  it('reads the kept part ahead at once, and no further until a reader asks', async () => {
    const s = source(10, 100, 10)
    const spool = new BodySpool(s.body, 1000, 250)
    await tick()
    // 3 chunks fill the 250 kept bytes (the last one crossing the bound)
    expect(s.read()).to.equal(3)
    expect(spool.heldBytes).to.equal(300)
    expect(spool.replayable).to.equal(true)
    expect(await collect(spool.read())).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(spool.replayable).to.equal(false)
    expect(spool.heldBytes).to.equal(300)
  })

  it('is read again from the start while nothing past the kept part went out, and never after', async () => {
    const spool = new BodySpool(source(10, 100).body, 1000, 250)
    expect(await collect(spool.read(), 2)).to.deep.equal([0, 1])
    expect(spool.replayable).to.equal(true)
    expect(await collect(spool.read(), 4)).to.deep.equal([0, 1, 2, 3])
    expect(spool.replayable).to.equal(false)
    const err = await collect(spool.read()).then(() => undefined, (e: Error) => e)
    expect(err).to.be.instanceOf(BodySpoolError)
    expect((err as BodySpoolError).code).to.equal('BODY_SPOOL_ERROR_NOT_REPLAYABLE')
  })

  it('one reader at a time; a source failure and an abort reach the reader', async () => {
    const s = source(5, 10, 1)
    const spool = new BodySpool(s.body, 50, 1000)
    const first = spool.read()[Symbol.asyncIterator]()
    expect((await first.next()).value?.[0]).to.equal(0)
    const busy = await collect(spool.read()).then(() => undefined, (e: BodySpoolError) => e.code)
    expect(busy).to.equal('BODY_SPOOL_ERROR_BUSY')
    const waiting = first.next()
    s.fail(new Error('client went away'))
    expect(await waiting.then(() => 'read', (e: Error) => e.message)).to.equal('client went away')

    const slow = source(3, 10, 1)
    const held = new BodySpool(slow.body, 30, 1000)
    const controller = new AbortController()
    const reader = held.read(controller.signal)[Symbol.asyncIterator]()
    await reader.next()
    const next = reader.next()
    controller.abort(new Error('attempt over'))
    expect(await next.then(() => 'read', (e: Error) => e.message)).to.equal('attempt over')
    // what the aborted read was waiting for is not lost: the next reader gets every byte
    slow.release()
    await tick()
    slow.release()
    expect(await collect(held.read())).to.deep.equal([0, 1, 2])
  })
})
