import { expect } from 'chai'
import { decodeSignedAnnouncement, encodeSignedAnnouncement } from '../../src/discovery/announcement.js'
import { OrchestratorDirectory } from '../../src/discovery/directory.js'
import { freshSigned } from './helpers.js'

const BROKER = '0x5fbdb2315678afecb367f032d93f642f64180aa3'

describe('discovery: bonded orchestrators (issue 15)', function () {
  this.timeout(60_000)

  it('an announcement carries its bond claim (signed, field 30) and a malformed one is refused', async () => {
    const s = await freshSigned({ bondBroker: BROKER })
    const decoded = decodeSignedAnnouncement(encodeSignedAnnouncement(s))
    expect(decoded.announcement.bondBroker).to.equal(BROKER)
    const none = decodeSignedAnnouncement(encodeSignedAnnouncement(await freshSigned()))
    expect(none.announcement.bondBroker).to.equal(undefined)
    const bad = await freshSigned({ bondBroker: '0x1234' })
    expect(() => decodeSignedAnnouncement(encodeSignedAnnouncement(bad))).to.throw(/bondBroker/)
  })

  it('under a flood of unbonded newcomers, bonded entries are kept and unbonded ones evicted', async () => {
    const directory = new OrchestratorDirectory({ maxPerHost: 100, maxEntries: 5 })
    const bonded: string[] = []
    const plain: string[] = []
    for (let i = 0; i < 5; i++) {
      const s = await freshSigned({ addresses: [`/ip4/10.7.0.${i}/tcp/4002`], bondBroker: BROKER })
      expect(directory.upsert(s, 'gossip')).to.equal(true)
      if (i < 2) { directory.markBonded(s.announcement.peerId); bonded.push(s.announcement.peerId) } else plain.push(s.announcement.peerId)
    }
    for (let i = 0; i < 20; i++) directory.upsert(await freshSigned({ addresses: [`/ip4/10.8.0.${i}/tcp/4002`] }), 'gossip')
    const listed = directory.list().map(e => e.peerId)
    expect(listed).to.include.members(bonded)
    expect(listed).to.have.length(5)
    // a bond taken back (below the gateway's minimum) ranks it with everyone else again
    directory.markBonded(bonded[0] ?? '', false)
    expect(directory.isBonded(bonded[0] ?? '')).to.equal(false)
    expect((directory.toJSON() as Array<{ peerId: string, bonded: boolean }>).find(e => e.peerId === bonded[1])?.bonded).to.equal(true)
  })
})
