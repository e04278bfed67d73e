import { expect } from 'chai'
import { silentLogger } from '../../../src/observability/logger.js'
import { createDispatcher, type SendJob } from '../../../src/gateway/dispatch/dispatcher.js'
import { DispatchAbortedError, GatewayLimitDispatchError, GatewayLimitError, InsufficientCapacityError, NoOrchestratorError } from '../../../src/gateway/dispatch/errors.js'
import { toApiError } from '../../../src/gateway/http/to-api-error.js'
import { createAdaptiveStrategy } from '../../../src/gateway/selection/strategy.js'
import { createLiveLoad } from '../../../src/gateway/selection/live-load.js'
import { candidate } from '../helpers.js'
import { fakeSend, ok, upscaleJob as job, waitFor } from './fakes.js'

const signal = new AbortController().signal

/** one orchestrator with one slot: busy while a job holds it (or while `full` is set from outside) */
function oneSlot () {
  let active = 0
  let full = false
  let release: () => void = () => {}
  const calls: string[] = []
  const send: SendJob = async (peerId) => {
    calls.push(peerId)
    await new Promise(resolve => setTimeout(resolve, 1))
    if (active > 0 || full) throw new InsufficientCapacityError()
    active++
    await new Promise<void>(resolve => { release = resolve })
    active--
    return ok()
  }
  return { send, calls, release: () => { release() }, setFull: (value: boolean) => { full = value }, active: () => active }
}

describe('gateway dispatch: busy is not failure', () => {
  it('waits in line when every orchestrator is busy and goes as soon as one of its own attempts frees the slot', async () => {
    const slot = oneSlot()
    // the fallback timer is far longer than the test allows: only the wake-up can serve B in time
    const d = createDispatcher({ candidates: () => [candidate('solo', { capacity: 1 })], strategy: createAdaptiveStrategy(), send: slot.send, logger: silentLogger(), metrics: null, options: { busyRetryDelayMs: 50_000 } })
    const a = d.dispatch(job, { signal, requestId: 'a' })
    await waitFor(() => slot.active() === 1)
    const t0 = Date.now()
    const b = d.dispatch(job, { signal, requestId: 'b' })
    await waitFor(() => slot.calls.length === 2)
    await new Promise(resolve => setTimeout(resolve, 30))
    slot.release()
    await a
    await waitFor(() => slot.active() === 1)
    slot.release()
    const rb = await b
    expect(rb.attempts.map(x => x.outcome)).to.deep.equal(['busy', 'success'])
    expect(Date.now() - t0).to.be.below(10_000)
  })

  it('serves waiting requests in the order they queued', async () => {
    const slot = oneSlot()
    const d = createDispatcher({ candidates: () => [candidate('solo', { capacity: 1 })], strategy: createAdaptiveStrategy(), send: slot.send, logger: silentLogger(), metrics: null, options: { busyRetryDelayMs: 50_000 } })
    const done: string[] = []
    const a = d.dispatch(job, { signal, requestId: 'a' }).then(() => done.push('a'))
    await waitFor(() => slot.active() === 1)
    const b = d.dispatch(job, { signal, requestId: 'b' }).then(() => done.push('b'))
    await waitFor(() => slot.calls.length === 2)
    await new Promise(resolve => setTimeout(resolve, 20))
    const c = d.dispatch(job, { signal, requestId: 'c' }).then(() => done.push('c'))
    await waitFor(() => slot.calls.length === 3)
    await new Promise(resolve => setTimeout(resolve, 20))
    for (let i = 0; i < 3; i++) {
      await waitFor(() => slot.active() === 1)
      slot.release()
      await waitFor(() => done.length === i + 1)
    }
    await Promise.all([a, b, c])
    expect(done).to.deep.equal(['a', 'b', 'c'])
  })

  it('is woken by a live-load report of a free slot', async () => {
    const slot = oneSlot()
    slot.setFull(true)
    const liveLoad = createLiveLoad()
    const d = createDispatcher({ candidates: () => [candidate('solo', { capacity: 1 })], strategy: createAdaptiveStrategy(), send: slot.send, logger: silentLogger(), metrics: null, liveLoad, options: { busyRetryDelayMs: 50_000 } })
    const pending = d.dispatch(job, { signal, requestId: 'b' })
    await waitFor(() => slot.calls.length === 1)
    await new Promise(resolve => setTimeout(resolve, 30))
    // busy marks the orchestrator full in the live load
    expect(liveLoad.apply(candidate('solo', { capacity: 1 }), Date.now())).to.include({ inUse: 1 })
    slot.setFull(false)
    liveLoad.observe('solo', 'upscale', 'esrgan-slim', { capacity: 1, inUse: 0 }, Date.now())
    await waitFor(() => slot.active() === 1)
    slot.release()
    expect((await pending).attempts.map(x => x.outcome)).to.deep.equal(['busy', 'success'])
  })

  it('answers at once with Retry-After when the queue is full, and after the budget when nobody frees a slot', async () => {
    const slot = oneSlot()
    slot.setFull(true)
    const d = createDispatcher({
      candidates: () => [candidate('solo', { capacity: 1 })], strategy: createAdaptiveStrategy(), send: slot.send, logger: silentLogger(), metrics: null,
      options: { busyQueueLength: 1, busyRetryDelayMs: 50_000, retryBudgetMs: 60_000 }
    })
    const controller = new AbortController()
    const waiting = d.dispatch(job, { signal: controller.signal, requestId: 'a' })
    await waitFor(() => slot.calls.length === 1)
    await new Promise(resolve => setTimeout(resolve, 30))
    const t0 = Date.now()
    const err = await d.dispatch(job, { signal, requestId: 'b' }).catch(e => e)
    expect(Date.now() - t0).to.be.below(5_000)
    expect(err).to.be.instanceOf(NoOrchestratorError)
    expect(err.reason).to.equal('queue_full')
    expect(err.retryAfterSeconds).to.be.at.least(1)
    const api = toApiError(err, 1024)
    expect(api.statusCode).to.equal(503)
    expect((api as { retryAfterS?: number }).retryAfterS).to.equal(err.retryAfterSeconds)
    controller.abort()
    expect(await waiting.catch(e => e)).to.be.instanceOf(DispatchAbortedError)

    const short = createDispatcher({
      candidates: () => [candidate('solo', { capacity: 1 })], strategy: createAdaptiveStrategy(), send: slot.send, logger: silentLogger(), metrics: null,
      options: { busyRetryDelayMs: 20, retryBudgetMs: 300 }
    })
    const late = await short.dispatch(job, { signal, requestId: 'c' }).catch(e => e)
    expect(late.reason).to.equal('busy')
    expect(late.retryAfterSeconds).to.be.at.least(1)
    expect(late.attempts.every((a: { outcome: string }) => a.outcome === 'busy')).to.equal(true)
  })
})

describe('gateway dispatch: gateway limits are not orchestrator failures', () => {
  it('stops at once on JOB_ERROR_GATEWAY_LIMIT, records nothing against the orchestrator, and maps to 402 naming the limit', async () => {
    const { send, calls } = fakeSend({
      a: () => ({ ms: 1, result: new GatewayLimitError('ticket value above the cap', { limit: 'max_ticket_value' }) }),
      b: () => ({ ms: 1, result: new GatewayLimitError('ticket value above the cap', { limit: 'max_ticket_value' }) })
    })
    const strategy = createAdaptiveStrategy()
    const heard: string[] = []
    const d = createDispatcher({
      candidates: () => [candidate('a'), candidate('b')], strategy, send, logger: silentLogger(), metrics: null,
      onAttempt: (peerId, modelId, outcome, errorCode) => heard.push(`${peerId}/${modelId}/${outcome}/${errorCode}`)
    })
    const err = await d.dispatch(job, { signal, requestId: 'r' }).catch(e => e)
    expect(err).to.be.instanceOf(GatewayLimitDispatchError)
    expect(err.code).to.equal('DISPATCH_ERROR_GATEWAY_LIMIT')
    expect(err.limit).to.equal('max_ticket_value')
    expect(calls).to.have.length(1)
    expect(err.attempts.map((a: { outcome: string }) => a.outcome)).to.deep.equal(['limit'])
    expect(strategy.stats(calls[0]?.peerId ?? '', { pipeline: 'upscale', modelId: 'esrgan-slim' })).to.equal(undefined)
    expect(heard).to.deep.equal([`${calls[0]?.peerId}/esrgan-slim/limit/JOB_ERROR_GATEWAY_LIMIT`])
    const api = toApiError(err, 1024)
    expect(api.statusCode).to.equal(402)
    expect(api.toBody()).to.deep.include({ error: { code: 'GATEWAY_ERROR_GATEWAY_LIMIT', message: 'ticket value above the cap', limit: 'max_ticket_value' } })
  })
})
