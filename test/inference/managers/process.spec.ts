import { expect } from 'chai'
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import { createProcessRunnerManager, type RunnerManager } from '../../../src/inference/managers/index.js'
import type { InferenceJob } from '../../../src/kernel/job.js'
import { createRunnerClient } from '../../../src/inference/runner-client/index.js'
import { dataUrlBytes, entry, makePng, until } from '../fixtures.js'

/** Our child processes running `shoal runner`, as the OS lists them. */
function runnerChildren (parent = process.pid): Map<number, string> {
  let out = ''
  try {
    out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(parent)], { encoding: 'utf8' })
  } catch { return new Map() } // ps exits 1 when there is none
  const children = new Map<number, string>()
  for (const line of out.split('\n')) {
    const match = /^\s*(\d+)\s+(.*)$/.exec(line)
    if (match !== null && match[2].includes(' runner ')) children.set(Number(match[1]), match[2])
  }
  return children
}

function alive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch { return false }
}

async function body (res: { body: AsyncIterable<Uint8Array> }): Promise<any> {
  const parts: Buffer[] = []
  for await (const chunk of res.body) parts.push(Buffer.from(chunk))
  return JSON.parse(Buffer.concat(parts).toString('utf8'))
}

describe('inference/managers/process: shoal runner child processes', function () {
  this.timeout(60_000)

  it('refuses at once an entry the CPU runner cannot run, and entries with a url', () => {
    expect(() => createProcessRunnerManager({ entries: [entry({ pipeline: 'text-to-image', modelId: 'stabilityai/sd-turbo' })] }))
      .to.throw().with.property('code', 'CPU_RUNNER_ERROR_UNSUPPORTED_MODEL')
    expect(() => createProcessRunnerManager({ entries: [entry({ pipeline: 'upscale', modelId: 'shoal/noop', url: 'http://127.0.0.1:1' })] })).to.throw(TypeError)
  })

  it('fails start with RUNNER_ERROR_START_FAILED, quoting the runner, when a warm runner exits', async () => {
    const manager = createProcessRunnerManager({
      entries: [entry({ pipeline: 'upscale', modelId: 'shoal/noop', warm: true })],
      command: { execPath: process.execPath, args: ['-e', 'console.error("cannot start: no GPU"); process.exit(3)', '--'] }
    })
    const err = await manager.start().then(() => null, (e) => e)
    expect(err).to.have.property('name', 'RunnerStartError')
    expect(err).to.have.property('code', 'RUNNER_ERROR_START_FAILED')
    expect(err.message).to.include('code 3').and.include('cannot start: no GPU')
    await manager.stop()
  })

  it('runners do not outlive a killed manager process', async () => {
    const holder = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fixtures/hold-runners.ts', import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'] })
    try {
      await once(createInterface({ input: holder.stdout! }), 'line')
      const runners = [...runnerChildren(holder.pid).keys()]
      expect(runners).to.have.length(1)
      holder.kill('SIGKILL')
      await until('the orphaned runner to exit', () => !alive(runners[0]), 10_000)
    } finally {
      holder.kill('SIGKILL')
    }
  })

  describe('with real runners', () => {
    let manager: RunnerManager
    let png: Buffer
    before(async () => {
      png = await makePng(96, 64)
      manager = createProcessRunnerManager({
        entries: [
          entry({ pipeline: 'upscale', modelId: 'upscalerjs/esrgan-slim-x2', warm: true, capacity: 1 }),
          entry({ pipeline: 'upscale', modelId: 'shoal/noop', warm: true, capacity: 2 }),
          entry({ pipeline: 'text-to-image', modelId: 'shoal/noop', warm: false, capacity: 1 })
        ],
        healthIntervalMs: 200,
        restartDelayMs: 100,
        env: { SHOAL_LOG_LEVEL: 'warn' }
      })
      await manager.start()
    })
    after(async () => { await manager?.stop() })

    const upscaleJob = (modelId: string): InferenceJob => ({ pipeline: 'upscale', modelId, params: { prompt: 'p' }, inputs: [{ field: 'image', filename: 'a.png', contentType: 'image/png', data: png }] })

    it('starts warm entries as processes and lists cold ones as cold', () => {
      const caps = Object.fromEntries(manager.capabilities().map((c) => [`${c.pipeline} ${c.modelId}`, c]))
      expect(caps['upscale upscalerjs/esrgan-slim-x2']).to.include({ warm: true, capacity: 1, inUse: 0 })
      expect(caps['upscale shoal/noop']).to.include({ warm: true, capacity: 2, inUse: 0 })
      expect(caps['upscale shoal/noop'].runnerVersion).to.match(/^shoal-cpu-runner\//)
      expect(caps['text-to-image shoal/noop']).to.include({ warm: false, capacity: 1, runnerVersion: null })
      expect(runnerChildren().size).to.equal(2)
    })

    it('runs a real upscale on a managed ESRGAN runner', async () => {
      const lease = await manager.acquire('upscale', 'upscalerjs/esrgan-slim-x2')
      try {
        const res = await lease.client.run(upscaleJob('upscalerjs/esrgan-slim-x2'))
        expect(res.status).to.equal(200)
        const meta = await sharp(dataUrlBytes((await body(res)).images[0].url)).metadata()
        expect([meta.width, meta.height]).to.deep.equal([192, 128])
      } finally {
        lease.release()
      }
    })

    it('starts a cold runner on its first acquire, then counts its capacity', async () => {
      let changes = 0
      const onChange = (): void => { changes++ }
      manager.on('change', onChange)
      const lease = await manager.acquire('text-to-image', 'shoal/noop')
      expect(manager.capabilities().find((c) => c.pipeline === 'text-to-image')).to.include({ warm: true, inUse: 1 })
      expect(changes).to.be.at.least(2) // slot taken, runner warm
      const res = await lease.client.run({ pipeline: 'text-to-image', modelId: 'shoal/noop', params: { prompt: 'x' }, inputs: [] })
      expect((await body(res)).prompt).to.equal('x')
      // the runner takes jobs only from its manager (a per-process token), not from any local client
      const stranger = createRunnerClient({ url: lease.client.url })
      const refused = await stranger.run({ pipeline: 'text-to-image', modelId: 'shoal/noop', params: { prompt: 'x' }, inputs: [] })
      expect(refused.status).to.equal(401)
      await body(refused)
      stranger.close()
      const err = await manager.acquire('text-to-image', 'shoal/noop').then(() => null, (e) => e)
      expect(err).to.have.property('code', 'RUNNER_ERROR_INSUFFICIENT_CAPACITY')
      lease.release()
      manager.off('change', onChange)
      expect(runnerChildren().size).to.equal(3)
    })

    it('restarts a warm runner that dies, with a new process', async () => {
      // the noop upscale runner is the child listening on its client's port
      const lease = await manager.acquire('upscale', 'shoal/noop')
      const port = new URL(lease.client.url).port
      lease.release()
      const victim = [...runnerChildren().keys()].find((pid) => {
        try {
          return execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' }).includes(`pid=${pid},`)
        } catch { return false }
      })
      expect(victim, `no runner process listens on ${port}`).to.be.a('number')
      process.kill(victim as number, 'SIGKILL')
      await until('the dead runner to leave the warm pool', () => manager.capabilities().find((c) => c.modelId === 'shoal/noop' && c.pipeline === 'upscale')?.warm === false, 5000)
      await until('the runner to be restarted', () => manager.capabilities().find((c) => c.modelId === 'shoal/noop' && c.pipeline === 'upscale')?.warm === true, 30_000)
      expect(alive(victim as number)).to.equal(false)
      const again = await manager.acquire('upscale', 'shoal/noop')
      expect(again.client.url).to.not.equal(lease.client.url)
      const res = await again.client.run(upscaleJob('shoal/noop'))
      expect(res.status).to.equal(200)
      await body(res)
      again.release()
    })

    it('stops every runner process by pid', async () => {
      const pids = [...runnerChildren().keys()]
      expect(pids).to.have.length(3)
      await manager.stop()
      for (const pid of pids) expect(alive(pid), `runner ${pid} still alive`).to.equal(false)
      expect(manager.capabilities()).to.deep.equal([])
    })
  })
})
