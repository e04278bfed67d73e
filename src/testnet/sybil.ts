/**
 * A Sybil attacker FOR TESTS AND BENCHMARKS: one real libp2p peer, built with Shoal's own
 * node factory, that joins a mesh and gossips signed announcements for many made-up
 * identities. Each identity has its own Ed25519 key, signs its announcement body, and
 * signs the gossip message too (the attacker swaps gossipsub's signing key per message),
 * so every message passes the per-origin checks a real orchestrator's would: only the
 * number of identities is fake. By default the identities list no address at all, as
 * in issue 9's attack: nothing can ever dial them.
 */
import { generateKeyPair, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { Wallet } from 'ethers'
import { encodeSignedAnnouncement, signAnnouncement, type Announcement } from '../discovery/announcement.js'
import { createEthBinding } from '../identity/binding.js'
import { ANNOUNCEMENT_TOPIC, ANNOUNCEMENT_VERSION } from '../discovery/constants.js'
import { PIPELINE_UNIT, type PipelineName } from '../kernel/pipelines.js'
import { connectToMesh, createShoalNode, type ShoalLibp2p } from '../p2p/node.js'

export interface SybilOffer {
  pipeline: PipelineName
  modelId: string
  /** @default '1' (wei per unit) */
  pricePerUnit?: string
  /** @default 1000 */
  capacity?: number
  /** @default true */
  warm?: boolean
}

export interface SybilAttackerOptions {
  /** bootstrap multiaddrs (with /p2p/) of the mesh to join */
  bootstrap: string[]
  /** where the attacking peer itself listens. @default ['/ip4/127.0.0.1/tcp/0'] */
  listen?: string[]
  offers: SybilOffer[]
  /** lifetime of each announcement. @default 600_000 (the most a validator accepts) */
  ttlMs?: number
  /** addresses each identity announces. @default [] (none: never reachable) */
  addresses?: string[]
  /**
   * more peers to connect to directly (multiaddrs with /p2p/), as an attacker that found
   * them would: flood publishing then hands every message to them first-hand
   */
  dial?: string[]
}

export interface SybilAttacker {
  /** the attacking peer's own id (the gossip relay every fake identity arrives from) */
  peerId: string
  node: ShoalLibp2p
  /** ids of the identities announced so far */
  identities: string[]
  /**
   * Makes `count` new identities and publishes one announcement for each, one after
   * another; resolves with how long that took. Returns early (with the count done) if
   * `signal` aborts.
   */
  announce: (count: number, options?: { signal?: AbortSignal }) => Promise<{ published: number, ms: number }>
  stop: () => Promise<void>
}

interface SigningConfig { type: 0, author: unknown, key: Uint8Array, privateKey: PrivateKey }

export async function startSybilAttacker (options: SybilAttackerOptions): Promise<SybilAttacker> {
  const node = await createShoalNode({
    role: 'gateway',
    privateKey: await generateKeyPair('Ed25519'),
    listen: options.listen ?? ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: options.bootstrap,
    addressScope: 'private'
  })
  await node.start()
  await connectToMesh(node, options.bootstrap, { signal: AbortSignal.timeout(30_000) })
  for (const address of options.dial ?? []) await node.dial(multiaddr(address), { signal: AbortSignal.timeout(30_000) })
  const pubsub = node.services.pubsub
  pubsub.subscribe(ANNOUNCEMENT_TOPIC)
  // flood publishing reaches every peer it knows subscribes: wait until each peer dialled does
  const deadline = Date.now() + 30_000
  while (pubsub.getSubscribers(ANNOUNCEMENT_TOPIC).length < Math.max(1, (options.dial ?? []).length)) {
    if (Date.now() > deadline) {
      await node.stop()
      throw new Error('the Sybil attacker found no subscriber of the announcement topic in 30 s')
    }
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  // one Ethereum key binds every identity: bindings are per (peer id, address), so each still needs its own signature
  const wallet = Wallet.createRandom()
  const identities: string[] = []
  const internals = pubsub as unknown as { publishConfig: SigningConfig }
  const ownConfig = internals.publishConfig
  const ttlMs = options.ttlMs ?? 600_000

  return {
    peerId: node.peerId.toString(),
    node,
    identities,
    async announce (count, announceOptions = {}) {
      const started = performance.now()
      let published = 0
      try {
        for (; published < count; published++) {
          if (announceOptions.signal?.aborted === true) break
          // signing resolves without ever yielding to I/O: let the process's other work
          // (a test's load clients) run, as it would beside an attacker in its own process
          if (published % 20 === 0) await new Promise(resolve => setImmediate(resolve))
          const key = await generateKeyPair('Ed25519')
          const peerId = peerIdFromPrivateKey(key).toString()
          const binding = await createEthBinding(peerId, wallet.privateKey)
          const now = Date.now()
          const announcement: Announcement = {
            version: ANNOUNCEMENT_VERSION,
            peerId,
            addresses: options.addresses ?? [],
            ethAddress: binding.ethAddress,
            ethBinding: binding.ethBinding,
            seq: now,
            timestamp: now,
            expiresAt: now + ttlMs,
            models: options.offers.map(o => ({
              pipeline: o.pipeline,
              modelId: o.modelId,
              warm: o.warm ?? true,
              capacity: o.capacity ?? 1000,
              load: 'available',
              pricePerUnit: o.pricePerUnit ?? '1',
              pixelsPerUnit: '1',
              unit: PIPELINE_UNIT[o.pipeline],
              runnerVersion: '0.0.0'
            })),
            hardware: { cpus: 64, memoryBytes: 2 ** 38, gpus: [] },
            withdrawn: false
          }
          const signed = await signAnnouncement(announcement, key)
          // the gossip message must be signed by the identity itself: swap gossipsub's signing key for this one publish
          internals.publishConfig = { type: 0, author: peerIdFromPrivateKey(key), key: publicKeyToProtobuf(key.publicKey), privateKey: key }
          try {
            await pubsub.publish(ANNOUNCEMENT_TOPIC, encodeSignedAnnouncement(signed))
          } finally {
            internals.publishConfig = ownConfig
          }
          identities.push(peerId)
        }
      } finally {
        internals.publishConfig = ownConfig
      }
      return { published, ms: performance.now() - started }
    },
    async stop () {
      await node.stop()
    }
  }
}
