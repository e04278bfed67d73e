import { expect } from 'chai'
import { dataMessages, StreamDataError } from '../../src/orchestrator/streams/data.js'

async function messages (chunks: string[], sse: boolean, max = 64): Promise<string[]> {
  const out: string[] = []
  for await (const m of dataMessages((async function * () { for (const c of chunks) yield Buffer.from(c) })(), sse, max)) out.push(Buffer.from(m).toString('utf8'))
  return out
}

describe('orchestrator/streams: an app\'s answer as data messages', () => {
  it('SSE: one message per event, data lines joined, comments and other fields dropped, split anywhere', async () => {
    const text = ': hello\n\ndata: {"i":0}\n\nevent: x\nid: 7\ndata: a\ndata:b\r\n\r\ndata: last'
    for (const size of [1, 3, 1000]) {
      const chunks = text.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g')) ?? []
      expect(await messages(chunks, true), `chunks of ${size}`).to.deep.equal(['{"i":0}', 'a\nb', 'last'])
    }
  })

  it('any other type: one message per non-empty line', async () => {
    expect(await messages(['{"a":1}\n\n{"b"', ':2}\r\n', 'tail'], false)).to.deep.equal(['{"a":1}', '{"b":2}', 'tail'])
  })

  it('a message or a line over the bound is an error, not buffered past it', async () => {
    const err = await messages(['x'.repeat(40), 'y'.repeat(40)], false).then(() => undefined, (e: Error) => e)
    expect(err).to.be.instanceOf(StreamDataError)
    const sse = await messages(['data: ' + 'x'.repeat(40) + '\n', 'data: ' + 'y'.repeat(40) + '\n\n'], true).then(() => undefined, (e: Error) => e)
    expect(sse?.message).to.equal('a data message over 64 bytes')
    expect(await messages(['x'.repeat(64) + '\n'], false)).to.deep.equal(['x'.repeat(64)])
  })
})
