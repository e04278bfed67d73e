import { expect } from 'chai'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { setTimeout as sleep } from 'node:timers/promises'
import { connectToMesh, createShoalNode, type ShoalLibp2p } from '../../src/p2p/node.js'
import { startPeerMaintenance } from '../../src/p2p/peer-maintenance.js'
import { silentLogger } from '../../src/observability/logger.js'

async function node (role: 'bootstrap' | 'orchestrator' | 'gateway'): Promise<ShoalLibp2p> {
  const n = await createShoalNode({ role, privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  await n.start()
  return n
}

/** The real node, with its DHT walks counted. */
function counting (real: ShoalLibp2p): { node: ShoalLibp2p, walks: () => number } {
  let walks = 0
  const peerRouting = new Proxy(real.peerRouting, {
    get (target, key, receiver) {
      if (key === 'getClosestPeers') {
        return (...args: Parameters<ShoalLibp2p['peerRouting']['getClosestPeers']>) => { walks++; return target.getClosestPeers(...args) }
      }
      return Reflect.get(target, key, receiver)
    }
  })
  const node = new Proxy(real, { get: (target, key, receiver) => key === 'peerRouting' ? peerRouting : Reflect.get(target, key, receiver) })
  return { node, walks: () => walks }
}

describe('p2p/peer-maintenance: DHT walks toward minPeers connections', function () {
  this.timeout(30_000)

  it('walks less and less often while a small mesh has nobody new, and dials a newcomer all the same', async () => {
    const bootstrap = await node('bootstrap')
    const others = [await node('orchestrator'), await node('orchestrator')]
    const watched = await node('gateway')
    const nodes = [bootstrap, ...others, watched]
    const address = bootstrap.getMultiaddrs()[0].toString()
    let maintenance: { stop: () => void } | undefined
    try {
      for (const n of [...others, watched]) await connectToMesh(n, [address])
      const { node: spied, walks } = counting(watched)
      // the mesh has 4 nodes: the target of 8 can never be reached
      maintenance = startPeerMaintenance(spied, silentLogger(), { minPeers: 8, firstCheckMs: 0, retryMs: 50, maxRetryMs: 400, joinPhaseMs: 0 })
      await sleep(2_500)
      // without the back-off: a walk every 50 ms, ~40; with it: 50, 100, 200, 400, 400, ...
      const idleWalks = walks()
      expect(idleWalks).to.be.within(3, 12)
      // the first walks found the two orchestrators through the bootstrap
      expect(watched.getConnections().length).to.equal(3)

      // a newcomer that knows only the bootstrap is found by a later walk (at most 400 ms apart)
      const newcomer = await node('orchestrator')
      nodes.push(newcomer)
      await connectToMesh(newcomer, [address])
      const deadline = Date.now() + 5_000
      while (watched.getConnections(newcomer.peerId).length === 0 && Date.now() < deadline) await sleep(50)
      expect(watched.getConnections(newcomer.peerId), 'the newcomer was dialled').to.have.length.greaterThan(0)
    } finally {
      maintenance?.stop()
      await Promise.all(nodes.map(async n => { await n.stop() }))
    }
  })

  it('does not back off while it joins: a mesh forming with it is found as soon as the bootstrap knows it', async () => {
    const bootstrap = await node('bootstrap')
    const watched = await node('gateway')
    const nodes = [bootstrap, watched]
    const address = bootstrap.getMultiaddrs()[0].toString()
    let maintenance: { stop: () => void } | undefined
    try {
      await connectToMesh(watched, [address])
      const { node: spied, walks } = counting(watched)
      // alone with its bootstrap: every walk finds nobody
      maintenance = startPeerMaintenance(spied, silentLogger(), { minPeers: 8, firstCheckMs: 0, retryMs: 50, maxRetryMs: 5_000, joinPhaseMs: 1_500 })
      await sleep(1_000)
      // within the join phase a walk every ~50 ms (as many as a walk's time allows); backing off it would be 4 (50, 100, 200, 400)
      const joining = walks()
      expect(joining).to.be.greaterThan(6)
      // an orchestrator joins late, through the bootstrap: found at once
      const late = await node('orchestrator')
      nodes.push(late)
      await connectToMesh(late, [address])
      const deadline = Date.now() + 3_000
      while (watched.getConnections(late.peerId).length === 0 && Date.now() < deadline) await sleep(50)
      expect(watched.getConnections(late.peerId), 'the late orchestrator was dialled').to.have.length.greaterThan(0)
      // after the join phase, walks that find nobody back off again
      await sleep(1_000)
      const settled = walks()
      await sleep(1_500)
      expect(walks() - settled).to.be.at.most(3)
    } finally {
      maintenance?.stop()
      await Promise.all(nodes.map(async n => { await n.stop() }))
    }
  })

  it('an isolated node dials its bootstrap list again, and only while it has no connection', async () => {
    const bootstrap = await node('bootstrap')
    const isolated = await node('orchestrator')
    const address = bootstrap.getMultiaddrs()[0].toString()
    let rejoins = 0
    const maintenance = startPeerMaintenance(isolated, silentLogger(), {
      minPeers: 8,
      firstCheckMs: 0,
      retryMs: 50,
      maxRetryMs: 200,
      rejoin: async (signal) => { rejoins++; return await connectToMesh(isolated, [address], { signal }) }
    })
    try {
      // it has no connection at all (started alone, or every peer gone): a check rejoins
      const deadline = Date.now() + 10_000
      while (isolated.getConnections(bootstrap.peerId).length === 0 && Date.now() < deadline) await sleep(25)
      expect(isolated.getConnections(bootstrap.peerId), 'connected to the bootstrap').to.have.length.greaterThan(0)
      expect(rejoins).to.be.greaterThan(0)
      // connected, below target: DHT walks, not bootstrap dials
      const after = rejoins
      await sleep(600)
      expect(rejoins).to.equal(after)
    } finally {
      maintenance.stop()
      await Promise.all([bootstrap.stop(), isolated.stop()])
    }
  })
})
