import type { Attempt } from '../dispatch/errors.js'
import type { GatewayMetrics } from '../metrics.js'

/** The answer an asynchronous job ended with: the runner's, or the gateway's error. */
export interface AsyncJobOutcome {
  status: number
  contentType: string
  body: Uint8Array
  orchestrator?: string
  attempts: Attempt[]
}

export interface AsyncJob {
  requestId: string
  pipeline: string
  createdAt: number
  state: 'processing' | 'complete'
  /** aborts the dispatch (server stopping) */
  controller: AbortController
  completedAt?: number
  outcome?: AsyncJobOutcome
}

export interface AsyncJobStoreOptions {
  /** how long a finished job's result is kept */
  ttlMs: number
  /** jobs held at once, processing and complete */
  maxJobs: number
}

export interface AsyncJobStore {
  /** registers a new job; undefined when the store is full of jobs still processing */
  create: (requestId: string, pipeline: string) => AsyncJob | undefined
  complete: (requestId: string, outcome: AsyncJobOutcome) => void
  /** the job, or undefined when unknown or expired */
  get: (requestId: string) => AsyncJob | undefined
  /** drops expired results; also runs on a timer */
  sweep: () => void
  size: () => number
  /** aborts every job still processing and stops the timer */
  close: () => void
}

/**
 * In-memory store of `Prefer: respond-async` jobs. Results are kept `ttlMs` after they
 * complete; when full, the oldest completed results are dropped first, and a new job is
 * refused only when every held job is still processing.
 */
export function createAsyncJobStore (options: AsyncJobStoreOptions, metrics: GatewayMetrics | null, now: () => number = Date.now): AsyncJobStore {
  const jobs = new Map<string, AsyncJob>()
  let processing = 0

  const report = (): void => {
    metrics?.asyncJobs.set({ state: 'processing' }, processing)
    metrics?.asyncJobs.set({ state: 'complete' }, jobs.size - processing)
  }

  function sweep (): void {
    const limit = now() - options.ttlMs
    for (const [id, job] of jobs) {
      if (job.state === 'complete' && (job.completedAt ?? 0) <= limit) jobs.delete(id)
    }
    report()
  }

  const timer = setInterval(sweep, Math.max(1_000, Math.min(options.ttlMs, 60_000)))
  timer.unref()

  return {
    create (requestId: string, pipeline: string): AsyncJob | undefined {
      if (jobs.size >= options.maxJobs) {
        sweep()
        // drop the oldest completed results to make room
        for (const [id, job] of jobs) {
          if (jobs.size < options.maxJobs) break
          if (job.state === 'complete') jobs.delete(id)
        }
        if (jobs.size >= options.maxJobs) return undefined
      }
      const job: AsyncJob = { requestId, pipeline, createdAt: now(), state: 'processing', controller: new AbortController() }
      jobs.set(requestId, job)
      processing++
      report()
      return job
    },
    complete (requestId: string, outcome: AsyncJobOutcome): void {
      const job = jobs.get(requestId)
      if (job === undefined || job.state === 'complete') return
      job.state = 'complete'
      job.completedAt = now()
      job.outcome = outcome
      processing--
      report()
    },
    get (requestId: string): AsyncJob | undefined {
      const job = jobs.get(requestId)
      if (job === undefined) return undefined
      if (job.state === 'complete' && (job.completedAt ?? 0) <= now() - options.ttlMs) {
        jobs.delete(requestId)
        report()
        return undefined
      }
      return job
    },
    sweep,
    size: () => jobs.size,
    close (): void {
      clearInterval(timer)
      for (const job of jobs.values()) {
        if (job.state === 'processing') job.controller.abort(new Error('gateway stopping'))
      }
    }
  }
}
