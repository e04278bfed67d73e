/**
 * bench/discovery: for meshes of 10, 50 and 100 in-process nodes (memory transport),
 * the time from an orchestrator's first announcement until every gateway lists it
 * (p50, p99) and memory per node. Baseline, measured in the same mesh and run: the
 * same fan-out of a plain gossipsub message of the same size on a topic with no
 * validation, so the ratio shows what signing, validation and the directory add.
 *
 *   npm run bench:discovery [-- 10,50,100]
 */
import '../../src/p2p/polyfill.js'
import { encodeSignedAnnouncement } from '../../src/discovery/announcement.js'
import { ANNOUNCEMENT_TOPIC } from '../../src/discovery/constants.js'
import { startInProcessMesh } from '../../src/testnet/in-process-mesh.js'
import { percentile } from '../percentile.js'

const BASELINE_TOPIC = '/shoal/bench/baseline'

async function waitUntil (condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) return false
    await new Promise(resolve => setTimeout(resolve, 5))
  }
  return true
}

async function measure (nodes: number): Promise<Record<string, number | string>> {
  const orchestrators = Math.max(2, Math.round(nodes / 5))
  const gateways = nodes - orchestrators - 1
  global.gc?.()
  const before = process.memoryUsage()
  const mesh = await startInProcessMesh({ orchestrators, gateways, deferPublish: true, ttlMs: 60_000 })
  // let gossipsub heartbeats build the topic meshes before timing anything
  for (const g of [...mesh.gateways, ...mesh.orchestrators.map(o => o.mesh)]) g.node.services.pubsub.subscribe(BASELINE_TOPIC)
  await waitUntil(() => mesh.gateways.every(g => g.node.services.pubsub.getMeshPeers(ANNOUNCEMENT_TOPIC).length > 0 && g.node.services.pubsub.getMeshPeers(BASELINE_TOPIC).length > 0), 20_000)
  await new Promise(resolve => setTimeout(resolve, 2_000))
  global.gc?.()
  const after = process.memoryUsage()

  // baseline: plain gossip of an equally sized payload, one origin at a time
  const baseline: number[] = []
  const baselinePerGateway: number[] = []
  for (const [i, o] of mesh.orchestrators.entries()) {
    const payload = new Uint8Array(900).fill(i)
    const seen = new Set<number>()
    const start = performance.now()
    const listeners = mesh.gateways.map((g, gi) => {
      const listener = (evt: CustomEvent<{ topic: string, data: Uint8Array }>): void => {
        if (evt.detail.topic === BASELINE_TOPIC && evt.detail.data[0] === i && !seen.has(gi)) {
          seen.add(gi)
          baselinePerGateway.push(performance.now() - start)
        }
      }
      g.node.services.pubsub.addEventListener('message', listener as never)
      return () => { g.node.services.pubsub.removeEventListener('message', listener as never) }
    })
    await o.mesh.node.services.pubsub.publish(BASELINE_TOPIC, payload)
    await waitUntil(() => seen.size === mesh.gateways.length, 10_000)
    baseline.push(performance.now() - start)
    for (const off of listeners) off()
  }

  // Shoal: first signed announcement of each orchestrator until every gateway's directory lists it
  const shoal: number[] = []
  const shoalPerGateway: number[] = []
  let size = 0
  for (const o of mesh.orchestrators) {
    const id = o.mesh.node.peerId.toString()
    const seen = new Set<number>()
    let last = 0
    // timestamps from the directories' own 'added' events: exact per gateway, no polling
    const listeners = mesh.gateways.map((g, gi) => {
      const listener = (entry: { peerId: string }): void => {
        if (entry.peerId !== id || seen.has(gi)) return
        seen.add(gi)
        last = performance.now() - start
        shoalPerGateway.push(last)
      }
      g.directory.on('added', listener)
      return () => { g.directory.off('added', listener) }
    })
    const start = performance.now()
    await o.publisher.start()
    size = encodeSignedAnnouncement(o.publisher.current()!).length
    await waitUntil(() => seen.size === mesh.gateways.length, 10_000)
    for (const off of listeners) off()
    shoal.push(seen.size === mesh.gateways.length ? last : Infinity)
  }
  await mesh.stop()
  return {
    nodes,
    orchestrators,
    gateways,
    announcementBytes: size,
    'all-gateways p50 ms': +percentile(shoal, 50).toFixed(1),
    'all-gateways p99 ms': +percentile(shoal, 99).toFixed(1),
    'per-gateway p50 ms': +percentile(shoalPerGateway, 50).toFixed(1),
    'per-gateway p99 ms': +percentile(shoalPerGateway, 99).toFixed(1),
    'baseline all p50 ms': +percentile(baseline, 50).toFixed(1),
    'baseline all p99 ms': +percentile(baseline, 99).toFixed(1),
    'ratio p50 (shoal/baseline)': +(percentile(shoal, 50) / percentile(baseline, 50)).toFixed(2),
    'ratio p99 (shoal/baseline)': +(percentile(shoal, 99) / percentile(baseline, 99)).toFixed(2),
    'heap MiB per node': +((after.heapUsed - before.heapUsed) / nodes / 2 ** 20).toFixed(2),
    'rss MiB per node': +((after.rss - before.rss) / nodes / 2 ** 20).toFixed(2)
  }
}

const sizes = (process.argv[2] ?? '10,50,100').split(',').map(Number)
const rows = []
for (const n of sizes) {
  const row = await measure(n)
  console.log(JSON.stringify(row))
  rows.push(row)
}
console.table(rows)
const last = rows[rows.length - 1]
console.log(`goal at ${String(last.nodes)} nodes: p50 < 1000 ms (${String(last['all-gateways p50 ms'])}), p99 < 3000 ms (${String(last['all-gateways p99 ms'])})`)
process.exit(0)
