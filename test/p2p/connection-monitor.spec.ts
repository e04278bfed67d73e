import { expect } from 'chai'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Connection, PeerId } from '@libp2p/interface'
import { MONITOR_PING_PROTOCOL } from '../../src/p2p/connection-monitor.js'
import { createShoalNode, type ShoalLibp2p } from '../../src/p2p/node.js'

let counter = 0
const HOLD = '/shoal/test-hold/1.0.0'

async function waitFor (condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

/**
 * Two real libp2p nodes; the remote stops answering pings (its ping handler swallows
 * the stream), as a CPU-starved or partitioned peer would.
 */
describe('p2p: the connection monitor tolerates missed pings on busy connections', function () {
  this.timeout(60_000)
  let local: ShoalLibp2p
  let remote: ShoalLibp2p
  let missed: number[]
  let recovered: number

  beforeEach(async () => {
    const name = `cm-${process.pid}-${counter++}`
    local = await createShoalNode({ role: 'gateway', privateKey: await generateKeyPair('Ed25519'), listen: [`/memory/${name}-l`], monitor: { intervalMs: 500, timeoutMs: 1_000, maxMissedIdle: 2, maxMissedBusy: 4 } })
    // the remote's own monitor stays quiet: only the local one is under test
    remote = await createShoalNode({ role: 'orchestrator', privateKey: await generateKeyPair('Ed25519'), listen: [`/memory/${name}-r`], monitor: { intervalMs: 600_000 } })
    await Promise.all([local.start(), remote.start()])
    await remote.handle(HOLD, () => { /* held open: a job in flight */ })
    missed = []
    recovered = 0
    local.services.monitor.on('missed', (_peer: PeerId, count: number) => { missed.push(count) })
    local.services.monitor.on('recovered', () => { recovered++ })
  })

  afterEach(async () => { await Promise.all([local?.stop(), remote?.stop()]) })

  async function silencePings (): Promise<void> {
    await remote.unhandle(MONITOR_PING_PROTOCOL)
    await remote.handle(MONITOR_PING_PROTOCOL, () => { /* never answers */ }, { maxInboundStreams: 64 })
  }

  async function connect (): Promise<Connection> {
    return await local.dial(remote.getMultiaddrs()[0])
  }

  it('a connection with a stream in flight survives missed pings up to its limit', async () => {
    const conn = await connect()
    await conn.newStream(HOLD)
    await silencePings()
    await waitFor(() => missed.includes(3), 20_000, 'three missed pings')
    expect(conn.status, 'open after three missed pings with a job in flight').to.equal('open')
    await waitFor(() => conn.status !== 'open', 20_000, 'the connection to close after the fourth')
    expect(Math.max(...missed)).to.equal(4)
  })

  it('an idle connection closes after two missed pings', async () => {
    const conn = await connect()
    await silencePings()
    await waitFor(() => conn.status !== 'open', 20_000, 'the idle connection to close')
    expect(missed.at(-1)).to.equal(2)
  })

  it('reports a recovery when pings are answered again', async () => {
    const conn = await connect()
    await conn.newStream(HOLD)
    await silencePings()
    await waitFor(() => missed.length >= 1, 20_000, 'a missed ping')
    await remote.unhandle(MONITOR_PING_PROTOCOL)
    // an unsupported protocol still proves the peer is alive; the real ping service answers too
    await waitFor(() => recovered > 0, 20_000, 'the recovery')
    expect(conn.status).to.equal('open')
  })
})
