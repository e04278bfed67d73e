import { expect } from 'chai'
import { Registry } from 'prom-client'
import { silentLogger } from '../../../src/observability/logger.js'
import { createDispatcher } from '../../../src/gateway/dispatch/dispatcher.js'
import { UnreachableError } from '../../../src/gateway/dispatch/errors.js'
import { createAdaptiveStrategy } from '../../../src/gateway/selection/strategy.js'
import { createGatewayMetrics } from '../../../src/gateway/metrics.js'
import type { DispatcherOptions } from '../../../src/gateway/dispatch/options.js'
import { candidate } from '../helpers.js'
import { fakeSend, upscaleJob as job, waitFor } from './fakes.js'

const signal = new AbortController().signal
const model = { pipeline: 'upscale', modelId: 'esrgan-slim' } as const

/** `gone` never answers and is tried first (more free slots); `good` answers in 5 ms; deadlines of 10 s */
function setup (options: Partial<DispatcherOptions> = {}) {
  const fake = fakeSend({ gone: () => ({ ms: 'hang' }), good: () => ({ ms: 5 }) })
  const strategy = createAdaptiveStrategy()
  const registry = new Registry()
  const seen: string[] = []
  /** watches open now, per peer */
  const watching = new Map<string, number>()
  const watched: string[] = []
  const d = createDispatcher({
    candidates: () => [candidate('gone', { capacity: 100 }), candidate('good', { capacity: 1 })],
    strategy, send: fake.send, logger: silentLogger(), metrics: createGatewayMetrics(registry), random: () => 0.5,
    onAttempt: (peerId, _modelId, outcome, errorCode) => { seen.push(`${peerId}:${outcome}:${errorCode ?? ''}`) },
    watchPeer: (peer) => {
      watched.push(peer)
      watching.set(peer, (watching.get(peer) ?? 0) + 1)
      return () => { watching.set(peer, (watching.get(peer) ?? 0) - 1) }
    },
    options: { unmeasuredFirstByteMs: { upscale: 10_000 }, firstByteDeadlineFloorMs: 10_000, ...options }
  })
  return { fake, strategy, registry, seen, watching, watched, d }
}

describe('gateway dispatch: an orchestrator found unreachable with attempts in flight', () => {
  it('stops the attempt at once as JOB_ERROR_UNREACHABLE and completes the job on another orchestrator', async () => {
    const { fake, strategy, registry, seen, d } = setup()
    const t0 = Date.now()
    const dispatched = d.dispatch(job, { signal, requestId: 'r' })
    await waitFor(() => fake.calls.length === 1, 5_000, 'the attempt on gone')
    expect(fake.calls[0]?.peerId).to.equal('gone')
    // an unrelated peer, or one with nothing in flight: nothing to stop
    expect(d.peerUnreachable('good', 'ping missed')).to.equal(0)
    expect(d.peerUnreachable('gone', 'ping missed')).to.equal(1)
    const r = await dispatched
    expect(r.orchestrator).to.equal('good')
    expect(r.attempts.map(a => [a.peerId, a.outcome, a.errorCode])).to.deep.equal([
      ['gone', 'failure', 'JOB_ERROR_UNREACHABLE'],
      ['good', 'success', undefined]
    ])
    // long before the 10 s first-byte deadline
    expect(Date.now() - t0).to.be.below(2_000)
    // the attempt's own signal was aborted with the typed error (the client stops the job), not the request's
    expect(fake.calls[0]?.abortReason).to.be.instanceOf(UnreachableError)
    expect(signal.aborted).to.equal(false)
    // a failure of that orchestrator: suspended like any other, and told to the directory
    expect(strategy.stats('gone', model)?.consecutiveFailures).to.equal(1)
    expect(seen).to.deep.equal(['gone:failure:JOB_ERROR_UNREACHABLE', 'good:success:'])
    const text = await registry.metrics()
    expect(text).to.match(/shoal_gateway_dispatch_attempts_cut_total\{pipeline="upscale"\} 1/)
    expect(text).to.match(/shoal_gateway_dispatch_attempts_total\{pipeline="upscale",outcome="failure",error_code="JOB_ERROR_UNREACHABLE"\} 1/)
    // once settled, nothing is left to stop
    expect(d.peerUnreachable('gone', 'ping missed')).to.equal(0)
  })

  it('stops every attempt on that orchestrator, all dispatches together', async () => {
    const { fake, d } = setup()
    const dispatches = [d.dispatch(job, { signal, requestId: 'a' }), d.dispatch(job, { signal, requestId: 'b' })]
    await waitFor(() => fake.calls.filter(c => c.peerId === 'gone').length === 2, 5_000, 'both attempts on gone')
    expect(d.peerUnreachable('gone', 'ping missed')).to.equal(2)
    const results = await Promise.all(dispatches)
    expect(results.map(r => r.orchestrator)).to.deep.equal(['good', 'good'])
  })

  it('watches the orchestrator of each attempt while it runs, and stops watching when it ends', async () => {
    const { fake, watching, watched, d } = setup()
    const dispatched = d.dispatch(job, { signal, requestId: 'r' })
    await waitFor(() => fake.calls.length === 1, 5_000, 'the attempt on gone')
    expect(watching.get('gone')).to.equal(1)
    d.peerUnreachable('gone', 'connection closed')
    await dispatched
    expect(watched).to.deep.equal(['gone', 'good'])
    expect([...watching.values()]).to.deep.equal([0, 0])
  })

  it('tries once more even when the retry budget is spent, as after a missed deadline', async () => {
    const { fake, d } = setup({ retryBudgetMs: 50 })
    const dispatched = d.dispatch(job, { signal, requestId: 'r' })
    await waitFor(() => fake.calls.length === 1, 5_000, 'the attempt on gone')
    await new Promise(resolve => setTimeout(resolve, 100))
    d.peerUnreachable('gone', 'ping missed')
    const r = await dispatched
    expect(r.attempts.map(a => [a.peerId, a.outcome])).to.deep.equal([['gone', 'failure'], ['good', 'success']])
  })

  it('leaves an attempt alone once the request itself is aborted', async () => {
    const { fake, d } = setup()
    const controller = new AbortController()
    const dispatched = d.dispatch(job, { signal: controller.signal, requestId: 'r' }).catch(e => e)
    await waitFor(() => fake.calls.length === 1, 5_000, 'the attempt on gone')
    controller.abort(new Error('client gone'))
    const err = await dispatched
    expect(err.code).to.equal('DISPATCH_ERROR_ABORTED')
    expect(d.peerUnreachable('gone', 'ping missed')).to.equal(0)
  })
})
