import { expect } from 'chai'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { silentLogger } from '../../src/observability/logger.js'
import { createMesh, type Mesh } from '../../src/roles/mesh.js'
import { startAnnouncingOrchestrator, waitFor, type AnnouncingOrchestrator } from './helpers.js'

let counter = 0

// a long lifetime and rare republishing: whatever happens within seconds is not gossip's doing
const PUBLISHER = { ttlMs: 120_000, republishIntervalMs: 60_000 }

/** Real libp2p nodes on the memory transport: a bootstrap, an orchestrator, a gateway. */
describe('discovery: a gateway follows connections to keep candidates reachable', function () {
  this.timeout(90_000)
  let name: string
  let bootstrap: Mesh
  let bootstrapAddr: string
  let gateway: Mesh
  let orchestrator: AnnouncingOrchestrator

  beforeEach(async () => {
    name = `reach-${process.pid}-${counter++}`
    bootstrap = await createMesh({ role: 'bootstrap', privateKey: await generateKeyPair('Ed25519'), listen: [`/memory/${name}-b`], bootstrap: [] }, { logger: silentLogger(), register: null })
    await bootstrap.start()
    bootstrapAddr = `/memory/${name}-b/p2p/${bootstrap.node.peerId.toString()}`
    gateway = await createMesh({ role: 'gateway', privateKey: await generateKeyPair('Ed25519'), listen: [`/memory/${name}-g`], bootstrap: [bootstrapAddr] }, { logger: silentLogger(), register: null })
    await gateway.start()
    orchestrator = await startAnnouncingOrchestrator(`/memory/${name}-o`, bootstrapAddr, { publisher: PUBLISHER })
    await gateway.node.dial(orchestrator.mesh.node.getMultiaddrs()[0])
    await waitFor(() => gateway.directory.candidates('upscale').length === 1, 20_000, 'the orchestrator to be a candidate')
  })

  afterEach(async () => {
    await orchestrator?.stop(false).catch(() => {})
    await gateway?.stop()
    await bootstrap?.stop()
  })

  const id = (): string => orchestrator.mesh.node.peerId.toString()
  const isCandidate = (): boolean => gateway.directory.candidates('upscale').some(c => c.peerId === id())

  it('a closed connection takes it out of the candidates at once; a new one brings it back within seconds', async () => {
    const seq = gateway.directory.get(id())?.announcement.seq
    await gateway.node.hangUp(orchestrator.mesh.node.peerId)
    await waitFor(() => !isCandidate(), 5_000, 'the orchestrator to leave the candidates')
    expect(gateway.directory.has(id()), 'still listed until it expires or withdraws').to.equal(true)
    const dialled = Date.now()
    await gateway.node.dial(orchestrator.mesh.node.getMultiaddrs()[0])
    await waitFor(() => isCandidate(), 10_000, 'the orchestrator to be a candidate again')
    expect(Date.now() - dialled).to.be.lessThan(10_000)
    // brought back by the /shoal/info answer on the new connection, not by a new announcement
    expect(gateway.directory.get(id())?.announcement.seq).to.equal(seq)
  })

  it('a node that dies without a word (its connections close) is no candidate within seconds', async () => {
    await orchestrator.stop(false)
    await waitFor(() => !isCandidate(), 5_000, 'the dead orchestrator to leave the candidates')
  })

  it('an orchestrator that restarts is listed and a candidate again as soon as it connects', async () => {
    await orchestrator.stop(true)
    await waitFor(() => !gateway.directory.has(id()), 5_000, 'the withdrawal')
    orchestrator = await startAnnouncingOrchestrator(`/memory/${name}-o2`, bootstrapAddr, { key: orchestrator.key, publisher: PUBLISHER })
    const started = Date.now()
    await gateway.node.dial(orchestrator.mesh.node.getMultiaddrs()[0])
    await waitFor(() => isCandidate(), 10_000, 'the restarted orchestrator to be a candidate')
    expect(Date.now() - started).to.be.lessThan(10_000)
  })
})
