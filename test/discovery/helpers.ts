import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Wallet } from 'ethers'
import { signAnnouncement, type Announcement, type SignedAnnouncement } from '../../src/discovery/announcement.js'
import { createEthBinding } from '../../src/identity/binding.js'
import { ANNOUNCEMENT_VERSION } from '../../src/discovery/constants.js'
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
