import { expect } from 'chai'
import { addressTarget, dialableHosts } from '../../src/p2p/addresses.js'

const RELAY = '12D3KooWGRUVh2upqGgjPyGSJFtxEcMj5HfD9ABX5W9tYWCzfx4G'
const PEER = '12D3KooWSgCSD4EoFrt7WHH1GXAfXMtZbJa8oj9Rqp9AsXb5Uk3S'

describe('p2p/addresses', () => {
  it('reads TCP, QUIC and relayed addresses as their transport and host', () => {
    expect(addressTarget(`/ip4/10.0.0.1/tcp/4002/p2p/${PEER}`)).to.deep.equal({ transport: 'tcp', host: '10.0.0.1' })
    expect(addressTarget('/ip4/10.0.0.1/udp/4002/quic-v1')).to.deep.equal({ transport: 'quic', host: '10.0.0.1' })
    expect(addressTarget(`/memory/orch-1/p2p/${PEER}`)).to.deep.equal({ transport: 'memory', host: 'memory/orch-1' })
    expect(addressTarget(`/dns4/Relay.Example/tcp/4001/p2p/${RELAY}/p2p-circuit/p2p/${PEER}`)).to.deep.equal({ transport: 'relay', host: 'relay/relay.example' })
    expect(addressTarget(`/ip4/10.0.0.1/udp/4001/quic-v1/p2p/${RELAY}/p2p-circuit`)).to.deep.equal({ transport: 'relay', host: 'relay/10.0.0.1' })
  })

  it('refuses what no Shoal transport dials', () => {
    for (const address of [
      'not a multiaddr', '/ip4/0.0.0.0/udp/4002/quic-v1', '/ip4/10.0.0.1/udp/0/quic-v1', '/ip4/10.0.0.1/udp/4002/quic',
      '/ip4/10.0.0.1/udp/4002/quic-v1/webtransport', '/ip4/10.0.0.1/tcp/4002/ws',
      // a relayed address must name its relay, and the relay must be dialable directly
      '/ip4/10.0.0.1/tcp/4001/p2p-circuit', `/p2p/${RELAY}/p2p-circuit/p2p/${PEER}`, `/ip4/0.0.0.0/tcp/4001/p2p/${RELAY}/p2p-circuit`,
      `/memory/relay/p2p/${RELAY}/p2p-circuit/p2p/${PEER}`, `/ip4/10.0.0.1/tcp/4001/p2p/${RELAY}/p2p-circuit/ip4/10.0.0.2/tcp/1`
    ]) expect(addressTarget(address), address).to.equal(undefined)
  })

  it('counts the peers behind a relay apart from the peers at its IP', () => {
    const addresses = ['/ip4/10.0.0.1/tcp/4002', `/ip4/10.0.0.1/tcp/4001/p2p/${RELAY}/p2p-circuit/p2p/${PEER}`, '/ip4/10.0.0.1/udp/4002/quic-v1']
    expect(dialableHosts(addresses, new Set(['tcp', 'quic', 'relay']))).to.deep.equal(['10.0.0.1', 'relay/10.0.0.1'])
    expect(dialableHosts(addresses.slice(1), new Set(['tcp']))).to.deep.equal([])
  })
})
