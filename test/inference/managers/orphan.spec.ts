import { expect } from 'chai'
import { mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { NOOP_BUSY_ENV } from '../../../src/cpu-runner/models/noop.js'
import { createShoalNode, type ShoalLibp2p } from '../../../src/p2p/node.js'
import { createAiClient } from '../../../src/protocols/ai/index.js'
import { spawnShoal, type ShoalChild } from '../../../src/testnet/child.js'
import { waitForValue } from '../../helpers/wait-for.js'

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    // a zombie is dead; it only waits for a parent to reap it
    return true
  } catch {
    return false
  }
}

async function stateOf (pid: number): Promise<{ ppid: number, state: string, cpuTicks: number } | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    // fields after the command name, which may contain spaces: state ppid ... utime(14) stime(15)
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { state: rest[0], ppid: Number(rest[1]), cpuTicks: Number(rest[11]) + Number(rest[12]) }
  } catch {
    return null
  }
}

async function childrenOf (pid: number): Promise<number[]> {
  const found: number[] = []
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const s = await stateOf(Number(name))
    if (s?.ppid === pid) found.push(Number(name))
  }
  return found
}

/** fd number -> what it points at (files, sockets, pipes), for one process. */
async function fdsOf (pid: number): Promise<Map<number, string>> {
  const fds = new Map<number, string>()
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    try { fds.set(Number(fd), await readlink(`/proc/${pid}/fd/${fd}`)) } catch { /* closed meanwhile */ }
  }
  return fds
}

/**
 * A real orchestrator process (built dist/) with a real `shoal runner` child, whose
 * main thread the test model blocks mid-job; then the orchestrator is SIGKILLed alone.
 */
describe('inference/managers: a runner dies with its orchestrator', function () {
  this.timeout(180_000)
  let dir: string
  let orchestrator: ShoalChild | undefined
  let gateway: ShoalLibp2p | undefined
  let runnerPid: number | undefined

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shoal-orphan-'))
    await writeFile(join(dir, 'aiModels.json'), JSON.stringify([{ pipeline: 'upscale', model_id: 'shoal/noop', warm: true, capacity: 1 }]))
  })

  after(async () => {
    if (runnerPid !== undefined && alive(runnerPid)) process.kill(runnerPid, 'SIGKILL')
    await orchestrator?.kill()
    await gateway?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('holds none of the orchestrator\'s descriptors and is gone within seconds of a SIGKILL, even blocked', async () => {
    orchestrator = spawnShoal('orchestrator', [
      'orchestrator', '--data-dir', dir, '--ai-models', join(dir, 'aiModels.json'), '--payments', 'off',
      '--listen', '/ip4/127.0.0.1/tcp/0', '--address-scope', 'private', '--log-level', 'warn'
    ], { logFile: join(dir, 'orchestrator.log'), env: { [NOOP_BUSY_ENV]: '600000' } })
    const listening = await orchestrator.waitForEvent('listening', { timeoutMs: 120_000 })
    const orchestratorPid = orchestrator.pid
    runnerPid = await waitForValue(async () => (await childrenOf(orchestratorPid))[0], 30_000, 'the runner process')

    // no descriptor of the orchestrator (its LevelDB files, sockets) leaked into the runner
    const runnerFds = await fdsOf(runnerPid)
    const orchestratorTargets = new Set((await fdsOf(orchestratorPid)).values())
    // (anonymous inodes and /dev/null name no object of the orchestrator: both processes have their own)
    const shared = [...runnerFds].filter(([fd, target]) => fd > 2 && orchestratorTargets.has(target) && !target.startsWith('anon_inode:') && target !== '/dev/null')
    expect(shared, 'descriptors shared with the orchestrator').to.deep.equal([])
    expect([...runnerFds.values()].filter(t => t.startsWith(dir)), 'files of the orchestrator\'s data directory').to.deep.equal([])

    // a job that blocks the runner's main thread
    gateway = await createShoalNode({ role: 'gateway', privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    await gateway.start()
    await gateway.dial(multiaddr((listening.addresses as string[])[0]))
    const client = createAiClient({ dialProtocol: gateway.dialProtocol.bind(gateway) })
    const job = client.runJob(peerIdFromString(String(listening.peerId)), {
      pipeline: 'upscale', modelId: 'shoal/noop', params: { prompt: 'x' }, inputs: [{ field: 'image', filename: 'a.png', contentType: 'image/png', data: new Uint8Array(64) }]
    }, { deadlineMs: 600_000 })
    job.catch(() => {})
    // the runner's CPU time grows by a second's worth: its main thread is spinning
    const before = (await stateOf(runnerPid))?.cpuTicks ?? 0
    await waitForValue(async () => ((await stateOf(runnerPid as number))?.cpuTicks ?? 0) - before >= 100 ? true : undefined, 60_000, 'the runner to block')

    process.kill(orchestratorPid, 'SIGKILL')
    await orchestrator.exited
    const killed = Date.now()
    await waitForValue(async () => alive(runnerPid as number) && (await stateOf(runnerPid as number))?.state !== 'Z' ? undefined : true, 15_000, 'the runner to exit')
    expect(Date.now() - killed).to.be.below(10_000)
  })
})
