import { expect } from 'chai'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { Registry } from 'prom-client'
import { createShoalNode, type ShoalLibp2p } from '../../src/p2p/node.js'
import { createRelayMetrics, isRelayedAddress, type RelayServerOptions } from '../../src/p2p/relay.js'
import { waitForValue } from '../helpers/wait-for.js'

const ECHO = '/shoal/test/relay-echo/1.0.0'
const KiB = 1024

/** Sends `bytes` on a new stream to `peer` and resolves with how many bytes came back. */
async function echo (from: ShoalLibp2p, peer: ShoalLibp2p, bytes: number): Promise<number> {
  const stream = await from.dialProtocol(peer.peerId, ECHO, { signal: AbortSignal.timeout(20_000) })
  const reading = (async () => { let n = 0; for await (const c of stream) n += c.byteLength; return n })()
  for (let sent = 0; sent < bytes; sent += 16 * KiB) {
    if (!stream.send(new Uint8Array(Math.min(16 * KiB, bytes - sent)))) await stream.onDrain({ signal: AbortSignal.timeout(20_000) })
  }
  await stream.close()
  return await reading
}

async function serveEcho (node: ShoalLibp2p): Promise<void> {
  await node.handle(ECHO, async (stream: Stream) => {
    try {
      for await (const c of stream) if (!stream.send(c)) await stream.onDrain()
      await stream.close()
    } catch (err) {
      stream.abort(err as Error)
    }
  }, { runOnLimitedConnection: true })
}

describe('p2p/relay: circuit relay v2 for nodes behind NAT', function () {
  this.timeout(90_000)
  const nodes: ShoalLibp2p[] = []
  afterEach(async () => { await Promise.all(nodes.splice(0).map(async n => { await n.stop() })) })

  async function mesh (relayServer: Partial<RelayServerOptions>): Promise<{ relay: ShoalLibp2p, natted: ShoalLibp2p, dialer: ShoalLibp2p, relayedAddress: string }> {
    const relay = await createShoalNode({ role: 'bootstrap', privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], relayServer })
    nodes.push(relay)
    await relay.start()
    const relayAddr = relay.getMultiaddrs()[0].toString()
    // no direct listen address at all: it is reachable only through the relay
    const natted = await createShoalNode({ role: 'orchestrator', privateKey: await generateKeyPair('Ed25519'), listen: [`${relayAddr}/p2p-circuit`] })
    nodes.push(natted)
    await serveEcho(natted)
    await natted.start()
    const relayedAddress = await waitForValue(() => natted.getMultiaddrs().map(String).find(isRelayedAddress), 30_000, 'a relayed address')
    const dialer = await createShoalNode({ role: 'gateway', privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    nodes.push(dialer)
    await dialer.start()
    await dialer.peerStore.merge(natted.peerId, { multiaddrs: [multiaddr(relayedAddress)] })
    return { relay, natted, dialer, relayedAddress }
  }

  it('a node with no direct address is reached through its relay; streams reuse the one relayed connection; limits above the 128 KiB default hold', async () => {
    const { relay, natted, dialer, relayedAddress } = await mesh({ dataLimitBytes: 16n * 1024n * 1024n, durationLimitMs: 60_000 })
    expect(relayedAddress).to.match(new RegExp(`/p2p/${relay.peerId.toString()}/p2p-circuit/p2p/${natted.peerId.toString()}$`))
    // the DHT is for reachable nodes only
    expect(natted.services.dht.getMode()).to.equal('client')

    // 1 MiB each way: 8x libp2p's default data limit for a relayed connection
    expect(await echo(dialer, natted, 1024 * KiB)).to.equal(1024 * KiB)
    for (let i = 0; i < 3; i++) expect(await echo(dialer, natted, 4 * KiB)).to.equal(4 * KiB)
    const connections = dialer.getConnections(natted.peerId)
    expect(connections).to.have.length(1)
    expect(connections[0].limits, 'a relayed connection carries limits').to.not.equal(undefined)
    expect(isRelayedAddress(connections[0].remoteAddr.toString())).to.equal(true)

    const register = new Registry()
    createRelayMetrics(register, relay)
    expect(await register.getSingleMetricAsString('shoal_relay_reservations')).to.match(/shoal_relay_reservations 1$/m)
    expect(await register.getSingleMetricAsString('shoal_relay_connections')).to.match(/shoal_relay_connections 0$/m)
  })

  it('the relay resets a relayed connection past its data limit', async () => {
    const { natted, dialer } = await mesh({ dataLimitBytes: 256n * 1024n, durationLimitMs: 60_000 })
    expect(await echo(dialer, natted, 32 * KiB)).to.equal(32 * KiB)
    // the stream is reset (libp2p rejects with the close event, not an Error)
    const outcome = await echo(dialer, natted, 1024 * KiB).then(n => `echoed ${n} bytes`, () => 'reset')
    expect(outcome, 'a transfer beyond the data limit').to.equal('reset')
    await waitForValue(() => dialer.getConnections(natted.peerId).length === 0 ? true : undefined, 20_000, 'the relayed connection to close')
  })
})
