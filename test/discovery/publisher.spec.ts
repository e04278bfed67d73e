import { expect } from 'chai'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Wallet } from 'ethers'
import { decodeSignedAnnouncement, encodeSignedAnnouncement, type SignedAnnouncement } from '../../src/discovery/announcement.js'
import type { AnnouncementGossip } from '../../src/discovery/gossip.js'
import { announcementPublisher, type LiveOffer } from '../../src/discovery/publisher.js'
import { silentLogger } from '../../src/observability/logger.js'
import { defaultOffers } from '../../src/testnet/in-process-mesh.js'
import { sleep, waitFor } from './helpers.js'

/** A publisher whose gossip records what it would send (the bytes, decoded back as a receiver would). */
async function recordingPublisher (init: Parameters<typeof announcementPublisher>[0], live: { offers: LiveOffer[], addresses?: string[], addressReads?: number }) {
  const privateKey = await generateKeyPair('Ed25519')
  const sent: SignedAnnouncement[] = []
  const gossip: AnnouncementGossip = {
    start () {},
    stop () {},
    async publish (signed) { sent.push(decodeSignedAnnouncement(encodeSignedAnnouncement(signed))) }
  }
  const publisher = announcementPublisher(init)({
    privateKey,
    peerId: peerIdFromPrivateKey(privateKey),
    ethPrivateKey: Wallet.createRandom().privateKey,
    addresses: () => { live.addressReads = (live.addressReads ?? 0) + 1; return live.addresses ?? ['/ip4/127.0.0.1/tcp/4002'] },
    offers: () => live.offers,
    hardware: { cpus: 1, memoryBytes: 1, gpus: [] },
    gossip,
    logger: silentLogger()
  })
  return { publisher, sent }
}

describe('discovery: the announcement publisher follows what changes slowly', function () {
  this.timeout(30_000)

  it('publishes no announcement for slot changes, and a load flip at most once per interval', async () => {
    const live = { offers: defaultOffers().map(o => ({ ...o, capacity: 4, inUse: 0 })) }
    const { publisher, sent } = await recordingPublisher({ minPublishIntervalMs: 20, minLoadPublishIntervalMs: 1_000, republishIntervalMs: 60_000, ttlMs: 180_000 }, live)
    await publisher.start()
    expect(sent).to.have.length(1)
    expect(sent[0].announcement.models[0]).to.include({ load: 'available', capacity: 4 })
    expect(sent[0].announcement.models[0]).to.not.have.property('inUse')
    // a busy second: slots taken and freed 2,000 times, never all four
    const started = Date.now()
    for (let i = 0; i < 2000; i++) {
      live.offers[0].inUse = i % 4
      publisher.update()
      if (i % 100 === 0) await sleep(5)
    }
    await sleep(100)
    expect(sent, 'announcements for slot changes below saturation').to.have.length(1)
    // now flapping between full and not: saturated is published once, then nothing for the interval
    for (let i = 0; i < 200; i++) {
      live.offers[0].inUse = i % 2 === 0 ? 4 : 3
      publisher.update()
      await sleep(2)
    }
    live.offers[0].inUse = 4
    publisher.update()
    await waitFor(() => sent.length >= 2, 3_000, 'the saturated announcement')
    expect(sent[1].announcement.models[0].load).to.equal('saturated')
    // hysteresis: 3 of 4 in use is still saturated, 2 of 4 is available again, after the interval
    live.offers[0].inUse = 3
    publisher.update()
    await sleep(50)
    expect(sent).to.have.length(2)
    live.offers[0].inUse = 2
    publisher.update()
    await waitFor(() => sent.length >= 3, 3_000, 'the available announcement')
    expect(sent[2].announcement.models[0].load).to.equal('available')
    expect(sent[2].announcement.timestamp - sent[1].announcement.timestamp, 'load announcements spaced').to.be.at.least(1_000)
    expect(Date.now() - started).to.be.lessThan(20_000)
    publisher.stop()
  })

  it('publishes nothing while the load flaps around saturation', async () => {
    const live = { offers: defaultOffers().map(o => ({ ...o, capacity: 2, inUse: 0 })) }
    const { publisher, sent } = await recordingPublisher({ minPublishIntervalMs: 20, minLoadPublishIntervalMs: 200, loadSettleMs: 500, republishIntervalMs: 60_000 }, live)
    await publisher.start()
    const until = Date.now() + 2_000
    for (let i = 0; Date.now() < until; i++) {
      live.offers[0].inUse = i % 2 === 0 ? 2 : 0
      publisher.update()
      await sleep(50)
    }
    expect(sent, 'announcements while flapping').to.have.length(1)
    // once it holds, it is published
    live.offers[0].inUse = 2
    publisher.update()
    await waitFor(() => sent.length === 2, 5_000, 'the settled load')
    expect(sent[1].announcement.models[0].load).to.equal('saturated')
    publisher.stop()
  })

  it('publishes a change of offer soon, whatever the load interval', async () => {
    const live = { offers: defaultOffers().map(o => ({ ...o, inUse: 0 })) }
    const { publisher, sent } = await recordingPublisher({ minPublishIntervalMs: 20, minLoadPublishIntervalMs: 60_000, republishIntervalMs: 60_000 }, live)
    await publisher.start()
    live.offers = [...live.offers, { ...live.offers[0], modelId: 'another/model', warm: false }]
    publisher.update()
    await waitFor(() => sent.length >= 2, 3_000, 'the new offer')
    expect(sent[1].announcement.models.map(m => m.modelId)).to.deep.equal(['upscalerjs/esrgan-slim-x2', 'another/model'])
    publisher.stop()
  })

  it('reads the addresses for an update only when told they may have changed, and publishes a new one soon', async () => {
    const live: { offers: LiveOffer[], addresses: string[], addressReads?: number } = { offers: defaultOffers().map(o => ({ ...o, capacity: 4, inUse: 0 })), addresses: ['/ip4/127.0.0.1/tcp/4002'] }
    const { publisher, sent } = await recordingPublisher({ minPublishIntervalMs: 20, minLoadPublishIntervalMs: 60_000, republishIntervalMs: 60_000 }, live)
    await publisher.start()
    const reads = live.addressReads
    // every job takes and frees a slot: no address is read for that
    for (let i = 0; i < 100; i++) {
      live.offers[0].inUse = i % 2
      publisher.update()
    }
    expect(live.addressReads).to.equal(reads)
    live.addresses = ['/ip4/127.0.0.1/tcp/4002', '/ip4/10.0.0.7/tcp/4002']
    publisher.update({ addresses: true })
    await waitFor(() => sent.length >= 2, 3_000, 'the announcement with the new address')
    expect(sent[1].announcement.addresses).to.deep.equal(live.addresses)
    publisher.stop()
  })

  it('withdraws with a newer seq and no models, and stays silent after', async () => {
    const live = { offers: defaultOffers().map(o => ({ ...o, inUse: 0 })) }
    const { publisher, sent } = await recordingPublisher({ minPublishIntervalMs: 20, republishIntervalMs: 50 }, live)
    await publisher.start()
    await publisher.withdraw()
    const withdrawal = sent.at(-1)!
    expect(withdrawal.announcement).to.include({ withdrawn: true })
    expect(withdrawal.announcement.models).to.deep.equal([])
    expect(withdrawal.announcement.seq).to.be.greaterThan(sent[0].announcement.seq)
    expect(publisher.current()?.announcement.withdrawn).to.equal(true)
    const count = sent.length
    publisher.update()
    await sleep(200)
    expect(sent).to.have.length(count)
    publisher.stop()
  })
})
