/**
 * One process of bench/control-plane: a bootstrap, a gateway, or one or more
 * orchestrators (in-process, sharing this process), each a real Shoal role. It reports
 * over IPC what the parent samples: announcements this process's nodes received on
 * gossip and its CPU time (process.cpuUsage).
 *
 *   node --import tsx bench/control-plane/node.ts '<json config>'
 */
import '../../src/p2p/polyfill.js'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { ANNOUNCEMENT_TOPIC } from '../../src/discovery/constants.js'
import { silentLogger } from '../../src/observability/logger.js'
import { startBootstrap } from '../../src/roles/bootstrap.js'
import { startGateway } from '../../src/roles/gateway.js'
import { startOrchestrator } from '../../src/roles/orchestrator.js'
import type { Mesh } from '../../src/roles/mesh.js'
import type { NodeOptions } from '../../src/cli/options/node.js'
import type { PipelineName } from '../../src/inference/pipelines.js'

export interface NodeConfig {
  role: 'bootstrap' | 'gateway' | 'orchestrator'
  dataDir: string
  bootstrap: string[]
  /** orchestrators in this process */
  count?: number
  runnerUrl?: string
  token?: string
  pipeline?: PipelineName
  modelId?: string
  capacity?: number
}

const config = JSON.parse(process.argv[2]) as NodeConfig
const logger = silentLogger()
const payments = { enabled: false, rpcUrl: '', brokerAddress: '' }
let announcements = 0
const stops: Array<() => Promise<void>> = []

function countAnnouncements (mesh: Mesh): void {
  mesh.node.services.pubsub.addEventListener('gossipsub:message', (evt) => {
    if (evt.detail.msg.topic === ANNOUNCEMENT_TOPIC) announcements++
  })
}

function nodeOptions (name: string): NodeOptions {
  return { role: config.role, dataDir: join(config.dataDir, name), listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], bootstrap: config.bootstrap, addressScope: 'private', logLevel: 'silent' }
}

let ready: Record<string, unknown>
if (config.role === 'bootstrap') {
  await mkdir(join(config.dataDir, 'bootstrap'), { recursive: true })
  const node = await startBootstrap(nodeOptions('bootstrap'), logger)
  countAnnouncements(node.mesh)
  stops.push(node.stop)
  ready = { peerId: node.peerId, addresses: node.addresses }
} else if (config.role === 'gateway') {
  await mkdir(join(config.dataDir, 'gateway'), { recursive: true })
  const gateway = await startGateway({ node: nodeOptions('gateway'), http: { host: '127.0.0.1', port: 0 }, dispatch: {}, dhtLookupTimeoutMs: 2_000, payments }, logger)
  countAnnouncements(gateway.mesh)
  stops.push(gateway.stop)
  ready = { peerId: gateway.peerId, url: gateway.url }
} else {
  const peerIds: string[] = []
  await Promise.all(Array.from({ length: config.count ?? 1 }, async (_, i) => {
    const name = `orchestrator-${i}`
    await mkdir(join(config.dataDir, name), { recursive: true })
    const o = await startOrchestrator({
      node: nodeOptions(name),
      models: [{ pipeline: config.pipeline!, modelId: config.modelId!, warm: true, capacity: config.capacity ?? 8, url: config.runnerUrl, token: config.token, optimizationFlags: {}, pricePerUnit: '1', pixelsPerUnit: '1', currency: 'WEI' }],
      payments
    }, logger)
    countAnnouncements(o.mesh)
    stops.push(o.stop)
    peerIds.push(o.peerId)
  }))
  ready = { peerIds }
}

process.on('message', (message: { type: string }) => {
  if (message.type === 'sample') {
    const cpu = process.cpuUsage()
    process.send?.({ type: 'sample', announcements, cpuMicros: cpu.user + cpu.system, at: performance.now() })
  } else if (message.type === 'stop') {
    void Promise.all(stops.map(async stop => { await stop() })).finally(() => { process.exit(0) })
  }
})
process.on('disconnect', () => { process.exit(0) })
process.send?.({ type: 'ready', ...ready })
