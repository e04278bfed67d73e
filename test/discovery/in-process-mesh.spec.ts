import { expect } from 'chai'
import { ANNOUNCEMENT_TOPIC } from '../../src/discovery/constants.js'
import { startInProcessMesh, type InProcessMesh } from '../../src/testnet/in-process-mesh.js'
import { waitFor } from '../helpers/wait-for.js'

describe('discovery: a 20-node in-process mesh (memory transport)', function () {
  this.timeout(120_000)
  let mesh: InProcessMesh

  before(async () => {
    // a long lifetime: leaving is by withdrawal, not expiry (expiry is covered in directory.spec)
    mesh = await startInProcessMesh({ orchestrators: 10, gateways: 9, ttlMs: 60_000 })
  })

  after(async () => { await mesh?.stop() })

  it('every gateway sees every orchestrator', async () => {
    const expected = mesh.orchestrators.map(o => o.mesh.node.peerId.toString()).sort()
    await waitFor(() => mesh.gateways.every(g => g.directory.size === expected.length), 40_000, 'all gateways to list all orchestrators')
    for (const gateway of mesh.gateways) {
      expect(gateway.directory.list().map(e => e.peerId).sort()).to.deep.equal(expected)
    }
  })

  it('a stopped orchestrator withdraws: every gateway drops it long before its announcement expires', async () => {
    // A withdrawal is published once. Its publisher sends it to every peer it knows is
    // subscribed (gossipsub's flood publish); the mesh carries it further. Right after a
    // burst of joins a gateway's mesh can be empty for up to a minute (peers with full
    // meshes prune grafts with a 60 s backoff) and it then hears a one-off message only if
    // gossip's IHAVE picks it: the orchestrator stopped is one that reaches every gateway
    // directly, which is the case being tested
    const gatewayIds = mesh.gateways.map(g => g.node.peerId.toString())
    const reachesEveryGateway = (o: (typeof mesh.orchestrators)[number]): boolean => {
      const subscribers = new Set(o.mesh.node.services.pubsub.getSubscribers(ANNOUNCEMENT_TOPIC).map(p => p.toString()))
      return gatewayIds.every(id => subscribers.has(id))
    }
    await waitFor(() => mesh.orchestrators.some(reachesEveryGateway), 30_000, 'an orchestrator connected to every gateway')
    const index = mesh.orchestrators.findIndex(reachesEveryGateway)
    expect(index).to.be.at.least(0)
    const [stopped] = mesh.orchestrators.splice(index, 1)
    const stoppedId = stopped.mesh.node.peerId.toString()
    const withdrawnAt = new Map<number, number>()
    mesh.gateways.forEach((g, i) => g.directory.once('withdrawn', () => { withdrawnAt.set(i, Date.now()) }))
    const started = Date.now()
    await stopped.stop()
    await waitFor(() => mesh.gateways.every(g => !g.directory.has(stoppedId)), 10_000, 'the stopped orchestrator to leave')
    // by its signed withdrawal, not by expiry (60 s) nor a closed connection
    expect(withdrawnAt.size, 'gateways that got the withdrawal').to.equal(mesh.gateways.length)
    expect(Math.max(...withdrawnAt.values()) - started).to.be.lessThan(10_000)
    // the others keep republishing and stay listed
    for (const gateway of mesh.gateways) expect(gateway.directory.size).to.equal(mesh.orchestrators.length)
  })
})
