import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Wallet } from 'ethers'
import { cpus, totalmem } from 'node:os'
import { signAnnouncement, type Announcement, type SignedAnnouncement } from '../../src/discovery/announcement.js'
import { announcementPublisher, type AnnouncementPublisher, type AnnouncementPublisherInit } from '../../src/discovery/publisher.js'
import { createEthBinding } from '../../src/identity/binding.js'
import { ANNOUNCEMENT_VERSION } from '../../src/discovery/constants.js'
import { silentLogger } from '../../src/observability/logger.js'
import { infoServer } from '../../src/protocols/info/index.js'
import { createMesh, type Mesh } from '../../src/roles/mesh.js'
import { defaultOffers } from '../../src/testnet/in-process-mesh.js'
export { waitFor } from '../helpers/wait-for.js'

export const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** An announcement body for `key`, valid now, with `overrides`. */
export async function announcementFor (key: PrivateKey, overrides: Partial<Announcement> = {}, ethKey = Wallet.createRandom().privateKey): Promise<Announcement> {
  const peerId = peerIdFromPrivateKey(key).toString()
  const binding = await createEthBinding(peerId, ethKey)
  const now = Date.now()
  return {
    version: ANNOUNCEMENT_VERSION,
    peerId,
    addresses: ['/ip4/10.0.0.1/tcp/4002'],
    ...binding,
    seq: now * 1000,
    timestamp: now,
    expiresAt: now + 30_000,
    models: defaultOffers(),
    hardware: { cpus: 2, memoryBytes: 1, gpus: [] },
    withdrawn: false,
    ...overrides
  }
}

/** A fresh identity and its signed announcement. */
export async function freshSigned (overrides: Partial<Announcement> = {}): Promise<SignedAnnouncement & { key: PrivateKey }> {
  const key = await generateKeyPair('Ed25519')
  return { ...await signAnnouncement(await announcementFor(key, overrides), key), key }
}

export interface AnnouncingOrchestrator {
  key: PrivateKey
  mesh: Mesh
  publisher: AnnouncementPublisher
  /** `withdraw`: announce the withdrawal first, as a graceful shutdown does */
  stop: (withdraw?: boolean) => Promise<void>
}

/**
 * A real orchestrator mesh on `listen`, joined through `bootstrap`, announcing the default
 * offers and answering `/shoal/info`; started. `key`: an identity to come back with.
 */
export async function startAnnouncingOrchestrator (listen: string, bootstrap: string, options: { key?: PrivateKey, publisher?: AnnouncementPublisherInit } = {}): Promise<AnnouncingOrchestrator> {
  const privateKey = options.key ?? await generateKeyPair('Ed25519')
  const mesh = await createMesh({ role: 'orchestrator', privateKey, listen: [listen], bootstrap: [bootstrap] }, { logger: silentLogger(), register: null })
  const publisher = announcementPublisher(options.publisher)({
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
    async stop (withdraw = false) {
      if (withdraw) await publisher.withdraw()
      publisher.stop()
      await info.stop()
      await mesh.stop()
    }
  }
}
