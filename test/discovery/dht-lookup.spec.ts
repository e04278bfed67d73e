import { expect } from 'chai'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { silentLogger } from '../../src/observability/logger.js'
import { queryInfo, InfoProtocolError } from '../../src/protocols/info/index.js'
import { createMesh, type Mesh } from '../../src/roles/mesh.js'
import { startInProcessMesh, type InProcessMesh } from '../../src/testnet/in-process-mesh.js'

/**
 * The fallback path: a gateway that never heard an orchestrator's gossip finds it through
 * the DHT provider records of its capabilities, then fetches and validates its
 * announcement over /shoal/info.
 */
describe('discovery: DHT capability lookup and /shoal/info', function () {
  this.timeout(60_000)
  let mesh: InProcessMesh
  let late: Mesh

  before(async () => {
    mesh = await startInProcessMesh({ orchestrators: 3, gateways: 0, ttlMs: 60_000 })
    // a gateway that is not subscribed to the announcement topic: gossip never reaches it
    late = await createMesh({ role: 'gateway', privateKey: await generateKeyPair('Ed25519'), listen: [`/memory/dht-late-${process.pid}`], bootstrap: [`${mesh.bootstrap.node.getMultiaddrs()[0].toString()}`], trackReachability: false }, { logger: silentLogger(), register: null })
    await late.start()
    late.gossip.stop()
  })

  after(async () => {
    await late?.stop()
    await mesh?.stop()
  })

  it('/shoal/info returns an orchestrator\'s current signed announcement, which validates', async () => {
    const target = mesh.orchestrators[0]
    await late.node.dial(target.mesh.node.getMultiaddrs()[0])
    expect(await late.lookup.queryPeer(target.mesh.node.peerId, 'info')).to.equal(true)
    const entry = late.directory.get(target.mesh.node.peerId.toString())
    expect(entry?.source).to.equal('info')
    expect(entry?.announcement.seq).to.equal(target.publisher.current()?.announcement.seq)
  })

  it('a node without an announcement answers /shoal/info with a typed error', async () => {
    const err = await queryInfo(late.node, mesh.bootstrap.node.peerId).catch(e => e)
    expect(err).to.be.instanceOf(InfoProtocolError)
  })

  it('finds every orchestrator of a (pipeline, model) through DHT provider records', async () => {
    const expected = mesh.orchestrators.map(o => o.mesh.node.peerId.toString()).sort()
    const deadline = Date.now() + 30_000
    // provider records go out shortly after the first announcement
    while (Date.now() < deadline) {
      await late.lookup.lookup('upscale', 'upscalerjs/esrgan-slim-x2', { signal: AbortSignal.timeout(5_000) })
      if (expected.every(id => late.directory.has(id))) break
      await new Promise(resolve => setTimeout(resolve, 500))
    }
    expect(late.directory.list().map(e => e.peerId).sort()).to.deep.equal(expected)
    expect(late.directory.list().filter(e => e.peerId !== mesh.orchestrators[0].mesh.node.peerId.toString()).every(e => e.source === 'dht')).to.equal(true)
  })

  it('finds nobody for a model nobody serves', async () => {
    const before = late.directory.size
    expect(await late.lookup.lookup('upscale', 'nobody/serves-this', { signal: AbortSignal.timeout(3_000) })).to.equal(0)
    expect(late.directory.size).to.equal(before)
  })
})
