/**
 * A request in flight on an orchestrator that a partition cuts off: the gateway must move
 * it to another orchestrator within seconds of noticing the peer is gone (missed pings),
 * not wait out the attempt's first-byte deadline. Real processes in network namespaces:
 * orchestrator 0 has an external runner that never answers (the job stays in flight),
 * orchestrator 1 a noop runner. The deadline is set to the ~25 s the 50-host scenario
 * derived from its p95 (scenarios/fifty-hosts.yaml), so the two ways to fail over differ.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { expect } from 'chai'
import { createNetnsLab, netnsSupport, type NetnsHost, type NetnsLab } from '../../src/testnet/netns.js'
import { attemptsOf, nsFetch, startNsMesh, type NsMesh } from './netns-mesh.js'
import { skipUnsupported } from '../helpers/skip.js'

const MODEL = 'shoal/noop'
const PIPELINE = 'text-to-image'
/** the first-byte deadline of an attempt with nothing measured (the scenario's was 20-23 s) */
const FIRST_BYTE_MS = 25_000
/** from the cut to the answer from the other orchestrator, at most (detection is ping timeout + a ping interval) */
const FAILOVER_WITHIN_MS = 12_000
const STALL_PORT = 9100
const STALL_SCRIPT = fileURLToPath(new URL('./fixtures/stall-runner.mjs', import.meta.url))

/** Starts the stalling runner inside `host`'s namespace; resolves once it listens. */
async function startStallRunner (host: NetnsHost): Promise<ChildProcess> {
  const [cmd, ...args] = host.exec([process.execPath, STALL_SCRIPT, '127.0.0.1', String(STALL_PORT), PIPELINE, MODEL])
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] })
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => { reject(new Error(`stall runner exited (${String(code)})`)) })
    createInterface({ input: child.stdout! }).on('line', (line) => { if (line === 'listening') resolve() })
  })
  return child
}

describe('e2e: a request in flight on an orchestrator that is cut off (network namespaces)', function () {
  this.timeout(300_000)
  let lab: NetnsLab | undefined
  let mesh: NsMesh | undefined
  let stall: ChildProcess | undefined
  let dataDir: string | undefined

  before(async function () {
    skipUnsupported(this, await netnsSupport())
  })

  after(async () => {
    await mesh?.stop().catch(() => {})
    stall?.stdin?.end()
    await lab?.remove()
    if (dataDir !== undefined && process.env.SHOAL_KEEP_TEST_LOGS === undefined) await rm(dataDir, { recursive: true, force: true })
  })

  it('fails the attempt over to another orchestrator within seconds of the cut, not at its first-byte deadline', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'shoal-partition-inflight-'))
    lab = await createNetnsLab({ subnetPrefix: '10.233.0' })
    stall = await startStallRunner(await lab.addHost('orchestrator-0'))
    mesh = await startNsMesh({
      lab,
      dataDir,
      orchestrators: 2,
      models: [{ pipeline: PIPELINE, model_id: MODEL, warm: true, capacity: 4 }],
      modelsOf: (i) => i === 0 ? [{ pipeline: PIPELINE, model_id: MODEL, warm: true, capacity: 4, url: `http://127.0.0.1:${STALL_PORT}` }] : undefined,
      extraArgs: { gateway: ['--unmeasured-first-byte', `${PIPELINE}=${FIRST_BYTE_MS}`] }
    })
    const m = mesh
    const [stuck, other] = m.orchestrators
    const reachable = async (): Promise<Map<string, boolean>> => {
      const res = await nsFetch(m.gateway.host, `${m.gatewayUrl}/network/orchestrators`, { timeoutMs: 10_000 })
      const rows = res.status === 200 ? JSON.parse(res.body) as Array<{ peerId: string, reachable: boolean }> : []
      return new Map(rows.map(r => [r.peerId, r.reachable]))
    }
    const waitFor = async (test: (dir: Map<string, boolean>) => boolean, timeoutMs: number, what: string): Promise<void> => {
      const end = Date.now() + timeoutMs
      while (!test(await reachable())) {
        if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
        await new Promise(resolve => setTimeout(resolve, 500))
      }
    }
    await waitFor(d => d.get(stuck.peerId) === true && d.get(other.peerId) === true, 120_000, 'both orchestrators listed')

    // orchestrator 1 out of reach for a moment: the request can only go to the stuck one
    await lab.cut(other.host.name)
    await waitFor(d => d.get(other.peerId) === false, 30_000, 'orchestrator 1 unreachable')
    const request = nsFetch(m.gateway.host, `${m.gatewayUrl}/${PIPELINE}`, {
      method: 'POST', body: { prompt: 'in flight', model_id: MODEL, width: 64, height: 64 }, timeoutMs: 90_000
    })
    await new Promise(resolve => setTimeout(resolve, 1_000))
    await lab.heal(other.host.name)
    await waitFor(d => d.get(other.peerId) === true, 30_000, 'orchestrator 1 reachable again')

    // now the orchestrator the request waits on goes silent
    const cutAt = Date.now()
    await lab.cut(stuck.host.name)
    const res = await request
    const attempts = attemptsOf({ kind: 'request', start: res.start, end: res.end, status: res.status, orchestrator: res.headers['x-shoal-orchestrator'] ?? null, tried: res.headers['x-shoal-tried'] ?? '' })
    const report = {
      status: res.status,
      error: res.error,
      sentBeforeCutMs: cutAt - res.start,
      failoverAfterCutMs: res.end - cutAt,
      totalMs: res.end - res.start,
      attempts: attempts.map(a => ({ peer: a.peerId === stuck.peerId ? 'stuck' : a.peerId === other.peerId ? 'other' : a.peerId, outcome: a.outcome, ms: a.ms, code: a.code }))
    }
    console.log(`      in-flight partition: ${JSON.stringify(report)}`)

    expect(res.status, `answer ${res.body.slice(0, 200)}`).to.equal(200)
    expect(res.headers['x-shoal-orchestrator']).to.equal(other.peerId)
    expect(attempts[0]?.peerId, 'the first attempt went to the stuck orchestrator').to.equal(stuck.peerId)
    expect(attempts[0]?.code).to.equal('JOB_ERROR_UNREACHABLE')
    expect(res.end - cutAt, 'from the cut to the answer').to.be.below(FAILOVER_WITHIN_MS)
  })
})
