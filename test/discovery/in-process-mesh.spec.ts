import { expect } from 'chai'
import { ANNOUNCEMENT_TOPIC } from '../../src/discovery/constants.js'
import { startInProcessMesh, type InProcessMesh } from '../../src/testnet/in-process-mesh.js'
import { waitFor } from '../helpers/wait-for.js'

/** gossipsub's D_low: below it a node grafts more peers into its mesh */
const MESH_LOW = 4

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
    // a withdrawal is published once: it reaches the gateways through the gossip mesh, so
    // the mesh must have formed. Every gateway lists every orchestrator well before that (a
    // gateway connected to the bootstrap alone hears the periodic announcements, and then
    // gets a missed withdrawal only if gossip's IHAVE happens to pick it)
    await waitFor(() => mesh.gateways.every(g => g.node.services.pubsub.getMeshPeers(ANNOUNCEMENT_TOPIC).length >= MESH_LOW), 30_000, `every gateway to have ${MESH_LOW} gossip mesh peers`)
    const stopped = mesh.orchestrators.shift()!
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
