import { modelKey, peerModelKey, type ModelKey, type PeerModelKey } from '../../kernel/model-key.js'
import type { Logger } from '../../observability/logger.js'
import type { InferenceJob, RunnerResponse } from '../../kernel/job.js'
import type { PipelineName } from '../../kernel/pipelines.js'
import { p95SecondsPerUnit, type Candidate, type SelectionStrategy } from '../selection/candidate.js'
import type { LiveLoad } from '../selection/live-load.js'
import { filterByMaxPrice, filterByPriceCeiling } from '../selection/price.js'
import type { GatewayMetrics } from '../metrics.js'
import { blameOf } from '../../kernel/job-outcome.js'
import {
  DeadlineExceededError, DispatchAbortedError, GatewayFailureDispatchError, GatewayLimitDispatchError, JobError, JobRejectedError, NoOrchestratorError, UnreachableError,
  type Attempt, type AttemptOutcome, type NoOrchestratorReason
} from './errors.js'
import { defaultDispatcherOptions, type DispatcherOptions } from './options.js'

export interface SendOptions {
  /** this attempt's own signal: aborted when the request is, when the first-byte deadline passes, or when a hedged twin won */
  signal: AbortSignal
  requestId: string
  /** the job must end within this many ms of being sent (the orchestrator cancels it after) */
  deadlineMs?: number
  /** the answer must start within this many ms; past it the client cancels the job and throws `DeadlineExceededError` */
  firstByteDeadlineMs?: number
}

/** Sends a job to one orchestrator; rejects with a `JobError` subclass (see errors.ts). */
export type SendJob = (peerId: string, job: InferenceJob, options: SendOptions) => Promise<RunnerResponse>

export interface DispatchOptions {
  /** aborts the dispatch and the attempts in flight (client gone, server stopping) */
  signal: AbortSignal
  requestId: string
  /** the job's work for the latency score and the deadlines (`estimateWorkUnits`); 1 when absent */
  workUnits?: number
  /** the job's own time limit (a custom capability request's timeout): each attempt's first-byte and total deadline, instead of measured ones */
  deadlineMs?: number
  /**
   * whether the job's input can be sent again (a streamed body past its kept part cannot):
   * once false, no attempt starts after one that ended, and the dispatch fails with
   * reason `not_replayable`. A job with it is never hedged. Undefined: always.
   */
  replayable?: () => boolean
}

export interface DispatchResult {
  response: RunnerResponse
  /** the peer id of the orchestrator whose answer this is */
  orchestrator: string
  attempts: Attempt[]
}

export interface Dispatcher {
  /**
   * Runs the job on the best orchestrator, moving on when one is busy or fails.
   * Resolves with the first runner answer that is not a failure: 2xx, or a 4xx that is
   * the client's fault (to relay as is; 401/403 and 429 count as failure and busy).
   * Rejects with `NoOrchestratorError`, `JobRejectedError`, `GatewayLimitDispatchError`
   * or `DispatchAbortedError`, each carrying the attempts.
   */
  dispatch: (job: InferenceJob, options: DispatchOptions) => Promise<DispatchResult>
  /**
   * The orchestrator cannot be reached (its pings go unanswered, its connection closed):
   * every attempt on it still waiting for its answer stops at once with
   * `JOB_ERROR_UNREACHABLE`, a failure of that orchestrator, and its dispatch moves on to
   * another within its budget. `reason` is for the logs. Returns the attempts stopped.
   */
  peerUnreachable: (peerId: string, reason: string) => number
}

/** Called after each attempt ends (cancelled hedges included). */
export type AttemptListener = (peerId: string, modelId: string, outcome: AttemptOutcome, errorCode?: string) => void

export interface DispatcherInit {
  /** every orchestrator the directory knows for the (pipeline, model), any price */
  candidates: (pipeline: PipelineName, modelId: string) => Candidate[]
  strategy: SelectionStrategy
  send: SendJob
  options?: Partial<DispatcherOptions>
  logger: Logger
  metrics: GatewayMetrics | null
  /** live slot counts from the orchestrators' connections, fresher than gossip; marked busy on busy answers */
  liveLoad?: LiveLoad
  /** told of every attempt's outcome (the directory marks orchestrators proven or unreachable) */
  onAttempt?: AttemptListener
  /**
   * called when an attempt starts, and what it returns when the attempt ends: the gateway
   * watches that orchestrator closely meanwhile (pings it more often), so that
   * `peerUnreachable` comes soon after it goes silent
   */
  watchPeer?: (peerId: string) => () => void
  /** injected for tests */
  now?: () => number
  random?: () => number
}

/** Runner statuses that mean "try elsewhere": busy (429) or the orchestrator's fault. */
function classifyRunnerStatus (status: number): AttemptOutcome {
  if (status === 429) return 'busy'
  if (status >= 500 || status === 401 || status === 403) return 'failure'
  if (status >= 400) return 'rejected'
  return 'success'
}

/** An attempt's outcome from who is to blame for its error (the one table, src/kernel/job-outcome.ts). */
function classifyJobError (error: JobError): AttemptOutcome {
  switch (blameOf(error.outcome)) {
    case 'busy': return 'busy'
    case 'client': return 'rejected'
    case 'gateway': return error.outcome === 'GATEWAY_LIMIT' ? 'limit' : 'local'
    default: return 'failure'
  }
}

async function discardBody (response: RunnerResponse): Promise<void> {
  try {
    const iterator = response.body[Symbol.asyncIterator]()
    await iterator.return?.()
  } catch {
    // nothing to do: the body is being thrown away
  }
}

function clamp (value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value))
}

/** One attempt in flight. */
interface Running {
  candidate: Candidate
  controller: AbortController
  t0: number
  /** the attempt's expected p95 time, when anything is measured */
  expectedMs: number | undefined
  /** set once the attempt is settled, timed out or cancelled: later answers are discarded */
  finished: boolean
  /** frees the in-flight count and the request listener; idempotent */
  release: () => void
  /** stops the attempt as its orchestrator's failure (it went unreachable): settles `done` with an UnreachableError */
  cut: (reason: string) => void
  done: Promise<Settled>
}

interface Settled {
  run: Running
  response?: RunnerResponse
  error?: unknown
  deadlineMissed?: boolean
  /** stopped by `peerUnreachable` */
  cut?: boolean
}

interface Waiter { wake: () => void }

type WaitResult = 'woken' | 'timeout' | 'aborted' | 'full'

/**
 * The retrying dispatcher.
 *
 * Candidates are re-read each round, filtered by the absolute max price and by the
 * price ceiling (a multiple of the median price of proven orchestrators), adjusted by
 * live load and this gateway's own attempts in flight, and ordered by the strategy.
 *
 * Every attempt runs on its own signal (a child of the request's) with a first-byte
 * deadline and a total deadline derived from the work units and the orchestrator's
 * measured p95 seconds per unit (else the median of the others, else the pipeline's
 * default), passed to `send` and enforced here for the first byte too. A missed
 * deadline is a failure. On hedged pipelines a second attempt starts on another
 * orchestrator once the first passes its expected p95; the first answer wins and the
 * other is cancelled (outcome `cancelled`, not held against it).
 *
 * Busy answers move on without penalty and count against no try limit; when every
 * candidate is busy the request waits in a bounded FIFO per (pipeline, model), woken
 * when one of this gateway's attempts on the model ends or live load reports a free
 * slot (or by a doubling timer), until `retryBudgetMs`; then, or at once when the
 * queue is full, `NoOrchestratorError` with `retryAfterSeconds`. Failures are
 * recorded (the strategy suspends) and never retried on the same orchestrator in the
 * dispatch. A bad request or a gateway limit stops at once. A client that gives up
 * after an attempt's expected time counts as that orchestrator's failure.
 */
export function createDispatcher (init: DispatcherInit): Dispatcher {
  const options: DispatcherOptions = {
    ...defaultDispatcherOptions,
    ...init.options,
    // a map given for some pipelines keeps the defaults of the others
    unmeasuredFirstByteMs: { ...defaultDispatcherOptions.unmeasuredFirstByteMs, ...init.options?.unmeasuredFirstByteMs }
  }
  const { strategy, send, logger, metrics, liveLoad, onAttempt, watchPeer } = init
  const now = init.now ?? Date.now
  const random = init.random ?? Math.random
  const hedgePipelines = new Set<PipelineName>(options.hedgePipelines)
  /** attempts in flight from this gateway, per orchestrator and model: fresher than announcements */
  const inflight = new Map<PeerModelKey, number>()
  /** requests waiting for a free slot, per (pipeline, model), oldest first */
  const queues = new Map<ModelKey, Waiter[]>()
  /** hedges allowed now: each hedgeable request adds maxHedgeShare, each hedge takes 1 */
  let hedgeTokens = 1
  const HEDGE_BURST = 10
  /** (orchestrator, model) pairs already logged as above the price ceiling */
  const ceilingLogged = new Set<string>()
  /** attempts waiting for an answer, all dispatches together, per orchestrator: what `peerUnreachable` stops */
  const waiting = new Map<string, Set<Running>>()

  function wakeOne (pipeline: PipelineName, modelId: string): void {
    const k = modelKey({ pipeline, modelId })
    const queue = queues.get(k)
    const waiter = queue?.shift()
    if (queue !== undefined && queue.length === 0) queues.delete(k)
    waiter?.wake()
  }
  liveLoad?.onSlotFree((_peerId, pipeline, modelId) => { wakeOne(pipeline, modelId) })

  function waitForSlot (pipeline: PipelineName, modelId: string, ms: number, signal: AbortSignal): Promise<WaitResult> {
    const k = modelKey({ pipeline, modelId })
    let queue = queues.get(k)
    if (queue === undefined) {
      queue = []
      queues.set(k, queue)
    }
    if (queue.length >= options.busyQueueLength) return Promise.resolve('full')
    const own = queue
    return new Promise(resolve => {
      const waiter: Waiter = { wake: () => { done('woken') } }
      const timer = setTimeout(() => { done('timeout') }, ms)
      const onAbort = (): void => { done('aborted') }
      function done (result: WaitResult): void {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        const i = own.indexOf(waiter)
        if (i >= 0) own.splice(i, 1)
        if (own.length === 0 && queues.get(k) === own) queues.delete(k)
        resolve(result)
      }
      if (signal.aborted) { done('aborted'); return }
      signal.addEventListener('abort', onAbort, { once: true })
      own.push(waiter)
    })
  }

  const isProven = (c: Candidate): boolean => (strategy.latency?.(c.peerId, c)?.successes ?? 0) > 0

  function ownP95 (c: Candidate): number | undefined {
    const stats = strategy.latency?.(c.peerId, c)
    return stats === undefined ? undefined : p95SecondsPerUnit(stats)
  }

  /** the median measured p95 seconds per unit among the candidates: the guess for an unmeasured one */
  function referenceP95 (candidates: Candidate[]): number | undefined {
    if (strategy.latency === undefined) return undefined
    const values: number[] = []
    for (const c of candidates) {
      const v = ownP95(c)
      if (v !== undefined && Number.isFinite(v)) values.push(v)
    }
    if (values.length === 0) return undefined
    values.sort((a, b) => a - b)
    return values[Math.floor((values.length - 1) / 2)]
  }

  function forget (run: Running): void {
    const { peerId } = run.candidate
    const set = waiting.get(peerId)
    if (set === undefined) return
    set.delete(run)
    if (set.size === 0) waiting.delete(peerId)
  }

  function safeWatch (peerId: string): () => void {
    if (watchPeer === undefined) return () => {}
    try {
      return watchPeer(peerId)
    } catch (err) {
      logger.warn({ err, peerId }, 'watchPeer listener threw')
      return () => {}
    }
  }

  function safeOnAttempt (peerId: string, modelId: string, outcome: AttemptOutcome, errorCode?: string): void {
    if (onAttempt === undefined) return
    try {
      onAttempt(peerId, modelId, outcome, errorCode)
    } catch (err) {
      logger.warn({ err, peerId, modelId }, 'onAttempt listener threw')
    }
  }

  return {
    peerUnreachable (peerId: string, reason: string): number {
      const set = waiting.get(peerId)
      if (set === undefined) return 0
      // cut() takes each out of the set: iterate a copy
      const runs = [...set]
      for (const run of runs) run.cut(reason)
      return runs.length
    },

    async dispatch (job: InferenceJob, dispatchOptions: DispatchOptions): Promise<DispatchResult> {
      const { signal, requestId } = dispatchOptions
      const workUnits = dispatchOptions.workUnits !== undefined && dispatchOptions.workUnits > 0 ? dispatchOptions.workUnits : 1
      const { pipeline, modelId } = job
      // the job's fields go on each line rather than into a child logger: a child costs
      // its serialised bindings on every job, and most jobs log nothing
      const bindings = { requestId, pipeline, modelId }
      const started = now()
      const attempts: Attempt[] = []
      const triesPerPeer = new Map<string, number>()
      const failed = new Set<string>()
      /** busy in this round: not asked again until the request has waited for a slot */
      const busyRound = new Set<string>()
      const running: Running[] = []
      let round: Candidate[] = []
      let roundFresh = false
      let reference: number | undefined
      let lastErrorCode: string | undefined
      let sawCandidates = false
      let sawAffordable = false
      let busyAttempts = 0
      let hedged = false
      let queueFull = false
      /** an attempt ended after the input could no longer be sent again */
      let spent = false
      /** the last attempt to end was a busy answer: giving up now means "come back later" */
      let lastBusy = false
      let delay = options.busyRetryDelayMs
      const hedging = hedgePipelines.has(pipeline)
      if (hedging) hedgeTokens = Math.min(HEDGE_BURST, hedgeTokens + options.maxHedgeShare)

      const finish = (result: string): void => {
        metrics?.dispatchResults.inc({ pipeline, result })
        metrics?.dispatchDuration.observe({ pipeline, result }, (now() - started) / 1000)
        metrics?.dispatchTries.observe({ pipeline }, attempts.length)
      }
      const tries = (): number => attempts.length - busyAttempts + running.length
      const overTime = (): boolean => now() - started > options.retryBudgetMs
      /**
       * a missed first-byte deadline, or an attempt stopped because its orchestrator went
       * silent, earns one more attempt even past the budget (once per request): a
       * deadline longer than the budget (nothing measured yet) must not turn one
       * orchestrator that never answers into a failed request
       */
      let deadlineGrace = false
      let deadlineGraceUsed = false
      const outOfBudget = (): boolean => tries() >= options.maxTries || (overTime() && !deadlineGrace)

      const expectedMs = (c: Candidate): number | undefined => {
        const p95 = ownP95(c) ?? reference
        return p95 === undefined ? undefined : p95 * workUnits * 1000
      }

      function deadlinesFor (c: Candidate, expected: number | undefined): { firstByteMs: number, totalMs: number } {
        const own = dispatchOptions.deadlineMs
        if (own !== undefined) return { firstByteMs: own, totalMs: own }
        const base = expected === undefined
          ? options.unmeasuredFirstByteMs[pipeline] ?? options.unmeasuredFirstByteDefaultMs
          : expected * options.deadlineMultiple
        const firstByteMs = Math.max(1, Math.round(clamp(base + (c.warm ? 0 : options.coldStartAllowanceMs), options.firstByteDeadlineFloorMs, options.firstByteDeadlineCapMs)))
        const totalMs = Math.round(Math.max(firstByteMs, clamp(firstByteMs * options.totalDeadlineMultiple, options.totalDeadlineFloorMs, options.totalDeadlineCapMs)))
        return { firstByteMs, totalMs }
      }

      function newRound (): void {
        const all = init.candidates(pipeline, modelId)
        if (all.length > 0) sawCandidates = true
        const affordable = filterByMaxPrice(all, options.maxPrice)
        const ceiling = filterByPriceCeiling(affordable, isProven, options.maxPriceMultiple)
        if (ceiling.kept.length > 0) sawAffordable = true
        if (ceiling.excluded.length > 0) {
          metrics?.selectionExcluded.inc({ pipeline, reason: 'price_ceiling' }, ceiling.excluded.length)
          for (const c of ceiling.excluded) {
            const k = peerModelKey(c.peerId, c)
            if (ceilingLogged.has(k)) continue
            if (ceilingLogged.size >= 10_000) ceilingLogged.clear()
            ceilingLogged.add(k)
            logger.warn({
              pipeline, modelId, peerId: c.peerId,
              price: `${c.pricePerUnit}/${c.pixelsPerUnit}`,
              median: ceiling.median === undefined ? undefined : `${ceiling.median.pricePerUnit}/${ceiling.median.pixelsPerUnit}`,
              maxPriceMultiple: options.maxPriceMultiple
            }, 'orchestrator priced above the ceiling (maxPriceMultiple x the median of proven orchestrators); not used')
          }
        }
        const t = now()
        const adjusted = ceiling.kept.map(c => {
          const live = liveLoad === undefined ? c : liveLoad.apply(c, t)
          const mine = inflight.get(peerModelKey(c.peerId, c)) ?? 0
          return mine > live.inUse ? { ...live, inUse: mine } : live
        })
        reference = referenceP95(adjusted)
        const ordered = strategy.order(adjusted, { pipeline, modelId, now: t, random, explorationShare: options.explorationShare })
        metrics?.selectionCandidates.observe({ pipeline }, ordered.length)
        if (all.length > affordable.length) metrics?.selectionExcluded.inc({ pipeline, reason: 'price' }, all.length - affordable.length)
        if (adjusted.length > ordered.length) metrics?.selectionExcluded.inc({ pipeline, reason: 'suspended' }, adjusted.length - ordered.length)
        round = ordered
        roundFresh = true
      }

      const eligible = (c: Candidate): boolean =>
        !failed.has(c.peerId) && !busyRound.has(c.peerId) && !running.some(r => r.candidate.peerId === c.peerId) &&
        (triesPerPeer.get(c.peerId) ?? 0) < options.maxTriesPerOrchestrator

      /** the next candidate of this round; a new round when it is used up (new candidates may have appeared) */
      function next (): Candidate | undefined {
        while (true) {
          const c = round.shift()
          if (c !== undefined) {
            if (eligible(c)) { roundFresh = false; return c }
            continue
          }
          if (roundFresh) return undefined
          newRound()
        }
      }

      function record (run: Running, outcome: AttemptOutcome, errorCode: string | undefined, error?: unknown): Attempt {
        const { peerId } = run.candidate
        const ms = now() - run.t0
        const attempt: Attempt = { peerId, outcome, ms, ...(errorCode !== undefined ? { errorCode } : {}) }
        attempts.push(attempt)
        metrics?.attempts.inc({ pipeline, outcome, error_code: errorCode ?? 'none' })
        logger.debug({ ...bindings, peerId, outcome, ms, errorCode, err: error }, 'dispatch attempt')
        safeOnAttempt(peerId, run.candidate.modelId, outcome, errorCode)
        // a slot this gateway held on the model is free again: the oldest waiter may go
        if (outcome !== 'busy') wakeOne(pipeline, modelId)
        return attempt
      }

      function start (c: Candidate): void {
        const { peerId } = c
        if (deadlineGrace && overTime()) {
          deadlineGrace = false
          deadlineGraceUsed = true
        }
        triesPerPeer.set(peerId, (triesPerPeer.get(peerId) ?? 0) + 1)
        const k = peerModelKey(peerId, c)
        inflight.set(k, (inflight.get(k) ?? 0) + 1)
        const controller = new AbortController()
        const onAbort = (): void => { controller.abort(signal.reason) }
        signal.addEventListener('abort', onAbort, { once: true })
        let released = false
        let timer: ReturnType<typeof setTimeout> | undefined
        let settle: (settled: Settled) => void = () => {}
        const expected = expectedMs(c)
        const { firstByteMs, totalMs } = deadlinesFor(c, expected)
        const unwatch = safeWatch(peerId)
        const run: Running = {
          candidate: c,
          controller,
          t0: now(),
          expectedMs: expected,
          finished: false,
          release () {
            if (released) return
            released = true
            clearTimeout(timer)
            signal.removeEventListener('abort', onAbort)
            const left = (inflight.get(k) ?? 1) - 1
            if (left <= 0) inflight.delete(k)
            else inflight.set(k, left)
            forget(run)
            unwatch()
          },
          cut (reason) {
            if (run.finished) return
            run.finished = true
            clearTimeout(timer)
            forget(run)
            const ms = now() - run.t0
            const error = new UnreachableError(`orchestrator unreachable while the job was in flight (${reason})`, { reason, ms })
            controller.abort(error)
            metrics?.attemptsCut.inc({ pipeline })
            logger.info({ ...bindings, peerId, ms, reason }, 'orchestrator unreachable with the job in flight: attempt stopped')
            settle({ run, error, cut: true })
          },
          done: undefined as unknown as Promise<Settled>
        }
        run.done = new Promise<Settled>(resolve => {
          settle = resolve
          // enforced here whatever `send` does with firstByteDeadlineMs
          timer = setTimeout(() => {
            if (run.finished) return
            run.finished = true
            controller.abort(new DeadlineExceededError(`no answer within the first-byte deadline of ${firstByteMs} ms`, { firstByteDeadlineMs: firstByteMs }))
            resolve({ run, deadlineMissed: true })
          }, firstByteMs)
          let sent: Promise<RunnerResponse>
          try {
            sent = send(peerId, job, { signal: controller.signal, requestId, deadlineMs: totalMs, firstByteDeadlineMs: firstByteMs })
          } catch (err) {
            sent = Promise.reject(err)
          }
          sent.then(response => {
            if (run.finished) { void discardBody(response); return }
            run.finished = true
            clearTimeout(timer)
            resolve({ run, response })
          }, (error: unknown) => {
            if (run.finished) return
            run.finished = true
            clearTimeout(timer)
            resolve({ run, error })
          })
        })
        running.push(run)
        let set = waiting.get(peerId)
        if (set === undefined) waiting.set(peerId, set = new Set())
        set.add(run)
      }

      function remove (run: Running): void {
        const i = running.indexOf(run)
        if (i >= 0) running.splice(i, 1)
        run.release()
      }

      /** stop the other attempts: a hedged twin answered first; nothing is held against them */
      function cancelOthers (): void {
        for (const run of running.splice(0)) {
          run.finished = true
          run.controller.abort(new Error('another attempt answered first'))
          run.release()
          record(run, 'cancelled', undefined)
        }
      }

      /** the client gave up: attempts past their expected time count as failures of their orchestrators */
      function abort (cause?: unknown): never {
        for (const run of running.splice(0)) {
          run.finished = true
          run.controller.abort(signal.reason)
          run.release()
          penaliseIfLate(run)
          record(run, 'aborted', undefined)
        }
        finish('aborted')
        throw new DispatchAbortedError(attempts, { cause })
      }

      function penaliseIfLate (run: Running): void {
        const elapsed = now() - run.t0
        if (run.expectedMs !== undefined && elapsed > Math.max(run.expectedMs, options.hedgeMinDelayMs)) {
          strategy.record(run.candidate.peerId, run.candidate, { kind: 'failure' }, now())
          logger.info({ ...bindings, peerId: run.candidate.peerId, ms: elapsed, expectedMs: Math.round(run.expectedMs) }, 'client gave up after the attempt ran past its expected time; counted as a failure')
        }
      }

      /** the first attempt to settle, 'hedge' when the hedge timer fires first, 'aborted' when the request is */
      async function race (hedgeInMs: number | undefined): Promise<Settled | 'hedge' | 'aborted'> {
        const cleanups: Array<() => void> = []
        const contenders: Array<Promise<Settled | 'hedge' | 'aborted'>> = running.map(r => r.done)
        if (hedgeInMs !== undefined) {
          contenders.push(new Promise(resolve => {
            const timer = setTimeout(() => { resolve('hedge') }, Math.max(0, hedgeInMs))
            cleanups.push(() => { clearTimeout(timer) })
          }))
        }
        contenders.push(new Promise(resolve => {
          if (signal.aborted) { resolve('aborted'); return }
          const onAbort = (): void => { resolve('aborted') }
          signal.addEventListener('abort', onAbort, { once: true })
          cleanups.push(() => { signal.removeEventListener('abort', onAbort) })
        }))
        try {
          return await Promise.race(contenders)
        } finally {
          for (const cleanup of cleanups) cleanup()
        }
      }

      const retryAfter = (): number => {
        const typical = reference === undefined ? undefined : reference * workUnits
        return Math.max(1, Math.min(60, Math.ceil(typical ?? 1)))
      }

      while (true) {
        if (signal.aborted) abort(signal.reason)
        if (running.length === 0) {
          if (attempts.length > 0 && dispatchOptions.replayable?.() === false) { spent = true; break }
          const c = outOfBudget() ? undefined : next()
          if (c === undefined) {
            if (busyRound.size === 0 || outOfBudget() || busyAttempts >= options.maxBusyAttempts) break
            // every candidate left is busy: wait in line for a slot, within the budget
            const remaining = options.retryBudgetMs - (now() - started)
            if (remaining <= 0) break
            const waited = await waitForSlot(pipeline, modelId, Math.min(delay, remaining), signal)
            if (waited === 'full') { queueFull = true; break }
            if (waited === 'aborted') abort(signal.reason)
            if (waited === 'timeout') delay = Math.min(delay * 2, options.busyRetryMaxDelayMs)
            busyRound.clear()
            round = []
            roundFresh = false
            continue
          }
          start(c)
        }

        let hedgeInMs: number | undefined
        const first = running[0]
        // a hedge reads the input a second time at once: not for an input that is streamed
        if (hedging && dispatchOptions.replayable === undefined && !hedged && hedgeTokens >= 1 && running.length === 1 && first !== undefined && first.expectedMs !== undefined) {
          hedgeInMs = Math.max(options.hedgeMinDelayMs, first.expectedMs) - (now() - first.t0)
        }
        const settled = await race(hedgeInMs)
        if (settled === 'aborted') abort(signal.reason)
        if (settled === 'hedge') {
          hedged = true
          const c = outOfBudget() || hedgeTokens < 1 ? undefined : next()
          if (c !== undefined) {
            hedgeTokens -= 1
            logger.debug({ ...bindings, peerId: c.peerId, first: first?.candidate.peerId }, 'first attempt past its expected p95; hedging')
            start(c)
          }
          continue
        }

        const { run, response, error, deadlineMissed, cut } = settled
        remove(run)
        const { peerId } = run.candidate
        let outcome: AttemptOutcome
        let errorCode: string | undefined
        if (deadlineMissed === true) {
          outcome = 'failure'
          errorCode = 'JOB_ERROR_DEADLINE_EXCEEDED'
          if (!deadlineGraceUsed) deadlineGrace = true
        } else if (response !== undefined) {
          outcome = classifyRunnerStatus(response.status)
          if (outcome !== 'success') errorCode = `RUNNER_HTTP_${response.status}`
          if (outcome === 'busy' || outcome === 'failure') await discardBody(response)
        } else if (signal.aborted) {
          penaliseIfLate(run)
          record(run, 'aborted', undefined, error)
          abort(error)
        } else if (error instanceof JobError) {
          errorCode = error.code
          outcome = classifyJobError(error)
          // like a missed deadline: an orchestrator that went silent earns one more attempt past the budget
          if (cut === true && !deadlineGraceUsed) deadlineGrace = true
        } else {
          errorCode = 'UNKNOWN'
          outcome = 'failure'
        }

        record(run, outcome, errorCode, error)
        lastBusy = outcome === 'busy'

        switch (outcome) {
          case 'success':
            strategy.record(peerId, run.candidate, { kind: 'success', seconds: (now() - run.t0) / 1000, units: workUnits }, now())
            cancelOthers()
            finish('success')
            return { response: response as RunnerResponse, orchestrator: peerId, attempts }
          case 'rejected': {
            // the client's fault, not the orchestrator's: nothing recorded, no retry
            cancelOthers()
            finish('rejected')
            if (response !== undefined) return { response, orchestrator: peerId, attempts }
            const message = error instanceof Error ? error.message : 'bad request'
            throw new JobRejectedError(message, attempts, peerId, { cause: error })
          }
          case 'limit': {
            // the gateway's own limit: not the orchestrator's fault, and no other would do better
            cancelOthers()
            finish('gateway_limit')
            const details = error instanceof JobError ? error.details : undefined
            const limit = typeof details?.limit === 'string' ? details.limit : 'unknown'
            throw new GatewayLimitDispatchError(error instanceof Error ? error.message : 'gateway limit reached', limit, attempts, peerId, { cause: error })
          }
          case 'local':
            // the gateway's own dependency failed (chain RPC, signer): every orchestrator
            // would meet the same, and none of them is to blame
            cancelOthers()
            finish('gateway_failure')
            throw new GatewayFailureDispatchError(error instanceof Error ? error.message : 'gateway failure', attempts, peerId, { cause: error })
          case 'busy':
            // not a failure and no try used: wait for a slot once every candidate is busy
            strategy.record(peerId, run.candidate, { kind: 'busy' }, now())
            liveLoad?.busy(peerId, run.candidate, now())
            triesPerPeer.set(peerId, (triesPerPeer.get(peerId) ?? 1) - 1)
            busyAttempts++
            busyRound.add(peerId)
            lastErrorCode = errorCode
            break
          default:
            strategy.record(peerId, run.candidate, { kind: 'failure' }, now())
            lastErrorCode = errorCode
            failed.add(peerId)
            logger.info({ ...bindings, peerId, errorCode, ms: now() - run.t0, reason: deadlineMissed === true ? 'first-byte deadline' : error instanceof Error ? error.message : undefined }, 'orchestrator failed the job; trying another')
            break
        }
      }

      finish('no_orchestrator')
      let reason: NoOrchestratorReason = !sawCandidates ? 'none' : !sawAffordable ? 'price' : 'exhausted'
      if (spent) reason = 'not_replayable'
      else if (queueFull) reason = 'queue_full'
      else if (reason === 'exhausted' && (lastBusy || busyRound.size > 0)) reason = 'busy'
      const busy = reason === 'busy' || reason === 'queue_full'
      throw new NoOrchestratorError(reason, attempts, lastErrorCode, busy ? retryAfter() : undefined)
    }
  }
}
