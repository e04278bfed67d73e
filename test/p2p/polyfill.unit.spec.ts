import { expect } from 'chai'
import '../../src/p2p/polyfill.js'

describe('p2p/polyfill', () => {
  it('provides Promise.withResolvers that resolves', async () => {
    const { promise, resolve } = (Promise as unknown as { withResolvers: <T>() => { promise: Promise<T>, resolve: (v: T) => void } }).withResolvers<number>()
    resolve(42)
    expect(await promise).to.equal(42)
  })
})
