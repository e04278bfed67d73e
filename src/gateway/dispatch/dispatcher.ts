import type { Logger } from '../../observability/logger.js'
import type { InferenceJob, RunnerResponse } from '../../inference/job.js'
import type { PipelineName } from '../../inference/pipelines.js'
import type { Candidate, SelectionStrategy } from '../selection/candidate.js'
import { filterByMaxPrice } from '../selection/price.js'
import type { GatewayMetrics } from '../metrics.js'
import {
  DispatchAbortedError, JobError, JobRejectedError, NoOrchestratorError,
  type Attempt, type AttemptOutcome
} from './errors.js'
import { defaultDispatcherOptions, type DispatcherOptions } from './options.js'

export interface SendOptions {
  signal: AbortSignal
  requestId: string
  /** the attempt's total budget in ms; a missed one cancels the job on the orchestrator */
  deadlineMs?: number
  /** the result's first byte must arrive within this many ms, or the job is cancelled */
  firstByteDeadlineMs?: number
}

/** Sends a job to one orchestrator; rejects with a `JobError` subclass (see errors.ts). */
export type SendJob = (peerId: string, job: InferenceJob, options: SendOptions) => Promise<RunnerResponse>

export interface DispatchOptions {
  /** aborts the dispatch and the attempt in flight (client gone, server stopping) */
  signal: AbortSignal
  requestId: string
  /** the job's work for the latency score (`estimateWorkUnits`); 1 when absent */
  workUnits?: number
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
   * the client's fault (to relay as is; 401/403 and 429 count as failure and busy). Rejects with `NoOrchestratorError`,
   * `JobRejectedError` or `DispatchAbortedError`, each carrying the attempts.
   */
  dispatch: (job: InferenceJob, options: DispatchOptions) => Promise<DispatchResult>
}

export interface DispatcherInit {
  /** every orchestrator the directory knows for the (pipeline, model), any price */
  candidates: (pipeline: PipelineName, modelId: string) => Candidate[]
  strategy: SelectionStrategy
  send: SendJob
  options?: Partial<DispatcherOptions>
  logger: Logger
  metrics: GatewayMetrics | null
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

async function discardBody (response: RunnerResponse): Promise<void> {
  try {
    const iterator = response.body[Symbol.asyncIterator]()
    await iterator.return?.()
  } catch {
    // nothing to do: the body is being thrown away
  }
}

function sleep (ms: number, signal: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    if (signal.aborted) { resolve(); return }
    const timer = setTimeout(done, ms)
    function done (): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}

/**
 * The retrying dispatcher. Each round re-reads the candidates, filters them by max
 * price, lets the strategy order them (it drops suspended ones), and tries them in
 * order, skipping orchestrators that failed in this dispatch or used up
 * `maxTriesPerOrchestrator`. Busy (insufficient capacity, runner 429) moves on without
 * penalty; when a round ends with only busy ones left it waits `busyRetryDelayMs`
 * (doubling) and goes round again. Failures are recorded (the strategy suspends) and
 * the next candidate is tried. A bad request stops at once. No new attempt starts
 * after `retryBudgetMs` or `maxTries`.
 */
export function createDispatcher (init: DispatcherInit): Dispatcher {
  const options: DispatcherOptions = { ...defaultDispatcherOptions, ...init.options }
  const { strategy, send, logger, metrics } = init
  const now = init.now ?? Date.now
  const random = init.random ?? Math.random
  /** attempts in flight from this gateway, per orchestrator and model: fresher than announcements */
  const inflight = new Map<string, number>()
  const inflightKey = (peerId: string, modelId: string): string => `${peerId}\u0000${modelId}`

  return {
    async dispatch (job: InferenceJob, dispatchOptions: DispatchOptions): Promise<DispatchResult> {
      const { signal, requestId } = dispatchOptions
      const workUnits = dispatchOptions.workUnits !== undefined && dispatchOptions.workUnits > 0 ? dispatchOptions.workUnits : 1
      const pipeline = job.pipeline
      // the job's fields go on each line rather than into a child logger: a child costs
      // its serialised bindings on every job, and most jobs log nothing
      const bindings = { requestId, pipeline, modelId: job.modelId }
      const started = now()
      const attempts: Attempt[] = []
      const triesPerPeer = new Map<string, number>()
      const failed = new Set<string>()
      let lastErrorCode: string | undefined
      let sawCandidates = false
      let sawAffordable = false
      let delay = options.busyRetryDelayMs

      const finish = (result: string): void => {
        metrics?.dispatchResults.inc({ pipeline, result })
        metrics?.dispatchDuration.observe({ pipeline, result }, (now() - started) / 1000)
        metrics?.dispatchTries.observe({ pipeline }, attempts.length)
      }
      const abort = (cause?: unknown): never => {
        finish('aborted')
        throw new DispatchAbortedError(attempts, { cause })
      }
      const outOfBudget = (): boolean =>
        attempts.length >= options.maxTries || now() - started > options.retryBudgetMs

      while (true) {
        if (signal.aborted) abort(signal.reason)
        const all = init.candidates(pipeline, job.modelId)
        if (all.length > 0) sawCandidates = true
        const affordable = filterByMaxPrice(all, options.maxPrice)
        if (affordable.length > 0) sawAffordable = true
        const ordered = strategy.order(affordable.map(c => {
          const mine = inflight.get(inflightKey(c.peerId, c.modelId)) ?? 0
          return mine > c.inUse ? { ...c, inUse: mine } : c
        }), { pipeline, modelId: job.modelId, now: now(), random })
        metrics?.selectionCandidates.observe({ pipeline }, ordered.length)
        if (all.length > affordable.length) metrics?.selectionExcluded.inc({ pipeline, reason: 'price' }, all.length - affordable.length)
        if (affordable.length > ordered.length) metrics?.selectionExcluded.inc({ pipeline, reason: 'suspended' }, affordable.length - ordered.length)

        const eligible = ordered.filter(c => !failed.has(c.peerId) && (triesPerPeer.get(c.peerId) ?? 0) < options.maxTriesPerOrchestrator)
        if (eligible.length === 0) break

        let busyLeft = false
        for (const candidate of eligible) {
          if (signal.aborted) abort(signal.reason)
          if (outOfBudget()) break
          const { peerId } = candidate
          triesPerPeer.set(peerId, (triesPerPeer.get(peerId) ?? 0) + 1)
          const key = inflightKey(peerId, candidate.modelId)
          inflight.set(key, (inflight.get(key) ?? 0) + 1)
          const t0 = now()
          let response: RunnerResponse | undefined
          let error: unknown
          try {
            response = await send(peerId, job, { signal, requestId })
          } catch (err) {
            error = err
          } finally {
            const left = (inflight.get(key) ?? 1) - 1
            if (left <= 0) inflight.delete(key)
            else inflight.set(key, left)
          }
          const ms = now() - t0

          let outcome: AttemptOutcome
          let errorCode: string | undefined
          if (response !== undefined) {
            outcome = classifyRunnerStatus(response.status)
            if (outcome !== 'success') errorCode = `RUNNER_HTTP_${response.status}`
            if (outcome === 'busy' || outcome === 'failure') await discardBody(response)
          } else if (signal.aborted) {
            outcome = 'aborted'
          } else if (error instanceof JobError) {
            errorCode = error.code
            outcome = error.code === 'JOB_ERROR_INSUFFICIENT_CAPACITY'
              ? 'busy'
              : error.code === 'JOB_ERROR_BAD_REQUEST' ? 'rejected' : 'failure'
          } else {
            errorCode = 'UNKNOWN'
            outcome = 'failure'
          }

          const attempt: Attempt = { peerId, outcome, ms, ...(errorCode !== undefined ? { errorCode } : {}) }
          attempts.push(attempt)
          metrics?.attempts.inc({ pipeline, outcome, error_code: errorCode ?? 'none' })
          logger.debug({ ...bindings, peerId, outcome, ms, errorCode, err: error }, 'dispatch attempt')

          switch (outcome) {
            case 'aborted':
              return abort(error)
            case 'success':
              strategy.record(peerId, candidate.modelId, { kind: 'success', seconds: ms / 1000, units: workUnits }, now())
              finish('success')
              return { response: response as RunnerResponse, orchestrator: peerId, attempts }
            case 'rejected': {
              // the client's fault, not the orchestrator's: nothing recorded, no retry
              finish('rejected')
              if (response !== undefined) return { response, orchestrator: peerId, attempts }
              const message = error instanceof Error ? error.message : 'bad request'
              throw new JobRejectedError(message, attempts, peerId, { cause: error })
            }
            case 'busy':
              strategy.record(peerId, candidate.modelId, { kind: 'busy' }, now())
              lastErrorCode = errorCode
              if ((triesPerPeer.get(peerId) ?? 0) < options.maxTriesPerOrchestrator) busyLeft = true
              break
            case 'failure':
              strategy.record(peerId, candidate.modelId, { kind: 'failure' }, now())
              lastErrorCode = errorCode
              failed.add(peerId)
              logger.info({ ...bindings, peerId, errorCode, ms, reason: error instanceof Error ? error.message : undefined }, 'orchestrator failed the job; trying another')
              break
          }
        }

        if (outOfBudget()) break
        // only failures: go round again at once (new candidates may have appeared;
        // with none, the next round finds nobody eligible and gives up)
        if (!busyLeft) continue
        const remaining = options.retryBudgetMs - (now() - started)
        await sleep(Math.max(0, Math.min(delay, remaining)), signal)
        delay = Math.min(delay * 2, options.busyRetryMaxDelayMs)
      }

      finish('no_orchestrator')
      const reason = !sawCandidates ? 'none' : !sawAffordable ? 'price' : 'exhausted'
      throw new NoOrchestratorError(reason, attempts, lastErrorCode)
    }
  }
}
