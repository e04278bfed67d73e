import { expect } from 'chai'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createShoalNode, type DirectTransport, type ShoalLibp2p } from '../../src/p2p/node.js'

const BOTH = ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/udp/0/quic-v1']
const PING = '/shoal/test/transports/1.0.0'

describe('p2p/node: TCP and QUIC side by side', function () {
  this.timeout(60_000)
  const nodes: ShoalLibp2p[] = []
  afterEach(async () => { await Promise.all(nodes.splice(0).map(async n => { await n.stop() })) })

  async function node (listen: string[], preferredTransport?: DirectTransport): Promise<ShoalLibp2p> {
    const n = await createShoalNode({ role: 'orchestrator', privateKey: await generateKeyPair('Ed25519'), listen, preferredTransport })
    nodes.push(n)
    await n.handle(PING, async (stream) => { for await (const c of stream) stream.send(c); await stream.close() })
    await n.start()
    return n
  }

  /** Dials `to` by peer id (both its addresses known) and echoes on a stream; returns the connection's address. */
  async function dialByPeerId (from: ShoalLibp2p, to: ShoalLibp2p): Promise<string> {
    await from.peerStore.merge(to.peerId, { multiaddrs: to.getMultiaddrs() })
    const stream = await from.dialProtocol(to.peerId, PING, { signal: AbortSignal.timeout(20_000) })
    // read from the start: a stream closed both ways before its reader began ends no iterator
    const reading = (async () => { let n = 0; for await (const c of stream) n += c.byteLength; return n })()
    stream.send(new Uint8Array([1, 2, 3]))
    await stream.close()
    expect(await reading).to.equal(3)
    return from.getConnections(to.peerId)[0].remoteAddr.toString()
  }

  it('listens and announces both; dials TCP first by default and QUIC first when preferred', async () => {
    const server = await node(BOTH)
    const addresses = server.getMultiaddrs().map(String)
    expect(addresses.some(a => a.includes('/tcp/'))).to.equal(true)
    expect(addresses.some(a => a.includes('/quic-v1'))).to.equal(true)
    expect(await dialByPeerId(await node(BOTH), server)).to.include('/tcp/')
    expect(await dialByPeerId(await node(BOTH, 'quic'), server)).to.include('/quic-v1')
  })

  it('a node listening on QUIC only is reached over QUIC, one on TCP only over TCP', async () => {
    const dialer = await node(BOTH)
    expect(await dialByPeerId(dialer, await node(['/ip4/127.0.0.1/udp/0/quic-v1']))).to.include('/quic-v1')
    expect(await dialByPeerId(dialer, await node(['/ip4/127.0.0.1/tcp/0']))).to.include('/tcp/')
  })
})
