import { expect } from 'chai'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createShoalNode, type ShoalLibp2p } from '../../src/p2p/node.js'

/**
 * libp2p refuses more than `inboundConnectionThreshold` new connections a second from one
 * IP address. Peers on loopback are exempt (a one-host testnet dials from 127.0.0.1 only);
 * with the exemption turned off the threshold applies to them too.
 */
describe('p2p/node: inbound connection threshold and loopback', function () {
  this.timeout(60_000)
  const nodes: ShoalLibp2p[] = []
  after(async () => { await Promise.all(nodes.map(async n => { await n.stop() })) })

  async function node (allowLoopbackUnlimited?: boolean): Promise<ShoalLibp2p> {
    const n = await createShoalNode({
      role: 'bootstrap',
      privateKey: await generateKeyPair('Ed25519'),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      inboundConnectionThreshold: 2,
      ...(allowLoopbackUnlimited === undefined ? {} : { allowLoopbackUnlimited })
    })
    await n.start()
    nodes.push(n)
    return n
  }

  /** ten fresh peers dial `target` at once; returns how many got a connection */
  async function burst (target: ShoalLibp2p): Promise<number> {
    const dialers = await Promise.all(Array.from({ length: 10 }, async () => {
      const d = await createShoalNode({ role: 'gateway', privateKey: await generateKeyPair('Ed25519'), listen: [] })
      await d.start()
      nodes.push(d)
      return d
    }))
    const results = await Promise.allSettled(dialers.map(async d => await d.dial(target.getMultiaddrs()[0], { signal: AbortSignal.timeout(10_000) })))
    return results.filter(r => r.status === 'fulfilled').length
  }

  it('accepts a burst of loopback connections beyond the threshold', async () => {
    expect(await burst(await node())).to.equal(10)
  })

  it('refuses a burst beyond the threshold when loopback is not exempt', async () => {
    expect(await burst(await node(false))).to.be.below(10)
  })
})
