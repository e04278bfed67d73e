import { expect } from 'chai'
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createProcessRunnerManager, type RunnerManager } from '../../../src/inference/managers/index.js'
import { entry, until } from '../fixtures.js'

const FAKE_RUNNER = fileURLToPath(new URL('./fixtures/fake-runner.mjs', import.meta.url))

/** Our child processes running the fake runner. */
function fakeRunners (): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' })
      .split('\n').filter((line) => line.includes('fake-runner.mjs')).map((line) => Number(line.trim().split(/\s+/)[0]))
  } catch { return [] } // ps exits 1 when there is none
}

function alive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch { return false }
}

describe('inference/managers/supervisor: one runner life for processes and containers', function () {
  this.timeout(60_000)

  describe('driving real runner processes through every /health state (process manager)', () => {
    let dir: string
    let healthFile: string
    let manager: RunnerManager | null = null
    const setHealth = async (status: string): Promise<void> => { await writeFile(healthFile, status) }
    const managerWith = (warm: boolean): RunnerManager => createProcessRunnerManager({
      entries: [entry({ pipeline: 'upscale', modelId: 'shoal/noop', warm, capacity: 2 })],
      command: { execPath: process.execPath, args: [FAKE_RUNNER] },
      env: { FAKE_HEALTH_FILE: healthFile },
      healthIntervalMs: 100,
      healthTimeoutMs: 500,
      restartDelayMs: 50,
      startupTimeoutMs: 20_000
    })
    const pidOf = (m: RunnerManager): number | null => {
      const version = m.capabilities()[0]?.runnerVersion
      return version == null ? null : Number(version.replace('fake-', ''))
    }

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'shoal-supervisor-'))
      healthFile = join(dir, 'health')
      await setHealth('OK')
    })
    afterEach(async () => {
      await manager?.stop()
      manager = null
      await rm(dir, { recursive: true, force: true })
    })

    it('waits through LOADING at start and serves once the runner answers OK', async () => {
      await setHealth('LOADING')
      manager = managerWith(true)
      let started = false
      const start = manager.start().then(() => { started = true })
      await new Promise((resolve) => setTimeout(resolve, 500))
      expect(started, 'start() resolved while the runner was LOADING').to.equal(false)
      await setHealth('OK')
      await start
      expect(manager.capabilities()).to.have.length(1)
      expect(manager.capabilities()[0]).to.include({ warm: true, capacity: 2 })
    })

    it('fails start when the runner reports ERROR while loading, and leaves no process behind', async () => {
      await setHealth('ERROR')
      manager = managerWith(true)
      const err = await manager.start().then(() => null, (e: Error) => e)
      expect(err).to.have.property('code', 'RUNNER_ERROR_START_FAILED')
      expect(err?.message).to.include('reported ERROR while loading')
      expect(fakeRunners()).to.deep.equal([])
    })

    it('takes a LOADING runner out of rotation (no jobs, not announced) and puts it back on OK', async () => {
      manager = managerWith(true)
      await manager.start()
      const pid = pidOf(manager)
      expect(pid).to.be.a('number')
      const changes: number[] = []
      manager.on('change', () => changes.push(manager!.capabilities().length))

      await setHealth('LOADING')
      await until('the LOADING runner to leave the capabilities', () => manager!.capabilities().length === 0, 10_000)
      const refused = await manager.acquire('upscale', 'shoal/noop').then(() => null, (e: Error) => e)
      expect(refused).to.have.property('code', 'RUNNER_ERROR_UNAVAILABLE')
      // out of rotation, not restarted: the same process
      expect(alive(pid!)).to.equal(true)

      await setHealth('OK')
      await until('the runner to be back in rotation', () => manager!.capabilities()[0]?.warm === true, 10_000)
      expect(pidOf(manager)).to.equal(pid)
      const lease = await manager.acquire('upscale', 'shoal/noop')
      lease.release()
      expect(changes).to.include(0)
    })

    it('replaces a warm runner that reports ERROR with a new process', async () => {
      manager = managerWith(true)
      await manager.start()
      const pid = pidOf(manager) as number
      await setHealth('ERROR')
      await until('the old process to be gone', () => !alive(pid), 10_000)
      await setHealth('OK')
      await until('a new runner to serve', () => { const p = pidOf(manager!); return p !== null && p !== pid }, 20_000)
      expect(manager.capabilities()[0]).to.include({ warm: true })
    })

    it('kills a runner that stops answering after two failed checks, and restarts it', async () => {
      manager = managerWith(true)
      await manager.start()
      const pid = pidOf(manager) as number
      await setHealth('HANG')
      await until('the hung process to be killed', () => !alive(pid), 10_000)
      await setHealth('OK')
      await until('a new runner to serve', () => { const p = pidOf(manager!); return p !== null && p !== pid }, 20_000)
    })

    it('restarts a cold runner only on demand after it died', async () => {
      manager = managerWith(false)
      await manager.start()
      expect(manager.capabilities()[0]).to.include({ warm: false })
      const lease = await manager.acquire('upscale', 'shoal/noop')
      lease.release()
      const pid = pidOf(manager) as number
      process.kill(pid, 'SIGKILL')
      await until('the dead runner to be cold again', () => manager!.capabilities()[0]?.warm === false, 10_000)
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(manager.capabilities()[0]).to.include({ warm: false })
      const again = await manager.acquire('upscale', 'shoal/noop')
      again.release()
      expect(pidOf(manager)).to.not.equal(pid)
    })
  })
})
