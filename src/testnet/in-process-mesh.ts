import { generateKeyPair } from '@libp2p/crypto/keys'
import { Wallet } from 'ethers'
import { cpus, totalmem } from 'node:os'
import { announcementPublisher, type AnnouncementPublisher } from '../discovery/publisher.js'
import type { ModelOffer } from '../discovery/announcement.js'
import { silentLogger, type Logger } from '../observability/logger.js'
import { infoServer } from '../protocols/info/index.js'
import { createMesh, type Mesh } from '../roles/mesh.js'

export interface InProcessOrchestrator {
  mesh: Mesh
  publisher: AnnouncementPublisher
  offers: ModelOffer[]
  stop: () => Promise<void>
}

export interface InProcessMesh {
  bootstrap: Mesh
  orchestrators: InProcessOrchestrator[]
  gateways: Mesh[]
  stop: () => Promise<void>
}

export interface InProcessMeshOptions {
  orchestrators: number
  gateways: number
  /** announcement lifetime; short values make expiry observable in tests */
  ttlMs?: number
  offers?: (index: number) => ModelOffer[]
  /** a unique prefix for /memory/ addresses so several meshes can share a process */
  name?: string
  logger?: Logger
  /** create orchestrators without starting their publisher, e.g. to time the first announcement */
  deferPublish?: boolean
}

export function defaultOffers (): ModelOffer[] {
  return [{
    pipeline: 'upscale',
    modelId: 'upscalerjs/esrgan-slim-x2',
    warm: true,
    capacity: 1,
    load: 'available',
    pricePerUnit: '1',
    pixelsPerUnit: '1',
    unit: 'pixel',
    runnerVersion: 'shoal-cpu-runner/0.1.0'
  }]
}

let meshCounter = 0

/**
 * A whole mesh in one process over the libp2p memory transport: one bootstrap, N
 * orchestrators announcing, M gateways listening. For tests and the discovery benchmark;
 * every node is a real libp2p node with the same services as in production.
 */
export async function startInProcessMesh (options: InProcessMeshOptions): Promise<InProcessMesh> {
  const name = options.name ?? `shoal-${process.pid}-${meshCounter++}`
  const logger = options.logger ?? silentLogger()
  const bootstrap = await createMesh({
    role: 'bootstrap', privateKey: await generateKeyPair('Ed25519'), listen: [`/memory/${name}-bootstrap`], bootstrap: []
  }, { logger, register: null })
  await bootstrap.start()
  const bootstrapAddr = `/memory/${name}-bootstrap/p2p/${bootstrap.node.peerId.toString()}`

  const orchestrators: InProcessOrchestrator[] = []
  const gateways: Mesh[] = []
  const created: Array<Promise<void>> = []

  for (let i = 0; i < options.orchestrators; i++) {
    created.push((async () => {
      const privateKey = await generateKeyPair('Ed25519')
      const mesh = await createMesh({ role: 'orchestrator', privateKey, listen: [`/memory/${name}-o${i}`], bootstrap: [bootstrapAddr] }, { logger, register: null })
      const offers = options.offers?.(i) ?? defaultOffers()
      const publisher = announcementPublisher({ ttlMs: options.ttlMs })({
        privateKey,
        peerId: mesh.node.peerId,
        ethPrivateKey: Wallet.createRandom().privateKey,
        addresses: () => mesh.node.getMultiaddrs().map(a => a.toString()),
        offers: () => offers.map(o => ({ ...o, inUse: 0 })),
        hardware: { cpus: cpus().length, memoryBytes: totalmem(), gpus: [] },
        gossip: mesh.gossip,
        routing: mesh.node.contentRouting,
        logger
      })
      const info = infoServer(mesh.node, { current: publisher.current, logger })
      await mesh.start()
      await info.start()
      orchestrators[i] = {
        mesh,
        publisher,
        offers,
        async stop () {
          await publisher.withdraw()
          publisher.stop()
          await info.stop()
          await mesh.stop()
        }
      }
    })())
  }
  for (let i = 0; i < options.gateways; i++) {
    created.push((async () => {
      const mesh = await createMesh({ role: 'gateway', privateKey: await generateKeyPair('Ed25519'), listen: [`/memory/${name}-g${i}`], bootstrap: [bootstrapAddr] }, { logger, register: null })
      await mesh.start()
      gateways[i] = mesh
    })())
  }
  await Promise.all(created)
  if (options.deferPublish !== true) await Promise.all(orchestrators.map(async o => { await o.publisher.start() }))

  return {
    bootstrap,
    orchestrators,
    gateways,
    async stop () {
      await Promise.all([...orchestrators.map(async o => { await o.stop() }), ...gateways.map(async g => { await g.stop() })])
      await bootstrap.stop()
    }
  }
}
