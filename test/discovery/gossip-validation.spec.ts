import { expect } from 'chai'
import * as pbAnnouncement from '../../src/discovery/pb/announcement.js'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { Wallet } from 'ethers'
import { announcementMessage, encodeSignedAnnouncement, signAnnouncement, type Announcement } from '../../src/discovery/announcement.js'
import { createEthBinding } from '../../src/identity/binding.js'
import { ANNOUNCEMENT_TOPIC } from '../../src/discovery/constants.js'
import { announcementScoreParams } from '../../src/discovery/score.js'
import { silentLogger } from '../../src/observability/logger.js'
import { createShoalNode, type ShoalLibp2p } from '../../src/p2p/node.js'
import { createMesh, type Mesh } from '../../src/roles/mesh.js'
import { Registry } from 'prom-client'
import { announcementFor as announcementWith, sleep } from './helpers.js'

let counter = 0
/** on the memory transport, the only one these nodes dial */
const announcementFor = async (key: PrivateKey, overrides: Partial<Announcement> = {}): Promise<Announcement> =>
  await announcementWith(key, { addresses: ['/memory/nowhere'], ...overrides })

/**
 * attacker -- victim -- observer. The victim runs Shoal's validator; the observer is a
 * bare gossipsub node with no validator, so anything the victim forwards shows up there.
 */
describe('discovery: gossip validation refuses bad announcements from a real peer', function () {
  this.timeout(60_000)
  let attackerKey: PrivateKey
  let attacker: ShoalLibp2p
  let victim: Mesh
  let observer: ShoalLibp2p
  let register: Registry
  let observed: Uint8Array[]

  beforeEach(async () => {
    const name = `gv-${process.pid}-${counter++}`
    attackerKey = await generateKeyPair('Ed25519')
    register = new Registry()
    victim = await createMesh({ role: 'bootstrap', privateKey: await generateKeyPair('Ed25519'), listen: [`/memory/${name}-v`], bootstrap: [], announcementRate: { burst: 5, perSecond: 1 } }, { logger: silentLogger(), register })
    await victim.start()
    const victimAddr = `/memory/${name}-v/p2p/${victim.node.peerId.toString()}`
    attacker = await createShoalNode({ role: 'gateway', privateKey: attackerKey, listen: [`/memory/${name}-a`], gossip: { scoreParams: announcementScoreParams() } })
    observer = await createShoalNode({ role: 'gateway', privateKey: await generateKeyPair('Ed25519'), listen: [`/memory/${name}-o`], gossip: { scoreParams: announcementScoreParams() } })
    await attacker.start()
    await observer.start()
    attacker.services.pubsub.subscribe(ANNOUNCEMENT_TOPIC)
    observer.services.pubsub.subscribe(ANNOUNCEMENT_TOPIC)
    observed = []
    observer.services.pubsub.addEventListener('message', (evt) => {
      if (evt.detail.topic === ANNOUNCEMENT_TOPIC) observed.push(evt.detail.data)
    })
    await attacker.dial(victim.node.getMultiaddrs()[0] ?? victimAddr)
    await observer.dial(victim.node.getMultiaddrs()[0] ?? victimAddr)
    // wait for both to be in the victim's topic mesh
    const deadline = Date.now() + 10_000
    while (victim.node.services.pubsub.getMeshPeers(ANNOUNCEMENT_TOPIC).length < 2 && Date.now() < deadline) await sleep(50)
    expect(victim.node.services.pubsub.getMeshPeers(ANNOUNCEMENT_TOPIC)).to.have.length(2)
  })

  afterEach(async () => {
    await Promise.all([attacker?.stop(), observer?.stop(), victim?.stop()])
  })

  /** gossipsub caches scores for one heartbeat, so poll for the penalty */
  async function attackerScore (): Promise<number> {
    const deadline = Date.now() + 3_000
    let score = victim.node.services.pubsub.getScore(attacker.peerId.toString())
    while (score >= 0 && Date.now() < deadline) {
      await sleep(100)
      score = victim.node.services.pubsub.getScore(attacker.peerId.toString())
    }
    return score
  }

  async function rejectedCount (code: string): Promise<number> {
    const metric = await register.getSingleMetric('shoal_discovery_announcements_validated_total')?.get()
    return metric?.values.find(v => v.labels.code === code && v.labels.result === 'reject')?.value ?? 0
  }

  async function expectRefused (data: Uint8Array, code: string): Promise<void> {
    await attacker.services.pubsub.publish(ANNOUNCEMENT_TOPIC, data)
    const deadline = Date.now() + 5_000
    while (await rejectedCount(code) === 0 && Date.now() < deadline) await sleep(20)
    expect(await rejectedCount(code), `rejections with ${code}`).to.equal(1)
    await sleep(200)
    expect(victim.directory.size, 'directory entries').to.equal(0)
    expect(observed, 'messages forwarded to the observer').to.have.length(0)
    expect(await attackerScore(), 'attacker score').to.be.lessThan(0)
  }

  it('accepts and forwards a valid announcement (control case)', async () => {
    const signed = await signAnnouncement(await announcementFor(attackerKey), attackerKey)
    await attacker.services.pubsub.publish(ANNOUNCEMENT_TOPIC, encodeSignedAnnouncement(signed))
    const deadline = Date.now() + 5_000
    while (observed.length === 0 && Date.now() < deadline) await sleep(20)
    expect(observed).to.have.length(1)
    expect(victim.directory.has(attacker.peerId.toString())).to.equal(true)
  })

  it('rejects malformed bytes', async () => {
    await expectRefused(new TextEncoder().encode('\u0000\u0004sig!' + 'not an announcement at all, just junk {'.repeat(4)), 'ANNOUNCEMENT_INVALID_MALFORMED')
  })

  it('rejects an oversized announcement', async () => {
    const big = await announcementFor(attackerKey, { addresses: Array.from({ length: 10 }, () => '/' + 'x'.repeat(250)) })
    const signed = await signAnnouncement({ ...big, hardware: { ...big.hardware, gpus: Array.from({ length: 16 }, () => ({ name: 'g'.repeat(128), memoryBytes: 1 })) } }, attackerKey)
    const padded = new Uint8Array(40 * 1024)
    padded.set(encodeSignedAnnouncement(signed))
    await expectRefused(padded, 'ANNOUNCEMENT_INVALID_OVERSIZED')
  })

  it('rejects an announcement with no signature section', async () => {
    const body = pbAnnouncement.Announcement.encode(announcementMessage(await announcementFor(attackerKey)))
    await expectRefused(pbAnnouncement.SignedAnnouncement.encode({ body, signature: new Uint8Array(0) }), 'ANNOUNCEMENT_INVALID_MISSING_SIGNATURE')
  })

  it('rejects a bad signature', async () => {
    const signed = await signAnnouncement(await announcementFor(attackerKey), attackerKey)
    signed.signature[5] ^= 0xff
    await expectRefused(encodeSignedAnnouncement(signed), 'ANNOUNCEMENT_INVALID_BAD_SIGNATURE')
  })

  it('rejects an announcement for another peer id than the gossip signer', async () => {
    const otherKey = await generateKeyPair('Ed25519')
    const signed = await signAnnouncement(await announcementFor(otherKey), otherKey)
    await expectRefused(encodeSignedAnnouncement(signed), 'ANNOUNCEMENT_INVALID_SIGNER_MISMATCH')
  })

  it('rejects an Ethereum binding made for another peer', async () => {
    const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const foreign = await createEthBinding(other, Wallet.createRandom().privateKey)
    const signed = await signAnnouncement(await announcementFor(attackerKey, foreign), attackerKey)
    await expectRefused(encodeSignedAnnouncement(signed), 'ANNOUNCEMENT_INVALID_BAD_ETH_BINDING')
  })

  it('rejects an expired announcement', async () => {
    const now = Date.now()
    const signed = await signAnnouncement(await announcementFor(attackerKey, { timestamp: now - 60_000, expiresAt: now - 30_000 }), attackerKey)
    await expectRefused(encodeSignedAnnouncement(signed), 'ANNOUNCEMENT_INVALID_EXPIRED')
  })

  it('rejects a far-future timestamp', async () => {
    const now = Date.now()
    const signed = await signAnnouncement(await announcementFor(attackerKey, { timestamp: now + 3_600_000, expiresAt: now + 3_630_000 }), attackerKey)
    await expectRefused(encodeSignedAnnouncement(signed), 'ANNOUNCEMENT_INVALID_FUTURE_TIMESTAMP')
  })

  it('rejects a replayed or older sequence number', async () => {
    const fresh = await announcementFor(attackerKey)
    await attacker.services.pubsub.publish(ANNOUNCEMENT_TOPIC, encodeSignedAnnouncement(await signAnnouncement(fresh, attackerKey)))
    const deadline = Date.now() + 5_000
    while (observed.length === 0 && Date.now() < deadline) await sleep(20)
    expect(observed).to.have.length(1)
    // the same body again (a new gossip message id), then an older one
    await attacker.services.pubsub.publish(ANNOUNCEMENT_TOPIC, encodeSignedAnnouncement(await signAnnouncement(fresh, attackerKey)))
    await attacker.services.pubsub.publish(ANNOUNCEMENT_TOPIC, encodeSignedAnnouncement(await signAnnouncement({ ...fresh, seq: fresh.seq - 1 }, attackerKey)))
    while (await rejectedCount('ANNOUNCEMENT_INVALID_SEQ_REPLAYED') < 2 && Date.now() < deadline + 5_000) await sleep(20)
    expect(await rejectedCount('ANNOUNCEMENT_INVALID_SEQ_REPLAYED')).to.equal(2)
    await sleep(200)
    expect(observed, 'only the fresh one is forwarded').to.have.length(1)
    expect(victim.directory.get(attacker.peerId.toString())?.announcement.seq).to.equal(fresh.seq)
    expect(await attackerScore()).to.be.lessThan(0)
  })

  it('rejects a flood beyond the per-peer rate', async () => {
    const base = await announcementFor(attackerKey)
    // signed first, then sent back to back: on a loaded machine signing between sends would refill the bucket
    const flood = await Promise.all(Array.from({ length: 15 }, async (_, i) => encodeSignedAnnouncement(await signAnnouncement({ ...base, seq: base.seq + i }, attackerKey))))
    await Promise.all(flood.map(async data => { await attacker.services.pubsub.publish(ANNOUNCEMENT_TOPIC, data) }))
    const deadline = Date.now() + 5_000
    while (await rejectedCount('ANNOUNCEMENT_INVALID_RATE_LIMITED') < 9 && Date.now() < deadline) await sleep(20)
    await sleep(200)
    // burst of 5, refilled at 1/s: at most a handful pass, the rest are dropped
    expect(await rejectedCount('ANNOUNCEMENT_INVALID_RATE_LIMITED')).to.be.at.least(9)
    expect(observed.length).to.be.at.most(6)
    expect(await attackerScore()).to.be.lessThan(0)
  })

  it('drops messages without a gossip signature (StrictNoSign sender)', async () => {
    const unsigned = await createShoalNode({ role: 'gateway', privateKey: await generateKeyPair('Ed25519'), listen: [`/memory/gv-nosign-${process.pid}-${counter++}`], gossip: { globalSignaturePolicy: 'StrictNoSign' } })
    await unsigned.start()
    try {
      unsigned.services.pubsub.subscribe(ANNOUNCEMENT_TOPIC)
      await unsigned.dial(victim.node.getMultiaddrs()[0])
      await sleep(1500)
      const signed = await signAnnouncement(await announcementFor(attackerKey), attackerKey)
      await unsigned.services.pubsub.publish(ANNOUNCEMENT_TOPIC, encodeSignedAnnouncement(signed)).catch(() => {})
      await sleep(1000)
      expect(victim.directory.size).to.equal(0)
      expect(observed).to.have.length(0)
    } finally {
      await unsigned.stop()
    }
  })
})
