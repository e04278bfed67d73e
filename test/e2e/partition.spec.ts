/**
 * Issue 9, item 9: a network partition, with real processes in real network namespaces.
 * A bootstrap, three orchestrators (CPU noop runners) and a gateway each run in their own
 * namespace on one bridge; a load client inside the gateway's namespace sends requests
 * all along. One orchestrator's link is cut (its switch port goes down: no reset, only
 * silence) for longer than an announcement lives, then healed. The gateway must stop
 * sending it attempts within seconds of the cut while requests succeed elsewhere, and
 * use it again within seconds of the heal.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { createNetnsLab, netnsSupport, type NetnsLab } from '../../src/testnet/netns.js'
import { attemptsOf, startNsClient, startNsMesh, type NsClient, type NsMesh } from './netns-mesh.js'
import { skipUnsupported } from '../helpers/skip.js'

/** after the cut, no new attempt may go to the cut orchestrator later than this */
const STOP_WITHIN_MS = 10_000
/** after the heal, a request must be served by it within this */
const REUSE_WITHIN_MS = 15_000
/** longer than an announcement's default 30 s lifetime: a directory entry cannot just outlive the cut */
const CUT_MS = 40_000
const MODEL = 'shoal/noop'

describe('e2e: partition of one orchestrator (network namespaces)', function () {
  this.timeout(300_000)
  let lab: NetnsLab | undefined
  let mesh: NsMesh | undefined
  let client: NsClient | undefined
  let dataDir: string | undefined

  before(async function () {
    skipUnsupported(this, await netnsSupport())
  })

  after(async () => {
    // cleanup runs on failure too: client, processes, then every namespace of the lab
    await client?.stop().catch(() => {})
    await mesh?.stop().catch(() => {})
    await lab?.remove()
    if (dataDir !== undefined && process.env.SHOAL_KEEP_TEST_LOGS === undefined) await rm(dataDir, { recursive: true, force: true })
  })

  it('stops sending jobs to a cut orchestrator within seconds, succeeds elsewhere, and uses it again within seconds of the heal', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'shoal-partition-'))
    lab = await createNetnsLab({ subnetPrefix: '10.232.0' })
    mesh = await startNsMesh({
      lab,
      dataDir,
      orchestrators: 3,
      models: [{ pipeline: 'text-to-image', model_id: MODEL, warm: true, capacity: 4 }]
    })
    const peers = mesh.orchestrators.map(o => o.peerId)
    const cutPeer = peers[2]
    const cutName = mesh.orchestrators[2].host.name
    client = startNsClient(mesh.gateway.host, {
      url: mesh.gatewayUrl,
      path: '/text-to-image',
      body: { prompt: 'partition', model_id: MODEL, width: 64, height: 64 },
      concurrency: 2,
      pauseMs: 50,
      requestTimeoutMs: 60_000
    })
    const c = client

    // every orchestrator serves before the cut, or the cut proves nothing
    for (const peer of peers) await c.waitForRequest(r => r.status === 200 && r.orchestrator === peer, 90_000, `a job served by ${peer}`)

    const cutAt = Date.now()
    await lab.cut(cutName)
    // watch the directory through the cut (informational: when the entry goes)
    let delistedAt: number | undefined
    let dirSlowestMs = 0
    while (Date.now() < cutAt + CUT_MS) {
      const dir = await c.directory()
      dirSlowestMs = Math.max(dirSlowestMs, dir.ms)
      if (delistedAt === undefined && dir.peers !== null && !dir.peers.includes(cutPeer)) delistedAt = dir.at
      await new Promise(resolve => setTimeout(resolve, 1_000))
    }
    const healAt = Date.now()
    await lab.heal(cutName)
    let relistedAt: number | undefined
    const reused = c.waitForRequest(r => r.start >= healAt && r.status === 200 && r.orchestrator === cutPeer, 90_000, 'a job served by the healed orchestrator')
      .then(r => r, () => undefined)
    while (Date.now() < healAt + 90_000) {
      const dir = await c.directory()
      if (dir.peers?.includes(cutPeer) === true) { relistedAt = dir.at; break }
      await new Promise(resolve => setTimeout(resolve, 500))
    }
    const reusedBy = await reused
    await c.stop()

    const duringCut = c.requests.filter(r => r.start >= cutAt && r.start < healAt)
    const attemptsToCut = duringCut.flatMap(r => attemptsOf(r)).filter(a => a.peerId === cutPeer && a.startedAt >= cutAt)
    const lastAttemptAfterCut = attemptsToCut.reduce((max, a) => Math.max(max, a.startedAt - cutAt), -1)
    const settled = duringCut.filter(r => r.start >= cutAt + STOP_WITHIN_MS)
    const settledFailed = settled.filter(r => r.status !== 200)
    const inFlightAtCut = c.requests.filter(r => r.start < cutAt && r.end > cutAt)
    const report = {
      requests: c.requests.length,
      duringCut: duringCut.length,
      failedDuringCut: duringCut.filter(r => r.status !== 200).length,
      slowestRequestMsDuringCut: duringCut.reduce((max, r) => Math.max(max, r.end - r.start), 0),
      attemptsToCutPeerAfterCut: attemptsToCut.length,
      lastAttemptToCutPeerMsAfterCut: lastAttemptAfterCut,
      settledRequests: settled.length,
      settledFailed: settledFailed.length,
      inFlightAtCut: inFlightAtCut.length,
      inFlightAtCutFailed: inFlightAtCut.filter(r => r.status !== 200).length,
      delistedMsAfterCut: delistedAt === undefined ? null : delistedAt - cutAt,
      slowestDirectoryMs: dirSlowestMs,
      relistedMsAfterHeal: relistedAt === undefined ? null : relistedAt - healAt,
      firstJobMsAfterHeal: reusedBy === undefined ? null : reusedBy.end - healAt
    }
    console.log(`      partition: ${JSON.stringify(report)}`)

    expect(settled.length, 'requests were sent during the cut').to.be.greaterThan(20)
    expect(lastAttemptAfterCut, `the last attempt to the cut orchestrator started ${lastAttemptAfterCut} ms after the cut`).to.be.below(STOP_WITHIN_MS)
    expect(settledFailed.map(r => `${r.status} ${r.error ?? ''} ${r.tried}`), 'requests started 10 s after the cut all succeed').to.deep.equal([])
    expect(reusedBy, `the healed orchestrator served no job within 90 s (listed again: ${String(report.relistedMsAfterHeal)} ms)`).to.not.equal(undefined)
    expect(reusedBy!.end - healAt, 'the healed orchestrator serves again within seconds').to.be.below(REUSE_WITHIN_MS)
  })
})
