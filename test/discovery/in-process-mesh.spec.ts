import { expect } from 'chai'
import { startInProcessMesh, type InProcessMesh } from '../../src/testnet/in-process-mesh.js'

async function waitFor (condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

describe('discovery: a 20-node in-process mesh (memory transport)', function () {
  this.timeout(120_000)
  let mesh: InProcessMesh

  before(async () => {
    mesh = await startInProcessMesh({ orchestrators: 10, gateways: 9, ttlMs: 3_000 })
  })

  after(async () => { await mesh?.stop() })

  it('every gateway sees every orchestrator', async () => {
    const expected = mesh.orchestrators.map(o => o.mesh.node.peerId.toString()).sort()
    await waitFor(() => mesh.gateways.every(g => g.directory.size === expected.length), 20_000, 'all gateways to list all orchestrators')
    for (const gateway of mesh.gateways) {
      expect(gateway.directory.list().map(e => e.peerId).sort()).to.deep.equal(expected)
    }
  })

  it('entries of a stopped orchestrator expire from every gateway', async () => {
    const stopped = mesh.orchestrators[0]
    const stoppedId = stopped.mesh.node.peerId.toString()
    await stopped.stop()
    await waitFor(() => mesh.gateways.every(g => !g.directory.has(stoppedId)), 10_000, 'the stopped orchestrator to expire')
    // the others keep republishing and stay listed
    for (const gateway of mesh.gateways) expect(gateway.directory.size).to.equal(mesh.orchestrators.length - 1)
    mesh.orchestrators.shift()
  })
})
