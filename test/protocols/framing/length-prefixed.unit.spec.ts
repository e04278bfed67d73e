import { expect } from 'chai'
import { lpStream, streamPair } from '@libp2p/utils'
import { readFrame } from '../../../src/protocols/framing/length-prefixed.js'
import { ControlChannel } from '../../../src/protocols/worker/channel.js'
import { WORKER_LIMITS } from '../../../src/protocols/worker/constants.js'
import { LiveChannel } from '../../../src/protocols/live/channel.js'

const kinds = (failure: string, cause: Error): Error => Object.assign(new Error(failure), { cause })

describe('protocols/framing: one length-prefixed read, its failure sorted', () => {
  it('reads a frame; a length prefix over the limit is too-large, before the frame is buffered', async () => {
    const [a, b] = await streamPair()
    const lp = lpStream(b, { maxDataLength: 16 })
    a.send(Uint8Array.from([3, 1, 2, 3]))
    expect((await readFrame(lp, {}, kinds)).subarray()).to.deep.equal(Uint8Array.from([1, 2, 3]))
    void lpStream(a).write(new Uint8Array(17)).catch(() => {})
    const err = await readFrame(lp, {}, kinds).catch((e: Error) => e)
    expect(err).to.have.property('message', 'too-large')
  })

  it('a stream that ends, mid-frame or between frames, is ended; an aborted read throws the signal reason', async () => {
    const [a, b] = await streamPair()
    const lp = lpStream(b, { maxDataLength: 16 })
    const controller = new AbortController()
    const reason = new Error('caller left')
    const pending = readFrame(lp, { signal: controller.signal }, kinds).catch((e: unknown) => e)
    controller.abort(reason)
    expect(await pending).to.equal(reason)
    a.send(Uint8Array.from([5, 1]))
    await a.close()
    expect(await readFrame(lp, {}, kinds).catch((e: Error) => e)).to.have.property('message', 'ended')
  })

  it('the worker and live channels name their own codes for both', async () => {
    const [a, b] = await streamPair()
    const control = new ControlChannel(b)
    void lpStream(a).write(new Uint8Array(WORKER_LIMITS.maxMessageBytes + 1)).catch(() => {})
    expect(await control.read().catch((e: unknown) => e)).to.include({ code: 'WORKER_PROTOCOL_ERROR_MESSAGE_TOO_LARGE' })
    const [c, d] = await streamPair()
    const live = new LiveChannel(d)
    await c.close()
    expect(await live.read().catch((e: unknown) => e)).to.include({ code: 'LIVE_PROTOCOL_ERROR_UNEXPECTED_EOF' })
  })
})
