import { expect } from 'chai'
import { Registry } from 'prom-client'
import { silentLogger } from '../../../src/observability/logger.js'
import type { InferenceJob, RunnerResponse } from '../../../src/kernel/job.js'
import { createDispatcher, type SendJob } from '../../../src/gateway/dispatch/dispatcher.js'
import {
  DispatchAbortedError, InsufficientCapacityError, JobBadRequestError, JobRejectedError, NoOrchestratorError,
  RunnerFailureError, UnreachableError, createJobError, JOB_ERROR_CODES
} from '../../../src/gateway/dispatch/errors.js'
import { createAdaptiveStrategy } from '../../../src/gateway/selection/strategy.js'
import type { Candidate } from '../../../src/gateway/selection/candidate.js'
import { createGatewayMetrics } from '../../../src/gateway/metrics.js'
import { candidate, seededRandom } from '../helpers.js'

const job: InferenceJob = { pipeline: 'upscale', modelId: 'esrgan-slim', params: { prompt: 'x' }, inputs: [] }

function ok (text = 'ok', status = 200): RunnerResponse {
  return {
    status,
    contentType: 'application/json',
    body: (async function * () { yield new TextEncoder().encode(JSON.stringify({ text })) })()
  }
}

async function text (response: RunnerResponse): Promise<string> {
  const chunks: Uint8Array[] = []
  for await (const c of response.body) chunks.push(c)
  return Buffer.concat(chunks).toString('utf8')
}

type Behaviour = (call: number) => { ms: number, result: RunnerResponse | Error }

/**
 * Scripted orchestrators on a virtual clock: each call advances the clock by the
 * orchestrator's latency and answers as scripted.
 */
function scripted (behaviours: Record<string, Behaviour>, over: Partial<Record<string, Partial<Candidate>>> = {}) {
  let clock = 0
  const calls: string[] = []
  const perPeer = new Map<string, number>()
  const send: SendJob = async (peerId) => {
    calls.push(peerId)
    const n = (perPeer.get(peerId) ?? 0) + 1
    perPeer.set(peerId, n)
    const b = behaviours[peerId]
    if (b === undefined) throw new Error(`no script for ${peerId}`)
    const { ms, result } = b(n)
    clock += ms
    if (result instanceof Error) throw result
    return result
  }
  const candidates = (): Candidate[] => Object.keys(behaviours).map(p => candidate(p, over[p] ?? {}))
  return { send, candidates, calls, now: () => clock, advance: (ms: number) => { clock += ms } }
}

const signal = new AbortController().signal

describe('gateway dispatch: retrying dispatcher', () => {
  it('returns the first success with the orchestrator and every attempt', async () => {
    const s = scripted({ only: () => ({ ms: 30, result: ok('hi') }) })
    const d = createDispatcher({ candidates: s.candidates, strategy: createAdaptiveStrategy(), send: s.send, logger: silentLogger(), metrics: null, now: s.now })
    const r = await d.dispatch(job, { signal, requestId: 'r1' })
    expect(r.orchestrator).to.equal('only')
    expect(r.attempts).to.deep.equal([{ peerId: 'only', outcome: 'success', ms: 30 }])
    expect(await text(r.response)).to.equal('{"text":"hi"}')
  })

  it('moves on from a busy orchestrator without penalising it', async () => {
    const s = scripted({
      busy: () => ({ ms: 1, result: new InsufficientCapacityError() }),
      free: () => ({ ms: 10, result: ok() })
    }, { busy: { capacity: 10 }, free: { capacity: 1 } })
    const strategy = createAdaptiveStrategy()
    // make `busy` the first choice: it has far more free slots and a perfect record
    const d = createDispatcher({ candidates: s.candidates, strategy, send: s.send, logger: silentLogger(), metrics: null, now: s.now, random: () => 0.5 })
    for (let i = 0; i < 5; i++) {
      const r = await d.dispatch(job, { signal, requestId: `r${i}` })
      expect(r.orchestrator).to.equal('free')
    }
    expect(s.calls.filter(c => c === 'busy').length).to.be.greaterThan(0)
    expect(strategy.stats('busy', { pipeline: 'upscale', modelId: 'esrgan-slim' })).to.equal(undefined)
  })

  it('retries elsewhere after a failure, penalises the failed one, and avoids it next time', async () => {
    const s = scripted({
      broken: () => ({ ms: 5, result: new RunnerFailureError('boom') }),
      good: () => ({ ms: 20, result: ok() })
    }, { broken: { capacity: 100 }, good: { capacity: 1 } })
    const strategy = createAdaptiveStrategy()
    const d = createDispatcher({ candidates: s.candidates, strategy, send: s.send, logger: silentLogger(), metrics: null, now: s.now, random: () => 0.5 })
    const first = await d.dispatch(job, { signal, requestId: 'a' })
    expect(first.orchestrator).to.equal('good')
    expect(first.attempts.map(a => [a.peerId, a.outcome, a.errorCode])).to.deep.equal([
      ['broken', 'failure', 'JOB_ERROR_RUNNER_FAILURE'],
      ['good', 'success', undefined]
    ])
    expect(strategy.stats('broken', { pipeline: 'upscale', modelId: 'esrgan-slim' })?.consecutiveFailures).to.equal(1)
    // suspended: the next dispatch goes straight to `good`
    const second = await d.dispatch(job, { signal, requestId: 'b' })
    expect(second.attempts.map(a => a.peerId)).to.deep.equal(['good'])
  })

  it('tries another orchestrator only while the input can be sent again (a streamed body past its kept part cannot)', async () => {
    let replayable = true
    const s = scripted({
      broken: () => { replayable = false; return { ms: 5, result: new RunnerFailureError('died mid-upload') } },
      good: () => ({ ms: 20, result: ok() })
    }, { broken: { capacity: 100 }, good: { capacity: 1 } })
    const d = createDispatcher({ candidates: s.candidates, strategy: createAdaptiveStrategy(), send: s.send, logger: silentLogger(), metrics: null, now: s.now, random: () => 0.5 })
    const err = await d.dispatch(job, { signal, requestId: 'a', replayable: () => replayable }).then(() => undefined, (e: unknown) => e)
    expect(err).to.be.instanceOf(NoOrchestratorError)
    expect((err as NoOrchestratorError).reason).to.equal('not_replayable')
    expect((err as NoOrchestratorError).attempts.map(a => [a.peerId, a.outcome])).to.deep.equal([['broken', 'failure']])
    // while it still can be, the retry goes ahead as always
    const again = scripted({
      broken: () => ({ ms: 5, result: new RunnerFailureError('refused before the upload') }),
      good: () => ({ ms: 20, result: ok() })
    }, { broken: { capacity: 100 }, good: { capacity: 1 } })
    const d2 = createDispatcher({ candidates: again.candidates, strategy: createAdaptiveStrategy(), send: again.send, logger: silentLogger(), metrics: null, now: again.now, random: () => 0.5 })
    expect((await d2.dispatch(job, { signal, requestId: 'b', replayable: () => true })).orchestrator).to.equal('good')
  })

  it('treats unreachable, deadline, unsupported and unknown errors as failures, and runner 5xx/401/403 too', async () => {
    const failures: Array<Error | RunnerResponse> = [
      new UnreachableError(), createJobError('JOB_ERROR_DEADLINE_EXCEEDED', 'late'), createJobError('JOB_ERROR_UNSUPPORTED', 'no'),
      new Error('weird'), ok('x', 500), ok('x', 401), ok('x', 403)
    ]
    const behaviours: Record<string, Behaviour> = {}
    failures.forEach((f, i) => { behaviours[`f${i}`] = () => ({ ms: 1, result: f }) })
    const s = scripted(behaviours)
    const d = createDispatcher({ candidates: s.candidates, strategy: createAdaptiveStrategy(), send: s.send, logger: silentLogger(), metrics: null, now: s.now })
    const err = await d.dispatch(job, { signal, requestId: 'x' }).catch(e => e)
    expect(err).to.be.instanceOf(NoOrchestratorError)
    expect(err).to.have.property('name', 'NoOrchestratorError')
    expect(err).to.have.property('code', 'DISPATCH_ERROR_NO_ORCHESTRATOR')
    expect(err.reason).to.equal('exhausted')
    expect(err.attempts).to.have.length(failures.length)
    expect(err.attempts.every((a: { outcome: string }) => a.outcome === 'failure')).to.equal(true)
    expect(new Set(err.attempts.map((a: { errorCode: string }) => a.errorCode))).to.deep.equal(new Set([
      'JOB_ERROR_UNREACHABLE', 'JOB_ERROR_DEADLINE_EXCEEDED', 'JOB_ERROR_UNSUPPORTED', 'UNKNOWN', 'RUNNER_HTTP_500', 'RUNNER_HTTP_401', 'RUNNER_HTTP_403'
    ]))
  })

  it('does not retry a bad request and reports it as JobRejectedError', async () => {
    const s = scripted({
      a: () => ({ ms: 3, result: new JobBadRequestError('prompt too long') }),
      b: () => ({ ms: 3, result: new JobBadRequestError('prompt too long') })
    })
    const strategy = createAdaptiveStrategy()
    const d = createDispatcher({ candidates: s.candidates, strategy, send: s.send, logger: silentLogger(), metrics: null, now: s.now })
    const err = await d.dispatch(job, { signal, requestId: 'x' }).catch(e => e)
    expect(err).to.be.instanceOf(JobRejectedError)
    expect(err.message).to.equal('prompt too long')
    expect(err.attempts).to.have.length(1)
    expect(s.calls).to.have.length(1)
    expect(strategy.stats(err.orchestrator, { pipeline: 'upscale', modelId: 'esrgan-slim' })).to.equal(undefined)
  })

  it('relays a runner 4xx response as is, without retrying', async () => {
    const s = scripted({ a: () => ({ ms: 3, result: ok('bad', 422) }), b: () => ({ ms: 3, result: ok('bad', 422) }) })
    const d = createDispatcher({ candidates: s.candidates, strategy: createAdaptiveStrategy(), send: s.send, logger: silentLogger(), metrics: null, now: s.now })
    const r = await d.dispatch(job, { signal, requestId: 'x' })
    expect(r.response.status).to.equal(422)
    expect(r.attempts).to.have.length(1)
    expect(r.attempts[0]?.outcome).to.equal('rejected')
  })

  it('answers NoOrchestratorError(none) when nobody serves the model, and (price) when all are too dear', async () => {
    const d0 = createDispatcher({ candidates: () => [], strategy: createAdaptiveStrategy(), send: async () => ok(), logger: silentLogger(), metrics: null })
    const none = await d0.dispatch(job, { signal, requestId: 'x' }).catch(e => e)
    expect(none).to.be.instanceOf(NoOrchestratorError)
    expect(none.reason).to.equal('none')
    expect(none.message).to.equal('no orchestrators available')

    const s = scripted({ dear: () => ({ ms: 1, result: ok() }) }, { dear: { pricePerUnit: 100n, pixelsPerUnit: 1n } })
    const d1 = createDispatcher({
      candidates: s.candidates, strategy: createAdaptiveStrategy(), send: s.send, logger: silentLogger(), metrics: null,
      options: { maxPrice: { global: { pricePerUnit: 10n, pixelsPerUnit: 1n } } }
    })
    const price = await d1.dispatch(job, { signal, requestId: 'x' }).catch(e => e)
    expect(price.reason).to.equal('price')
    expect(s.calls).to.have.length(0)
  })

  it('sends to the cheap orchestrator only, when others are above the max price', async () => {
    const s = scripted({ dear: () => ({ ms: 1, result: ok() }), cheap: () => ({ ms: 1, result: ok() }) }, { dear: { pricePerUnit: 100n }, cheap: { pricePerUnit: 5n } })
    const d = createDispatcher({
      candidates: s.candidates, strategy: createAdaptiveStrategy(), send: s.send, logger: silentLogger(), metrics: null,
      options: { maxPrice: { byPipeline: { upscale: { pricePerUnit: 10n, pixelsPerUnit: 1n } } } }
    })
    for (let i = 0; i < 10; i++) expect((await d.dispatch(job, { signal, requestId: 'x' })).orchestrator).to.equal('cheap')
  })

  it('retries a busy orchestrator after a wait; busy answers use no try, and when the budget ends it says when to come back', async () => {
    const s = scripted({ single: (n) => ({ ms: 1, result: n < 5 ? new InsufficientCapacityError() : ok() }) })
    const d = createDispatcher({
      candidates: s.candidates, strategy: createAdaptiveStrategy(), send: s.send, logger: silentLogger(), metrics: null,
      options: { busyRetryDelayMs: 1, maxTriesPerOrchestrator: 3 }
    })
    const r = await d.dispatch(job, { signal, requestId: 'x' })
    // four busy answers: more than maxTriesPerOrchestrator, which busy answers no longer use up
    expect(r.attempts.map(a => a.outcome)).to.deep.equal(['busy', 'busy', 'busy', 'busy', 'success'])

    const s2 = scripted({ single: () => ({ ms: 1, result: new InsufficientCapacityError() }) })
    const d2 = createDispatcher({
      candidates: s2.candidates, strategy: createAdaptiveStrategy(), send: s2.send, logger: silentLogger(), metrics: null,
      options: { busyRetryDelayMs: 1, busyRetryMaxDelayMs: 20, retryBudgetMs: 300 }
    })
    const t0 = Date.now()
    const err = await d2.dispatch(job, { signal, requestId: 'x' }).catch(e => e)
    expect(err).to.be.instanceOf(NoOrchestratorError)
    expect(err.reason).to.equal('busy')
    expect(err.retryAfterSeconds).to.be.at.least(1)
    expect(err.lastErrorCode).to.equal('JOB_ERROR_INSUFFICIENT_CAPACITY')
    // it waited for the budget rather than giving up after three busy answers
    expect(Date.now() - t0).to.be.at.least(290)
    expect(s2.calls.length).to.be.greaterThan(3)
  })

  it('stops at maxTries', async () => {
    const behaviours: Record<string, Behaviour> = {}
    for (let i = 0; i < 30; i++) behaviours[`p${i}`] = () => ({ ms: 1, result: new UnreachableError() })
    const s = scripted(behaviours)
    const d = createDispatcher({ candidates: s.candidates, strategy: createAdaptiveStrategy(), send: s.send, logger: silentLogger(), metrics: null, now: s.now, options: { maxTries: 7 } })
    const err = await d.dispatch(job, { signal, requestId: 'x' }).catch(e => e)
    expect(err).to.be.instanceOf(NoOrchestratorError)
    expect(s.calls).to.have.length(7)
  })

  it('starts no new attempt after the retry budget, but never cuts a running one', async () => {
    const s = scripted({
      slowFail: () => ({ ms: 5000, result: new RunnerFailureError() }),
      other: () => ({ ms: 10, result: ok() })
    }, { slowFail: { capacity: 100 }, other: { capacity: 1 } })
    const d = createDispatcher({
      candidates: s.candidates, strategy: createAdaptiveStrategy(), send: s.send, logger: silentLogger(), metrics: null,
      now: s.now, random: () => 0.5, options: { retryBudgetMs: 1000 }
    })
    const err = await d.dispatch(job, { signal, requestId: 'x' }).catch(e => e)
    expect(err).to.be.instanceOf(NoOrchestratorError)
    expect(s.calls).to.deep.equal(['slowFail'])
  })

  it('aborts when the caller signal fires, passing the signal to send', async () => {
    const controller = new AbortController()
    let seen: AbortSignal | undefined
    const d = createDispatcher({
      candidates: () => [candidate('slow')],
      strategy: createAdaptiveStrategy(),
      send: async (_peer, _job, { signal: s }) => {
        seen = s
        return await new Promise((_resolve, reject) => {
          s.addEventListener('abort', () => { reject(new UnreachableError('stream reset')) }, { once: true })
        })
      },
      logger: silentLogger(),
      metrics: null
    })
    const pending = d.dispatch(job, { signal: controller.signal, requestId: 'x' })
    setTimeout(() => controller.abort(), 20)
    const err = await pending.catch(e => e)
    expect(err).to.be.instanceOf(DispatchAbortedError)
    expect(err.attempts.map((a: { outcome: string }) => a.outcome)).to.deep.equal(['aborted'])
    expect(seen?.aborted).to.equal(true)
  })

  it('spreads jobs over several orchestrators and learns to favour the fast one (scripted: slow, failing, busy, expensive)', async () => {
    let clock = 0
    const latency: Record<string, number> = { fast: 100, medium: 200, slow: 800 }
    const calls = new Map<string, number>()
    const send: SendJob = async (peerId) => {
      calls.set(peerId, (calls.get(peerId) ?? 0) + 1)
      if (peerId === 'failing') { clock += 5; throw new UnreachableError() }
      if (peerId === 'busy') { clock += 1; throw new InsufficientCapacityError() }
      clock += latency[peerId] ?? 1
      return ok()
    }
    const all = ['fast', 'medium', 'slow', 'failing', 'busy', 'expensive'].map(p => candidate(p, p === 'expensive' ? { pricePerUnit: 1000n } : {}))
    const d = createDispatcher({
      candidates: () => all, strategy: createAdaptiveStrategy(), send, logger: silentLogger(), metrics: null,
      now: () => clock, random: seededRandom(42), options: { maxPrice: { global: { pricePerUnit: 10n, pixelsPerUnit: 1n } }, busyRetryDelayMs: 0 }
    })
    const served = new Map<string, number>()
    for (let i = 0; i < 400; i++) {
      const r = await d.dispatch(job, { signal, requestId: `j${i}`, workUnits: 1000 })
      served.set(r.orchestrator, (served.get(r.orchestrator) ?? 0) + 1)
      clock += 50
    }
    expect(calls.get('expensive') ?? 0).to.equal(0)
    expect(served.get('failing') ?? 0).to.equal(0)
    expect(served.get('busy') ?? 0).to.equal(0)
    // suspended with growing backoff: a handful of tries, not one per job
    expect(calls.get('failing') ?? 0).to.be.within(1, 12)
    const fast = served.get('fast') ?? 0
    const medium = served.get('medium') ?? 0
    const slow = served.get('slow') ?? 0
    expect(fast).to.be.greaterThan(medium)
    expect(medium).to.be.greaterThan(slow)
    // not everything to one
    expect(medium).to.be.greaterThan(20)
    expect(slow).to.be.greaterThan(0)
  })

  it('counts attempts and results in bounded metrics', async () => {
    const registry = new Registry()
    const metrics = createGatewayMetrics(registry)
    const s = scripted({ a: () => ({ ms: 1, result: new InsufficientCapacityError() }), b: () => ({ ms: 1, result: ok() }) }, { a: { capacity: 100 }, b: { capacity: 1 } })
    const d = createDispatcher({ candidates: s.candidates, strategy: createAdaptiveStrategy(), send: s.send, logger: silentLogger(), metrics, now: s.now, random: () => 0.5 })
    await d.dispatch(job, { signal, requestId: 'x' })
    const text = await registry.metrics()
    expect(text).to.match(/shoal_gateway_dispatch_attempts_total\{pipeline="upscale",outcome="busy",error_code="JOB_ERROR_INSUFFICIENT_CAPACITY"\} 1/)
    expect(text).to.match(/shoal_gateway_dispatch_results_total\{pipeline="upscale",result="success"\} 1/)
    expect(text).to.not.include('"a"')
  })

  it('has a typed error class for every job error code', () => {
    for (const code of JOB_ERROR_CODES) {
      const err = createJobError(code, 'm')
      expect(err.code).to.equal(code)
      expect(err.name).to.match(/Error$/)
      expect(err.name).to.not.equal('JobError')
    }
  })
})
