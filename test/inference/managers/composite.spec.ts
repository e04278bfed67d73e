import { expect } from 'chai'
import { createCpuRunnerServer, type CpuRunnerServer } from '../../../src/cpu-runner/index.js'
import { createCompositeRunnerManager, createExternalRunnerManager, createRunnerManager, type RunnerManager } from '../../../src/inference/managers/index.js'
import { entry } from '../fixtures.js'

describe('inference/managers/composite: several managers as one', function () {
  this.timeout(20_000)
  let runners: CpuRunnerServer[]
  let composite: RunnerManager
  before(async () => {
    runners = [
      createCpuRunnerServer({ pipeline: 'upscale', modelId: 'shoal/noop', port: 0 }),
      createCpuRunnerServer({ pipeline: 'upscale', modelId: 'shoal/noop', port: 0 }),
      createCpuRunnerServer({ pipeline: 'llm', modelId: 'shoal/noop', port: 0 })
    ]
    await Promise.all(runners.map(async (r) => { await r.start() }))
    composite = createCompositeRunnerManager([
      createExternalRunnerManager({ entries: [entry({ pipeline: 'upscale', modelId: 'shoal/noop', capacity: 1, url: runners[0].url })] }),
      createExternalRunnerManager({ entries: [entry({ pipeline: 'upscale', modelId: 'shoal/noop', capacity: 2, url: runners[1].url }), entry({ pipeline: 'llm', modelId: 'shoal/noop', url: runners[2].url })] })
    ])
    await composite.start()
  })
  after(async () => {
    await composite.stop()
    await Promise.all(runners.map(async (r) => { await r.stop() }))
  })

  it('merges capabilities per (pipeline, model)', () => {
    const caps = composite.capabilities().map(({ pipeline, modelId, warm, capacity, inUse }) => ({ pipeline, modelId, warm, capacity, inUse }))
    expect(caps).to.have.deep.members([
      { pipeline: 'upscale', modelId: 'shoal/noop', warm: true, capacity: 3, inUse: 0 },
      { pipeline: 'llm', modelId: 'shoal/noop', warm: true, capacity: 1, inUse: 0 }
    ])
  })

  it('moves on to the next manager when one is full, refuses when all are, and forwards changes', async () => {
    let changes = 0
    composite.on('change', () => { changes++ })
    const leases = await Promise.all([1, 2, 3].map(async () => await composite.acquire('upscale', 'shoal/noop')))
    expect(new Set(leases.map((l) => l.client.url)).size).to.equal(2)
    expect(composite.capabilities().find((c) => c.pipeline === 'upscale')?.inUse).to.equal(3)
    const err = await composite.acquire('upscale', 'shoal/noop').then(() => null, (e) => e)
    expect(err).to.have.property('code', 'RUNNER_ERROR_INSUFFICIENT_CAPACITY')
    expect(err.details).to.include({ capacity: 3 })
    for (const lease of leases) lease.release()
    expect(composite.capabilities().find((c) => c.pipeline === 'upscale')?.inUse).to.equal(0)
    expect(changes).to.equal(6)
  })

  it('refuses a model none of its managers serve', async () => {
    const err = await composite.acquire('text-to-image', 'shoal/noop').then(() => null, (e) => e)
    expect(err).to.have.property('code', 'RUNNER_ERROR_UNSUPPORTED_MODEL')
  })

  it('createRunnerManager sends url entries to external runners and the rest to processes', () => {
    const manager = createRunnerManager([
      entry({ pipeline: 'llm', modelId: 'shoal/noop', url: runners[2].url }),
      entry({ pipeline: 'upscale', modelId: 'upscalerjs/esrgan-slim-x2' })
    ])
    // nothing started yet: the cold managed entry is listed, the external one is not (not checked yet)
    expect(manager.capabilities().map((c) => [c.pipeline, c.modelId, c.warm])).to.deep.equal([['upscale', 'upscalerjs/esrgan-slim-x2', false]])
    expect(() => createRunnerManager([entry({ pipeline: 'image-to-video', modelId: 'stabilityai/svd' })])).to.throw().with.property('code', 'CPU_RUNNER_ERROR_UNSUPPORTED_MODEL')
  })
})
