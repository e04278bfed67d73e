import { expect } from 'chai'
import { signAnnouncement } from '../../src/discovery/announcement.js'
import { OrchestratorDirectory, type DirectoryRefusal, type DirectoryRemoval } from '../../src/discovery/directory.js'
import { freshSigned } from './helpers.js'

function recorder (directory: OrchestratorDirectory): { removed: Array<[string, DirectoryRemoval]>, refused: Array<[string, DirectoryRefusal]> } {
  const out = { removed: [] as Array<[string, DirectoryRemoval]>, refused: [] as Array<[string, DirectoryRefusal]> }
  directory.on('removed', (peer, reason) => out.removed.push([peer, reason]))
  directory.on('refused', (peer, reason) => out.refused.push([peer, reason]))
  return out
}

describe('discovery: the orchestrator directory', function () {
  this.timeout(30_000)

  it('drops an entry at once on a signed withdrawal, and refuses the older announcement afterwards', async () => {
    const directory = new OrchestratorDirectory()
    const events = recorder(directory)
    const first = await freshSigned()
    expect(directory.upsert(first, 'gossip')).to.equal(true)
    const withdrawal = await signAnnouncement({ ...first.announcement, seq: first.announcement.seq + 1, models: [], withdrawn: true }, first.key)
    expect(directory.upsert(withdrawal, 'gossip')).to.equal(true)
    expect(directory.has(first.announcement.peerId)).to.equal(false)
    expect(events.removed).to.deep.equal([[first.announcement.peerId, 'withdrawn']])
    // a replay of the announcement it replaced does not bring it back
    expect(directory.upsert(first, 'info')).to.equal(false)
    expect(directory.has(first.announcement.peerId)).to.equal(false)
  })

  it('expires entries at their expiresAt', async () => {
    let now = Date.now()
    const directory = new OrchestratorDirectory({ now: () => now })
    const events = recorder(directory)
    const signed = await freshSigned()
    directory.upsert(signed, 'gossip')
    now = signed.announcement.expiresAt + 1
    expect(directory.candidates('upscale')).to.have.length(0)
    directory.sweep()
    expect(events.removed).to.deep.equal([[signed.announcement.peerId, 'expired']])
  })

  it('refuses an announcement with no dialable address', async () => {
    const directory = new OrchestratorDirectory({ transports: new Set(['tcp']) })
    const events = recorder(directory)
    for (const addresses of [[], ['not a multiaddr'], ['/memory/x'], ['/ip4/0.0.0.0/tcp/4002'], ['/ip4/10.0.0.1/udp/4002/quic-v1'], ['/ip4/10.0.0.1/tcp/0']]) {
      expect(directory.upsert(await freshSigned({ addresses }), 'gossip'), addresses.join(' ')).to.equal(false)
    }
    expect(directory.size).to.equal(0)
    expect(events.refused.every(([, reason]) => reason === 'undialable')).to.equal(true)
    expect(directory.upsert(await freshSigned({ addresses: ['/memory/x', '/ip4/10.0.0.1/tcp/4002'] }), 'gossip')).to.equal(true)
  })

  it('takes an unreachable orchestrator out of the candidates until it is heard from again', async () => {
    const directory = new OrchestratorDirectory()
    const signed = await freshSigned()
    const id = signed.announcement.peerId
    directory.upsert(signed, 'gossip')
    directory.markUnreachable(id)
    expect(directory.candidates('upscale')).to.have.length(0)
    expect(directory.has(id), 'still listed').to.equal(true)
    directory.markReachable(id)
    expect(directory.candidates('upscale').map(c => c.peerId)).to.deep.equal([id])
    directory.markUnreachable(id)
    // a fresh announcement counts as being heard from
    directory.upsert(await signAnnouncement({ ...signed.announcement, seq: signed.announcement.seq + 1 }, signed.key), 'gossip')
    expect(directory.candidates('upscale').map(c => c.peerId)).to.deep.equal([id])
  })

  it('caps entries per host, keeping the established ones and evicting the newest', async () => {
    const directory = new OrchestratorDirectory({ maxPerHost: 3, maxEntries: 100 })
    const events = recorder(directory)
    const real = await freshSigned({ addresses: ['/ip4/10.1.1.1/tcp/4002'] })
    directory.upsert(real, 'gossip')
    const fakes = []
    for (let i = 0; i < 10; i++) {
      const fake = await freshSigned({ addresses: [`/ip4/10.1.1.1/tcp/${5000 + i}`] })
      fakes.push(fake)
      expect(directory.upsert(fake, 'gossip')).to.equal(true)
    }
    expect(directory.countForHost('10.1.1.1')).to.equal(3)
    expect(directory.has(real.announcement.peerId)).to.equal(true)
    // the first two newcomers stay; each later one took the newest's place
    expect(directory.has(fakes[0].announcement.peerId)).to.equal(true)
    expect(directory.has(fakes[9].announcement.peerId)).to.equal(true)
    expect(events.removed.filter(([, r]) => r === 'evicted')).to.have.length(8)
    // another host is unaffected
    expect(directory.upsert(await freshSigned({ addresses: ['/ip4/10.2.2.2/tcp/4002'] }), 'gossip')).to.equal(true)
  })

  it('caps the total; proven orchestrators are never evicted for unproven newcomers', async () => {
    const directory = new OrchestratorDirectory({ maxPerHost: 100, maxEntries: 5 })
    const events = recorder(directory)
    const proven = []
    for (let i = 0; i < 5; i++) {
      const s = await freshSigned({ addresses: [`/ip4/10.3.0.${i}/tcp/4002`] })
      directory.upsert(s, 'gossip')
      directory.markProven(s.announcement.peerId)
      proven.push(s.announcement.peerId)
    }
    for (let i = 0; i < 20; i++) {
      expect(directory.upsert(await freshSigned({ addresses: [`/ip4/10.4.0.${i}/tcp/4002`] }), 'gossip')).to.equal(false)
    }
    expect(directory.list().map(e => e.peerId).sort()).to.deep.equal([...proven].sort())
    expect(events.refused.filter(([, r]) => r === 'cap_total')).to.have.length(20)
  })

  it('evicts unreachable entries before reachable ones', async () => {
    const directory = new OrchestratorDirectory({ maxPerHost: 100, maxEntries: 3 })
    const ids = []
    for (let i = 0; i < 3; i++) {
      const s = await freshSigned({ addresses: [`/ip4/10.5.0.${i}/tcp/4002`] })
      directory.upsert(s, 'gossip')
      ids.push(s.announcement.peerId)
    }
    directory.markUnreachable(ids[0])
    const newcomer = await freshSigned()
    expect(directory.upsert(newcomer, 'gossip')).to.equal(true)
    expect(directory.has(ids[0])).to.equal(false)
    expect(directory.has(ids[1]) && directory.has(ids[2]) && directory.has(newcomer.announcement.peerId)).to.equal(true)
  })

  it('serves one bounded page as JSON, proven entries first', async function () {
    this.timeout(120_000)
    const directory = new OrchestratorDirectory()
    const peers = []
    for (let i = 0; i < 270; i++) {
      // signing 270 takes more than the default 30 s lifetime on a loaded machine: the first would expire before the page is read
      const s = await freshSigned({ addresses: [`/ip4/10.6.${i >> 8}.${i & 255}/tcp/4002`], expiresAt: Date.now() + 5 * 60_000 })
      directory.upsert(s, 'gossip')
      peers.push(s.announcement.peerId)
    }
    directory.markProven(peers[269])
    const page = directory.toJSON() as Array<{ peerId: string, proven: boolean }>
    expect(page.length).to.equal(256)
    expect(page[0]).to.include({ peerId: peers[269], proven: true })
    const second = directory.toJSON({ offset: page.length, limit: 256 }) as Array<{ peerId: string }>
    expect(page.length + second.length).to.equal(270)
  })
})
