import { expect } from 'chai'
import { generateKeyPair, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Registry } from 'prom-client'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { Wallet } from 'ethers'
import { encodeSignedAnnouncement, signAnnouncement } from '../../src/discovery/announcement.js'
import { ANNOUNCEMENT_TOPIC } from '../../src/discovery/constants.js'
import { announcementScoreParams } from '../../src/discovery/score.js'
import { silentLogger } from '../../src/observability/logger.js'
import { createShoalNode, type ShoalLibp2p } from '../../src/p2p/node.js'
import { createMesh, type Mesh } from '../../src/roles/mesh.js'
import { defaultOffers } from '../../src/testnet/in-process-mesh.js'
import { announcementFor, sleep, startAnnouncingOrchestrator, waitFor, type AnnouncingOrchestrator } from './helpers.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const IDENTITIES = Number(process.env.SYBIL_IDENTITIES ?? 3_000)
const LIMITS = { maxEntries: 200, maxPerHost: 40 }

/**
 * A real attacking libp2p peer over TCP makes 3,000 fresh identities and gossips a
 * signed, valid announcement for each (it re-keys its gossipsub publisher per message,
 * as a modified node would): a third with no dialable address, a third on the
 * gateway's own host, a third on made-up LAN hosts. The gateway's directory stays within
 * its caps, memory stays bounded, and the two real orchestrators stay listed and
 * candidates.
 */
describe('discovery: a flood of made-up identities from a real peer', function () {
  this.timeout(900_000)
  let gateway: Mesh
  let register: Registry
  const real: AnnouncingOrchestrator[] = []
  let attacker: ShoalLibp2p

  before(async () => {
    register = new Registry()
    gateway = await createMesh({ role: 'gateway', privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], directory: LIMITS }, { logger: silentLogger(), register })
    await gateway.start()
    const gatewayAddr = gateway.node.getMultiaddrs()[0].toString()
    for (let i = 0; i < 2; i++) real.push(await startAnnouncingOrchestrator('/ip4/127.0.0.1/tcp/0', gatewayAddr))
    await waitFor(() => real.every(r => gateway.directory.has(r.mesh.node.peerId.toString())), 30_000, 'the real orchestrators to be listed')
    // one of them has served a job (the dispatcher reports it)
    gateway.directory.markProven(real[0].mesh.node.peerId.toString())

    attacker = await createShoalNode({ role: 'gateway', privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], gossip: { scoreParams: announcementScoreParams() } })
    await attacker.start()
    attacker.services.pubsub.subscribe(ANNOUNCEMENT_TOPIC)
    await attacker.dial(gateway.node.getMultiaddrs()[0])
    await waitFor(() => gateway.node.services.pubsub.getMeshPeers(ANNOUNCEMENT_TOPIC).includes(attacker.peerId.toString()), 20_000, 'the attacker in the gateway\'s mesh')
  })

  after(async () => {
    await attacker?.stop()
    await Promise.all(real.map(async r => { await r.stop() }))
    await gateway?.stop()
  })

  async function handled (): Promise<number> {
    const metric = await register.getSingleMetric('shoal_discovery_announcements_validated_total')?.get()
    return (metric?.values ?? []).reduce((n, v) => n + v.value, 0)
  }

  async function counter (name: string, label: Record<string, string>): Promise<number> {
    const metric = await register.getSingleMetric(name)?.get()
    return (metric?.values ?? []).filter(v => Object.entries(label).every(([k, value]) => v.labels[k] === value)).reduce((n, v) => n + v.value, 0)
  }

  it('keeps the directory within its caps and the real orchestrators listed', async () => {
    gc()
    const heapBefore = process.memoryUsage().heapUsed
    const before = await handled()
    const t0 = Date.now()
    const pubsub = attacker.services.pubsub as unknown as { publishConfig: Record<string, unknown> }
    const original = pubsub.publishConfig
    const ethKey = Wallet.createRandom().privateKey
    for (let i = 0; i < IDENTITIES; i++) {
      const key: PrivateKey = await generateKeyPair('Ed25519')
      const addresses = i % 3 === 0 ? [] : i % 3 === 1 ? [`/ip4/127.0.0.1/tcp/${20_000 + i}`] : [`/ip4/10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/tcp/4002`]
      const announcement = await announcementFor(key, { addresses, models: defaultOffers().map(o => ({ ...o, pricePerUnit: '1', capacity: 1000 })), expiresAt: Date.now() + 600_000 }, ethKey)
      const signed = await signAnnouncement(announcement, key)
      // the gossip message is signed by the made-up identity too, so it is its origin
      pubsub.publishConfig = { ...original, author: peerIdFromPrivateKey(key), key: publicKeyToProtobuf(key.publicKey), privateKey: key }
      await attacker.services.pubsub.publish(ANNOUNCEMENT_TOPIC, encodeSignedAnnouncement(signed))
      if (i % 200 === 0) await sleep(1)
    }
    pubsub.publishConfig = original
    const publishedAt = Date.now()
    if (process.env.SYBIL_DEBUG !== undefined) console.log('published', IDENTITIES, 'handled', await handled() - before, await register.metrics())
    await waitFor(async () => await handled() - before >= IDENTITIES * 0.95, 600_000, 'the gateway to handle the flood')
    await sleep(500)
    if (process.env.SYBIL_DEBUG !== undefined) console.log(await register.metrics(), 'published in', publishedAt - t0, 'ms; handled', Date.now() - publishedAt, 'ms later')

    const directory = gateway.directory
    expect(directory.size, 'directory entries').to.be.at.most(LIMITS.maxEntries)
    expect(directory.countForHost('127.0.0.1'), 'entries on one host').to.be.at.most(LIMITS.maxPerHost)
    expect(await counter('shoal_discovery_announcements_validated_total', { code: 'ANNOUNCEMENT_IGNORED_UNDIALABLE' }), 'undialable ones ignored').to.be.at.least(IDENTITIES / 3 * 0.9)
    expect(await counter('shoal_discovery_directory_removals_total', { reason: 'evicted' }), 'evictions').to.be.greaterThan(0)
    const turnedAway = await counter('shoal_discovery_directory_refusals_total', { reason: 'cap_host' }) + await counter('shoal_discovery_directory_refusals_total', { reason: 'cap_total' }) + await counter('shoal_discovery_directory_removals_total', { reason: 'evicted' })
    expect(turnedAway, 'evicted or refused by the caps').to.be.at.least(Math.floor(IDENTITIES / 3 * 0.9) - LIMITS.maxPerHost)
    for (const r of real) {
      const id = r.mesh.node.peerId.toString()
      expect(directory.has(id), `real orchestrator ${id} listed`).to.equal(true)
      expect(directory.candidates('upscale').some(c => c.peerId === id), `real orchestrator ${id} a candidate`).to.equal(true)
    }
    const json = JSON.stringify(directory.toJSON())
    expect(json.length, 'bytes of GET /network/orchestrators').to.be.lessThan(512 * 1024)
    gc()
    const grown = process.memoryUsage().heapUsed - heapBefore
    expect(grown, 'heap growth in bytes').to.be.lessThan(64 * 1024 * 1024)
  })
})
