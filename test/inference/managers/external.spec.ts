import { expect } from 'chai'
import { createCpuRunnerServer, type CpuRunnerServer } from '../../../src/cpu-runner/index.js'
import { createExternalRunnerManager, type RunnerManager } from '../../../src/inference/managers/index.js'
import { entry, makePng, until } from '../fixtures.js'

describe('inference/managers/external: runners at a URL', function () {
  this.timeout(20_000)
  let a: CpuRunnerServer
  let b: CpuRunnerServer
  let manager: RunnerManager
  before(async () => {
    a = createCpuRunnerServer({ pipeline: 'upscale', modelId: 'shoal/noop', port: 0, authToken: 'token-a' })
    b = createCpuRunnerServer({ pipeline: 'upscale', modelId: 'shoal/noop', port: 0 })
    await Promise.all([a.start(), b.start()])
    manager = createExternalRunnerManager({
      entries: [
        entry({ pipeline: 'upscale', modelId: 'shoal/noop', capacity: 2, url: a.url, token: 'token-a' }),
        entry({ pipeline: 'upscale', modelId: 'shoal/noop', capacity: 1, url: b.url })
      ],
      healthIntervalMs: 50,
      healthTimeoutMs: 500
    })
    await manager.start()
  })
  after(async () => {
    await manager.stop()
    await Promise.all([a.stop(), b.stop()])
  })

  it('serves the healthy runners as one warm capability with their version', () => {
    const caps = manager.capabilities()
    expect(caps).to.have.length(1)
    expect(caps[0]).to.include({ pipeline: 'upscale', modelId: 'shoal/noop', warm: true, capacity: 3, inUse: 0 })
    expect(caps[0].runnerVersion).to.match(/^shoal-cpu-runner\//)
  })

  it('hands out slots up to capacity, then refuses with RUNNER_ERROR_INSUFFICIENT_CAPACITY; release frees one', async () => {
    let changes = 0
    const onChange = (): void => { changes++ }
    manager.on('change', onChange)
    const leases = [await manager.acquire('upscale', 'shoal/noop'), await manager.acquire('upscale', 'shoal/noop'), await manager.acquire('upscale', 'shoal/noop')]
    expect(manager.capabilities()[0].inUse).to.equal(3)
    const err = await manager.acquire('upscale', 'shoal/noop').then(() => null, (e) => e)
    expect(err).to.have.property('name', 'InsufficientCapacityError')
    expect(err).to.have.property('code', 'RUNNER_ERROR_INSUFFICIENT_CAPACITY')
    // both runners were used, and each lease's client really runs jobs (with the token where needed)
    expect(new Set(leases.map((l) => l.client.url))).to.deep.equal(new Set([a.url, b.url]))
    const png = await makePng(8, 8)
    for (const lease of leases) {
      const res = await lease.client.run({ pipeline: 'upscale', modelId: 'shoal/noop', params: { prompt: 'p' }, inputs: [{ field: 'image', filename: 'a.png', contentType: 'image/png', data: png }] })
      expect(res.status).to.equal(200)
      for await (const _ of res.body) { /* drain */ }
    }
    leases[0].release()
    leases[0].release() // idempotent
    expect(manager.capabilities()[0].inUse).to.equal(2)
    const again = await manager.acquire('upscale', 'shoal/noop')
    again.release()
    leases[1].release()
    leases[2].release()
    expect(manager.capabilities()[0].inUse).to.equal(0)
    expect(changes).to.equal(3 + 1 + 2 + 2)
    manager.off('change', onChange)
  })

  it('refuses a model no runner serves with RUNNER_ERROR_UNSUPPORTED_MODEL', async () => {
    const err = await manager.acquire('upscale', 'other/model').then(() => null, (e) => e)
    expect(err).to.have.property('name', 'UnsupportedModelError')
    expect(err).to.have.property('code', 'RUNNER_ERROR_UNSUPPORTED_MODEL')
  })

  it('drops a runner that stops answering and takes it back when it returns', async () => {
    const c = createCpuRunnerServer({ pipeline: 'llm', modelId: 'shoal/noop', port: 0 })
    await c.start()
    const solo = createExternalRunnerManager({ entries: [entry({ pipeline: 'llm', modelId: 'shoal/noop', url: c.url })], healthIntervalMs: 50, healthTimeoutMs: 300, failuresBeforeUnhealthy: 2 })
    await solo.start()
    expect(solo.capabilities()).to.have.length(1)
    const port = new URL(c.url).port
    await c.stop()
    await until('the runner to leave the pool', () => solo.capabilities().length === 0)
    const err = await solo.acquire('llm', 'shoal/noop').then(() => null, (e) => e)
    expect(err).to.have.property('code', 'RUNNER_ERROR_UNAVAILABLE')
    const back = createCpuRunnerServer({ pipeline: 'llm', modelId: 'shoal/noop', port: Number(port) })
    await back.start()
    await until('the runner to come back', () => solo.capabilities().length === 1)
    ;(await solo.acquire('llm', 'shoal/noop')).release()
    await solo.stop()
    await back.stop()
  })

  it('keeps out a runner that serves another model than configured', async () => {
    const wrong = createExternalRunnerManager({ entries: [entry({ pipeline: 'text-to-image', modelId: 'shoal/noop', url: a.url })] })
    await wrong.start()
    expect(wrong.capabilities()).to.deep.equal([])
    await wrong.stop()
  })
})
