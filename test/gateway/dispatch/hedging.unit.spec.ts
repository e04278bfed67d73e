import { expect } from 'chai'
import { Registry } from 'prom-client'
import { silentLogger } from '../../../src/observability/logger.js'
import { createDispatcher } from '../../../src/gateway/dispatch/dispatcher.js'
import type { DispatcherOptions } from '../../../src/gateway/dispatch/options.js'
import { createAdaptiveStrategy } from '../../../src/gateway/selection/strategy.js'
import { createGatewayMetrics } from '../../../src/gateway/metrics.js'
import type { InferenceJob } from '../../../src/kernel/job.js'
import type { PipelineName } from '../../../src/kernel/pipelines.js'
import { candidate } from '../helpers.js'
import { fakeSend } from './fakes.js'

const signal = new AbortController().signal

/** `slow` hangs and is ordered first; `quick` answers in 5 ms; both proven with a p95 of 50 ms */
function setup (pipeline: PipelineName, options: Partial<DispatcherOptions>, metrics: ReturnType<typeof createGatewayMetrics> | null = null) {
  const job: InferenceJob = { pipeline, modelId: 'm', params: {}, inputs: [] }
  const fake = fakeSend({ slow: () => ({ ms: 'hang' }), quick: () => ({ ms: 5 }) })
  const strategy = createAdaptiveStrategy()
  for (const p of ['slow', 'quick']) strategy.record(p, { pipeline, modelId: 'm' }, { kind: 'success', seconds: 0.05, units: 1 }, 0)
  const outcomes: string[] = []
  const d = createDispatcher({
    candidates: () => [candidate('slow', { pipeline, modelId: 'm', capacity: 100 }), candidate('quick', { pipeline, modelId: 'm', capacity: 1 })],
    strategy, send: fake.send, logger: silentLogger(), metrics, random: () => 0.5,
    onAttempt: (peerId, _modelId, outcome) => { outcomes.push(`${peerId}:${outcome}`) },
    options
  })
  return { job, fake, strategy, d, outcomes }
}

describe('gateway dispatch: hedged requests', () => {
  it('starts a second attempt elsewhere once the first passes its p95; the first answer wins and the loser is cancelled, not penalised', async () => {
    const registry = new Registry()
    const { job, fake, strategy, d, outcomes } = setup('llm', { hedgeMinDelayMs: 10, firstByteDeadlineFloorMs: 10_000 }, createGatewayMetrics(registry))
    const t0 = Date.now()
    const r = await d.dispatch(job, { signal, requestId: 'r', workUnits: 1 })
    expect(r.orchestrator).to.equal('quick')
    expect(r.attempts.map(a => [a.peerId, a.outcome])).to.deep.equal([['quick', 'success'], ['slow', 'cancelled']])
    expect(fake.calls.map(c => c.peerId)).to.deep.equal(['slow', 'quick'])
    // the hedge waited for the first attempt's p95 (50 ms), not the 10 s deadline
    const hedgeAfter = (fake.calls[1]?.at ?? 0) - (fake.calls[0]?.at ?? 0)
    expect(hedgeAfter).to.be.at.least(45)
    expect(Date.now() - t0).to.be.below(5_000)
    // the loser's own signal was aborted: the /shoal/ai client sends Cancel
    expect(fake.calls[0]?.options.signal.aborted).to.equal(true)
    expect(strategy.stats('slow', { pipeline: 'llm', modelId: 'm' })).to.deep.include({ consecutiveFailures: 0, successRate: 1, suspendedUntil: 0 })
    expect(outcomes).to.have.members(['quick:success', 'slow:cancelled'])
    expect(await registry.metrics()).to.match(/shoal_gateway_dispatch_attempts_total\{pipeline="llm",outcome="cancelled",error_code="none"\} 1/)
  })

  it('does not hedge pipelines not configured: the first-byte deadline moves on instead', async () => {
    const { job, d } = setup('upscale', { hedgeMinDelayMs: 10, firstByteDeadlineFloorMs: 1000 })
    const r = await d.dispatch(job, { signal, requestId: 'r', workUnits: 1 })
    expect(r.attempts.map(a => [a.peerId, a.outcome, a.errorCode])).to.deep.equal([['slow', 'failure', 'JOB_ERROR_DEADLINE_EXCEEDED'], ['quick', 'success', undefined]])
    expect(r.attempts[0]?.ms).to.be.at.least(990)
  })

  it('hedges the pipelines an operator lists, and none with an empty list', async () => {
    const on = setup('upscale', { hedgePipelines: ['upscale'], hedgeMinDelayMs: 10, firstByteDeadlineFloorMs: 10_000 })
    expect((await on.d.dispatch(on.job, { signal, requestId: 'r', workUnits: 1 })).attempts.map(a => a.outcome)).to.deep.equal(['success', 'cancelled'])
    const off = setup('llm', { hedgePipelines: [], hedgeMinDelayMs: 10, firstByteDeadlineFloorMs: 1000 })
    expect((await off.d.dispatch(off.job, { signal, requestId: 'r', workUnits: 1 })).attempts.map(a => a.outcome)).to.deep.equal(['failure', 'success'])
  })

  it('hedges no more than maxHedgeShare of requests, however skewed the p95', async () => {
    const job: InferenceJob = { pipeline: 'llm', modelId: 'm', params: {}, inputs: [] }
    const fake = fakeSend({ x: () => ({ ms: 30 }), y: () => ({ ms: 30 }) })
    const strategy = createAdaptiveStrategy()
    const d = createDispatcher({
      candidates: () => [candidate('x', { pipeline: 'llm', modelId: 'm' }), candidate('y', { pipeline: 'llm', modelId: 'm' })],
      strategy, send: fake.send, logger: silentLogger(), metrics: null,
      options: { hedgeMinDelayMs: 1, firstByteDeadlineFloorMs: 10_000, maxHedgeShare: 0.1 }
    })
    let hedges = 0
    for (let i = 0; i < 40; i++) {
      // a p95 of 1 ms that every answer (30 ms) overruns: every request would want a hedge
      for (const p of ['x', 'y']) for (let k = 0; k < 30; k++) strategy.record(p, { pipeline: 'llm', modelId: 'm' }, { kind: 'success', seconds: 0.001, units: 1 }, 0)
      const r = await d.dispatch(job, { signal, requestId: `r${i}`, workUnits: 1 })
      if (r.attempts.some(a => a.outcome === 'cancelled')) hedges++
      else expect(r.attempts.map(a => a.outcome)).to.deep.equal(['success'])
    }
    // one token to start with, then a tenth per request
    expect(hedges).to.be.within(4, 6)
  })
})
