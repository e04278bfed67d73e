import { expect } from 'chai'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { Wallet } from 'ethers'
import { cpus, totalmem } from 'node:os'
import { announcementPublisher, type AnnouncementPublisher } from '../../src/discovery/publisher.js'
import { silentLogger } from '../../src/observability/logger.js'
import { infoServer } from '../../src/protocols/info/index.js'
import { createMesh, type Mesh } from '../../src/roles/mesh.js'
import { defaultOffers } from '../../src/testnet/in-process-mesh.js'
import { waitFor } from './helpers.js'

let counter = 0

interface Orchestrator { key: PrivateKey, mesh: Mesh, publisher: AnnouncementPublisher, stop: (graceful: boolean) => Promise<void> }

async function startOrchestrator (name: string, bootstrap: string, key?: PrivateKey): Promise<Orchestrator> {
  const privateKey = key ?? await generateKeyPair('Ed25519')
  const mesh = await createMesh({ role: 'orchestrator', privateKey, listen: [`/memory/${name}`], bootstrap: [bootstrap] }, { logger: silentLogger(), register: null })
  // a long lifetime and rare republishing: whatever happens within seconds is not gossip's doing
  const publisher = announcementPublisher({ ttlMs: 120_000, republishIntervalMs: 60_000 })({
    privateKey,
    peerId: mesh.node.peerId,
    ethPrivateKey: Wallet.createRandom().privateKey,
    addresses: () => mesh.node.getMultiaddrs().map(a => a.toString()),
    offers: () => defaultOffers().map(o => ({ ...o, inUse: 0 })),
    hardware: { cpus: cpus().length, memoryBytes: totalmem(), gpus: [] },
    gossip: mesh.gossip,
    logger: silentLogger()
  })
  const info = infoServer(mesh.node, { current: publisher.current, logger: silentLogger() })
  await mesh.start()
  await info.start()
  await publisher.start()
  return {
    key: privateKey,
    mesh,
    publisher,
    async stop (graceful) {
      if (graceful) await publisher.withdraw()
      publisher.stop()
      await info.stop()
      await mesh.stop()
    }
  }
}

/** Real libp2p nodes on the memory transport: a bootstrap, an orchestrator, a gateway. */
describe('discovery: a gateway follows connections to keep candidates reachable', function () {
  this.timeout(90_000)
  let name: string
  let bootstrap: Mesh
  let bootstrapAddr: string
  let gateway: Mesh
  let orchestrator: Orchestrator

  beforeEach(async () => {
    name = `reach-${process.pid}-${counter++}`
    bootstrap = await createMesh({ role: 'bootstrap', privateKey: await generateKeyPair('Ed25519'), listen: [`/memory/${name}-b`], bootstrap: [] }, { logger: silentLogger(), register: null })
    await bootstrap.start()
    bootstrapAddr = `/memory/${name}-b/p2p/${bootstrap.node.peerId.toString()}`
    gateway = await createMesh({ role: 'gateway', privateKey: await generateKeyPair('Ed25519'), listen: [`/memory/${name}-g`], bootstrap: [bootstrapAddr] }, { logger: silentLogger(), register: null })
    await gateway.start()
    orchestrator = await startOrchestrator(`${name}-o`, bootstrapAddr)
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
    orchestrator = await startOrchestrator(`${name}-o2`, bootstrapAddr, orchestrator.key)
    const started = Date.now()
    await gateway.node.dial(orchestrator.mesh.node.getMultiaddrs()[0])
    await waitFor(() => isCandidate(), 10_000, 'the restarted orchestrator to be a candidate')
    expect(Date.now() - started).to.be.lessThan(10_000)
  })
})
