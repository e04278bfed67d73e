import { expect } from 'chai'
import { TrickleChannel, TrickleStore } from '../../../src/protocols/live/trickle/channel.js'
import { startTrickleServer } from '../../../src/protocols/live/trickle/server.js'
import { TrickleError } from '../../../src/protocols/live/trickle/errors.js'

async function readAll (it: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = []
  for await (const c of it) parts.push(c)
  return Buffer.concat(parts).toString()
}

describe('protocols/live: trickle channel semantics', () => {
  it('a subscriber of a segment still being published gets what exists, then the rest', async () => {
    const ch = new TrickleChannel('c')
    const seg = ch.publish(0)
    seg.append(Buffer.from('ab'))
    const found = await ch.lookup(0)
    expect(found.kind).to.equal('segment')
    const reading = readAll((found as { segment: typeof seg }).segment.read())
    seg.append(Buffer.from('cd'))
    seg.finish()
    expect(await reading).to.equal('abcd')
  })

  it('waits for the next seq (pre-connect), serves -1 as the live edge, and 470s what is gone or too far ahead', async () => {
    const ch = new TrickleChannel('c', 2)
    const waiting = ch.lookup(0)
    ch.publish(0).finish()
    expect((await waiting).kind).to.equal('segment')
    for (const seq of [1, 2, 3]) ch.publish(seq).finish()
    expect(await ch.lookup(0)).to.deep.equal({ kind: 'gone', latest: 3 })
    const edge = await ch.lookup(-1)
    expect(edge.kind === 'segment' && edge.segment.seq).to.equal(3)
    expect(await ch.lookup(9)).to.deep.equal({ kind: 'gone', latest: 3 })
  })

  it('refuses a seq at or behind the latest; -1 publishes the next', () => {
    const ch = new TrickleChannel('c')
    ch.publish(4)
    expect(() => ch.publish(4)).to.throw(TrickleError).with.property('code', 'TRICKLE_ERROR_SEQ_BEHIND')
    expect(ch.publish(-1).seq).to.equal(5)
  })

  it('counts the HTTP subscribers being served: one waiting for the next segment, none once it has it', async () => {
    const server = await startTrickleServer()
    try {
      const ch = server.store.create('c')
      expect(ch.subscribers).to.equal(0)
      const res = fetch(`${server.channelUrl('c')}/0`)
      const deadline = Date.now() + 5_000
      while (ch.subscribers === 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 10))
      expect(ch.subscribers).to.equal(1)
      const seg = ch.publish(0)
      seg.append(Buffer.from('x'))
      seg.finish()
      expect(await (await res).text()).to.equal('x')
      while (ch.subscribers !== 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 10))
      expect(ch.subscribers).to.equal(0)
    } finally {
      await server.stop()
    }
  })

  it('closing ends waiting subscribers and fails segments mid-publish', async () => {
    const ch = new TrickleChannel('c')
    const seg = ch.publish(0)
    seg.append(Buffer.from('x'))
    const waiting = ch.lookup(1)
    const reading = readAll(seg.read()).then(() => 'done', (err: TrickleError) => err.code)
    ch.close()
    expect(await waiting).to.deep.equal({ kind: 'closed' })
    expect(await reading).to.equal('TRICKLE_ERROR_CLOSED')
    expect(() => ch.publish(1)).to.throw(TrickleError).with.property('code', 'TRICKLE_ERROR_CLOSED')
  })

  it('tells the publisher once a subscriber has read a whole segment (the ack of segments in flight)', async () => {
    const ch = new TrickleChannel('c')
    const seg = ch.publish(0)
    const read: number[] = []
    seg.onRead = (seq) => { read.push(seq) }
    seg.append(Buffer.from('x'))
    seg.finish()
    await readAll(seg.read())
    await readAll(seg.read())
    expect(read).to.deep.equal([0])
  })

  it('a store bounds its channels and sweeps idle ones', () => {
    const store = new TrickleStore({ maxChannels: 2 })
    store.create('a')
    store.create('b')
    expect(() => store.create('c')).to.throw(TrickleError).with.property('code', 'TRICKLE_ERROR_TOO_MANY')
    const a = store.get('a') as TrickleChannel
    a.lastActivity = 0
    expect(store.sweep(1000)).to.deep.equal(['a'])
    expect(a.closed).to.equal(true)
    expect(store.size).to.equal(1)
  })
})
