import { expect } from 'chai'
import { createRunnerSupervisor, type RunnerInstance } from '../../../src/inference/managers/supervisor.js'
import { silentLogger } from '../../../src/observability/logger.js'
import { waitFor } from '../../helpers/wait-for.js'

describe('inference/managers/supervisor: restarts and start failures (a backend in memory)', function () {
  this.timeout(30_000)

  const client = {
    health: async () => ({ status: 'OK' }),
    version: async () => ({ pipeline: 'upscale', model_id: 'shoal/noop', version: '1' }),
    close: () => {}
  } as never
  const options = {
    pipeline: 'upscale' as const, modelId: 'shoal/noop', startupTimeoutMs: 5_000, startupPollMs: 10, healthIntervalMs: 60_000,
    healthTimeoutMs: 1_000, failuresBeforeRestart: 2, restartDelayMs: 40, logger: silentLogger(), onChange: () => {}
  }

  it('restarts a removed warm runner after restartDelayMs, doubling the delay while restarts fail', async () => {
    const launches: number[] = []
    const disposed: string[] = []
    const supervisor = createRunnerSupervisor<RunnerInstance>({
      launch: async () => {
        launches.push(performance.now())
        if (launches.length > 1) throw new Error('cannot start')
        return { client, exited: new Promise(() => {}), tail: async () => '', describe: () => ({}) }
      },
      dispose: async (_instance, reason) => { disposed.push(reason.kind) }
    }, { ...options, restart: true })
    await supervisor.ensureStarted()
    expect(supervisor.state).to.equal('ready')
    const removedAt = performance.now()
    supervisor.remove({ kind: 'reported-error' })
    expect(supervisor.state).to.equal('idle')
    expect(disposed).to.deep.equal(['reported-error'])
    await waitFor(() => launches.length >= 5, 10_000, 'four restart attempts')
    await supervisor.stop()
    const gaps = [launches[1] - removedAt, launches[2] - launches[1], launches[3] - launches[2], launches[4] - launches[3]]
    // timers never fire early: each wait is at least the doubled delay
    gaps.forEach((gap, i) => { expect(gap, `wait before restart ${i + 1}`).to.be.at.least(40 * 2 ** i - 1) })
    const count = launches.length
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect(launches, 'no restart after stop()').to.have.length(count)
  })

  it('does not restart a cold runner, and reports a failed first start to its caller', async () => {
    let launches = 0
    const exit = Promise.withResolvers<{ code: number | null, signal: string | null }>()
    const supervisor = createRunnerSupervisor<RunnerInstance>({
      launch: async () => {
        launches++
        // "listens" but dies before it is healthy
        return { client: { ...(client as object), health: async () => await new Promise(() => {}) } as never, exited: exit.promise, tail: async () => 'no GPU', describe: () => ({}) }
      },
      dispose: async () => {}
    }, { ...options, restart: false })
    const started = supervisor.ensureStarted()
    exit.resolve({ code: 1, signal: null })
    const err = await started.then(() => null, (e: Error) => e)
    expect(err).to.have.property('code', 'RUNNER_ERROR_START_FAILED')
    expect(err?.message).to.include('exited (code 1) while loading').and.include('no GPU')
    expect(supervisor.state).to.equal('idle')
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(launches).to.equal(1)
    await supervisor.stop()
  })
})
