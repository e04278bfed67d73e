import { expect } from 'chai'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadOrCreateNodeKeys } from '../../src/p2p/keys.js'
import { connectToMesh, createShoalNode } from '../../src/p2p/node.js'

describe('p2p/node', function () {
  this.timeout(30_000)

  it('a restarted node keeps its peer id and remembers its peers from the persistent datastore', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shoal-node-'))
    const peerKeys = await loadOrCreateNodeKeys(join(dir, 'peer'))
    const peer = await createShoalNode({ role: 'bootstrap', privateKey: peerKeys.libp2p, listen: ['/ip4/127.0.0.1/tcp/0'] })
    await peer.start()
    try {
      const keys = await loadOrCreateNodeKeys(join(dir, 'node'))
      const first = await createShoalNode({ role: 'gateway', privateKey: keys.libp2p, listen: ['/ip4/127.0.0.1/tcp/0'], datastorePath: join(dir, 'node', 'datastore') })
      await first.start()
      await connectToMesh(first, [peer.getMultiaddrs()[0].toString()])
      expect(first.getConnections(peer.peerId)).to.have.length.greaterThan(0)
      const firstId = first.peerId.toString()
      await first.stop()

      // restart with no bootstrap list: the peer comes back from the datastore
      const reloaded = await loadOrCreateNodeKeys(join(dir, 'node'))
      const second = await createShoalNode({ role: 'gateway', privateKey: reloaded.libp2p, listen: ['/ip4/127.0.0.1/tcp/0'], datastorePath: join(dir, 'node', 'datastore') })
      await second.start()
      try {
        expect(second.peerId.toString()).to.equal(firstId)
        const connected = await connectToMesh(second, [])
        expect(connected).to.equal(1)
        expect(second.getConnections(peer.peerId)).to.have.length.greaterThan(0)
      } finally {
        await second.stop()
      }
    } finally {
      await peer.stop()
    }
  })
})
