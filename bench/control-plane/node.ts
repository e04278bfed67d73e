/**
 * One process of bench/control-plane: a bootstrap, a gateway, or one or more
 * orchestrators (in-process, sharing this process), each a real Shoal role. It reports
 * over IPC what the parent samples: announcements this process's nodes received on
 * gossip and its CPU time (process.cpuUsage).
 *
 *   node --import tsx bench/control-plane/node.ts '<json config>'
 */
import '../../src/p2p/polyfill.js'
import { mkdir, writeFile } from 'node:fs/promises'
import { Session } from 'node:inspector'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { ANNOUNCEMENT_TOPIC } from '../../src/discovery/constants.js'
import { silentLogger } from '../../src/observability/logger.js'
import { startBootstrap } from '../../src/roles/bootstrap.js'
import { startGateway } from '../../src/roles/gateway.js'
import { startOrchestrator } from '../../src/roles/orchestrator.js'
import type { Mesh } from '../../src/roles/mesh.js'
import type { ShoalPubSub } from '../../src/p2p/node.js'
import type { NodeOptions } from '../../src/cli/options/node.js'
import type { PipelineName } from '../../src/kernel/pipelines.js'

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
  /** write a CPU profile of this process's main thread here (from ready to stop) */
  profile?: string
}

const config = JSON.parse(process.argv[2]) as NodeConfig
const logger = silentLogger()
const payments = { enabled: false, rpcUrl: '', brokerAddress: '' }
let announcements = 0
const stops: Array<() => Promise<void>> = []
const meshes: Mesh[] = []
const lag = monitorEventLoopDelay({ resolution: 20 })
lag.enable()
let connectionsClosed = 0
let closedByMonitor = 0

function countAnnouncements (mesh: Mesh): void {
  meshes.push(mesh)
  mesh.node.addEventListener('connection:close', () => { connectionsClosed++ })
  mesh.node.services.monitor.on('missed', (_peer, count) => { if (count >= 2) closedByMonitor++ })
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

// the inspector profiles this thread; --cpu-prof would profile tsx's loader thread
const session = config.profile === undefined ? undefined : new Session()
if (session !== undefined) {
  session.connect()
  await new Promise<void>((resolve, reject) => { session.post('Profiler.enable', () => { session.post('Profiler.start', (err) => { if (err !== null) reject(err); else resolve() }) }) })
}
async function writeProfile (): Promise<void> {
  if (session === undefined || config.profile === undefined) return
  const profile = await new Promise<unknown>((resolve, reject) => { session.post('Profiler.stop', (err, result) => { if (err !== null) reject(err); else resolve(result.profile) }) })
  await writeFile(config.profile, JSON.stringify(profile))
}

process.on('message', async (message: { type: string }) => {
  if (message.type === 'sample') {
    const cpu = process.cpuUsage()
    process.send?.({ type: 'sample', announcements, cpuMicros: cpu.user + cpu.system, at: performance.now() })
  } else if (message.type === 'mesh') {
    // how the gossip graph looks from here: connections, topic subscribers known, topic mesh size
    const pubsub = (m: Mesh): ShoalPubSub => m.node.services.pubsub as ShoalPubSub
    const zombies = async (m: Mesh): Promise<[number, number]> => {
      const gossipPeers = new Set(pubsub(m).getPeers().map(p => p.toString()))
      const old = m.node.getConnections().filter(c => c.status === 'open' && Date.now() - c.timeline.open > 10_000 && !gossipPeers.has(c.remotePeer.toString()))
      let identified = 0
      for (const c of old) {
        const peer = await m.node.peerStore.get(c.remotePeer).catch(() => undefined)
        if (peer?.protocols.some(p => p.startsWith('/meshsub/')) === true) identified++
      }
      return [old.length, identified]
    }
    const z = await Promise.all(meshes.map(zombies))
    const nodes = meshes.map((m, i) => ({ zombies: z[i][0], zombiesIdentified: z[i][1], connections: m.node.getConnections().length, gossipPeers: pubsub(m).getPeers().length, subscribers: pubsub(m).getSubscribers(ANNOUNCEMENT_TOPIC).length, mesh: pubsub(m).getMeshPeers(ANNOUNCEMENT_TOPIC).length, directory: m.directory.size, connectionsClosed, closedByMonitor, lagP99Ms: Math.round(lag.percentile(99) / 1e6) }))
    lag.reset()
    process.send?.({ type: 'mesh', nodes })
  } else if (message.type === 'stop') {
    void writeProfile().then(async () => { await Promise.all(stops.map(async stop => { await stop() })) }).finally(() => { process.exit(0) })
  }
})
process.on('disconnect', () => { process.exit(0) })
process.send?.({ type: 'ready', ...ready })
