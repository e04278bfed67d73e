import { expect } from 'chai'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Connection, PeerId } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { MONITOR_PING_PROTOCOL } from '../../src/p2p/connection-monitor.js'
import { createShoalNode, type ShoalLibp2p } from '../../src/p2p/node.js'
import { waitFor } from '../helpers/wait-for.js'

const HOLD = '/shoal/test-hold/1.0.0'

/**
 * A TCP relay between the two nodes that can stop moving bytes (both ways) and start
 * again: a peer that stops answering, as a CPU-starved or partitioned one does, without
 * losing a byte, so the encrypted connection carries on once it resumes.
 */
class PausableRelay {
  private readonly server: Server
  private readonly sockets = new Set<Socket>()
  private paused = false

  constructor (private readonly target: number) {
    this.server = createServer((inbound) => {
      const outbound = connect(this.target, '127.0.0.1')
      for (const [from, to] of [[inbound, outbound], [outbound, inbound]]) {
        this.sockets.add(from)
        from.pipe(to)
        from.on('error', () => { to.destroy() })
        from.on('close', () => { this.sockets.delete(from); to.destroy() })
        if (this.paused) from.pause()
      }
    })
  }

  async listen (): Promise<number> {
    await new Promise<void>(resolve => this.server.listen(0, '127.0.0.1', resolve))
    return (this.server.address() as AddressInfo).port
  }

  pause (): void { this.paused = true; for (const s of this.sockets) s.pause() }
  resume (): void { this.paused = false; for (const s of this.sockets) s.resume() }

  async close (): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise(resolve => this.server.close(resolve))
  }
}

/** Two real libp2p nodes over TCP through a relay that can go silent. */
describe('p2p: the connection monitor tolerates missed pings on busy connections', function () {
  this.timeout(60_000)
  let local: ShoalLibp2p
  let remote: ShoalLibp2p
  let relay: PausableRelay
  let missed: number[]
  let recovered: number

  beforeEach(async () => {
    local = await createShoalNode({ role: 'gateway', privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], monitor: { intervalMs: 500, timeoutMs: 1_000, maxMissedIdle: 2, maxMissedBusy: 4 } })
    // the remote's own monitor stays quiet: only the local one is under test
    remote = await createShoalNode({ role: 'orchestrator', privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], monitor: { intervalMs: 600_000 } })
    await Promise.all([local.start(), remote.start()])
    await remote.handle(HOLD, () => { /* held open: a job in flight */ })
    const port = Number(remote.getMultiaddrs()[0].toString().split('/tcp/')[1].split('/')[0])
    relay = new PausableRelay(port)
    relayAddress = multiaddr(`/ip4/127.0.0.1/tcp/${await relay.listen()}/p2p/${remote.peerId.toString()}`)
    missed = []
    recovered = 0
    local.services.monitor.on('missed', (_peer: PeerId, count: number) => { missed.push(count) })
    local.services.monitor.on('recovered', () => { recovered++ })
  })

  afterEach(async () => { await Promise.all([local?.stop(), remote?.stop(), relay?.close()]) })

  let relayAddress: Multiaddr
  async function connect (): Promise<Connection> {
    return await local.dial(relayAddress)
  }

  it('a connection with a stream in flight survives missed pings up to its limit', async () => {
    const conn = await connect()
    await conn.newStream(HOLD)
    relay.pause()
    await waitFor(() => missed.includes(3), 20_000, 'three missed pings')
    expect(conn.status, 'open after three missed pings with a job in flight').to.equal('open')
    await waitFor(() => conn.status !== 'open', 20_000, 'the connection to close after the fourth')
    expect(Math.max(...missed)).to.equal(4)
  })

  it('an idle connection closes after two missed pings', async () => {
    const conn = await connect()
    const paused = Date.now()
    relay.pause()
    await waitFor(() => conn.status !== 'open', 20_000, 'the idle connection to close')
    // (once in CI it closed with no miss reported: say how, should it happen again)
    expect(missed.at(-1), `closed ${Date.now() - paused} ms after the pause, status ${conn.status}, misses ${JSON.stringify(missed)}, connections to the peer now ${local.getConnections(remote.peerId).length}, streams ${conn.streams.map(s => s.protocol ?? '?').join(',')}`).to.equal(2)
  })

  it('reports a recovery when the peer answers again, and the connection carries on', async () => {
    const conn = await connect()
    await conn.newStream(HOLD)
    relay.pause()
    await waitFor(() => missed.length >= 1, 20_000, 'a missed ping')
    relay.resume()
    await waitFor(() => recovered > 0, 20_000, 'the recovery')
    expect(conn.status).to.equal('open')
    // the same connection still opens streams: nothing was lost while it was silent
    const stream = await conn.newStream(HOLD)
    expect(stream.status).to.equal('open')
  })

  it('pings without opening streams (no ping protocol stream, no peer store write per ping)', async () => {
    const conn = await connect()
    await waitFor(() => conn.rtt !== undefined, 10_000, 'a first ping')
    await new Promise(resolve => setTimeout(resolve, 1_600))
    expect(missed).to.deep.equal([])
    // three more intervals passed: any ping stream would still be listed or counted
    expect(conn.streams.filter(s => s.protocol === MONITOR_PING_PROTOCOL)).to.have.length(0)
    expect(remote.getConnections(local.peerId)[0].streams.filter(s => s.protocol === MONITOR_PING_PROTOCOL)).to.have.length(0)
  })
})

describe('p2p: the connection monitor pings a watched peer sooner', function () {
  this.timeout(60_000)
  let local: ShoalLibp2p
  let remote: ShoalLibp2p
  let relay: PausableRelay

  beforeEach(async () => {
    // the regular interval is far beyond the test: only the watch pings
    local = await createShoalNode({ role: 'gateway', privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], monitor: { intervalMs: 600_000, timeoutMs: 1_000, watchIntervalMs: 200 } })
    remote = await createShoalNode({ role: 'orchestrator', privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], monitor: { intervalMs: 600_000 } })
    await Promise.all([local.start(), remote.start()])
    const port = Number(remote.getMultiaddrs()[0].toString().split('/tcp/')[1].split('/')[0])
    relay = new PausableRelay(port)
    await local.dial(multiaddr(`/ip4/127.0.0.1/tcp/${await relay.listen()}/p2p/${remote.peerId.toString()}`))
  })

  afterEach(async () => { await Promise.all([local?.stop(), remote?.stop(), relay?.close()]) })

  it('reports a silent watched peer within a watch interval and a ping timeout, and stops pinging it sooner once unwatched', async () => {
    const missed: number[] = []
    local.services.monitor.on('missed', (_peer: PeerId, count: number) => { missed.push(count) })
    const unwatch = local.services.monitor.watch(remote.peerId.toString())
    const paused = Date.now()
    relay.pause()
    await waitFor(() => missed.length > 0, 10_000, 'a missed ping of the watched peer')
    // 200 ms to the next watch ping, 1 s for it to time out, and room for a loaded machine
    expect(Date.now() - paused).to.be.below(3_000)
    unwatch()
    const count = missed.length
    // unwatched, the next ping is the regular one, 10 minutes away
    await new Promise(resolve => setTimeout(resolve, 2_500))
    expect(missed.length).to.be.at.most(count + 1)
  })

  it('still misses a ping when a garbage collection runs while it waits (no AbortSignal.timeout inside AbortSignal.any)', async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const missed: number[] = []
    local.services.monitor.on('missed', (_peer: PeerId, count: number) => { missed.push(count) })
    const unwatch = local.services.monitor.watch(remote.peerId.toString())
    relay.pause()
    // a watch ping is out and waiting for its pong when the collector runs
    await new Promise(resolve => setTimeout(resolve, 500))
    gc()
    await waitFor(() => missed.length > 0, 5_000, 'a missed ping after a gc()')
    unwatch()
  })
})
