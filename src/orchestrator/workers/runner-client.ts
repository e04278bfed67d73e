/**
 * A `RunnerClient` for one runner of a remote worker: `run()` sends the job over
 * `/shoal/worker-job` and maps every failure to the errors an orchestrator already
 * handles (`RunnerClientError`, `InsufficientCapacityError`, `UnsupportedModelError`).
 * A worker that goes away before or during the body fails the job with
 * `RUNNER_ERROR_UNREACHABLE`, so the gateway fails it over to another orchestrator.
 */
import { JobError } from '../../kernel/job-outcome.js'
import type { InferenceJob } from '../../kernel/job.js'
import { InsufficientCapacityError, UnsupportedModelError } from '../../inference/managers/errors.js'
import type { PipelineName } from '../../kernel/pipelines.js'
import { RunnerClientError, type AbortOptions, type RunnerClient } from '../../inference/runner-client/index.js'
import type { AiClient } from '../../protocols/ai/index.js'
import { pipelineLabel } from '../../protocols/ai/metrics.js'
import type { WorkerJobOutcome, WorkerMetrics, WorkerSession } from '../../protocols/worker/index.js'
import { anySignal } from '../../signals/any-signal.js'

export interface WorkerRunnerClientInit {
  session: WorkerSession
  pipeline: PipelineName
  modelId: string
  /** what the worker reported as the runner's version */
  runnerVersion: () => string | null
  /** the slots it offers now (for error details) */
  capacity: () => number
  jobs: AiClient
  /** a job's budget on the worker when `run()` gets no signal */
  jobDeadlineMs: number
  metrics: WorkerMetrics | null
}

function outcomeOf (err: Error): WorkerJobOutcome {
  if (err instanceof InsufficientCapacityError || err instanceof UnsupportedModelError) return 'refused'
  const code = (err as { code?: string }).code
  if (code === 'RUNNER_ERROR_UNREACHABLE') return 'unreachable'
  if (code === 'RUNNER_ERROR_ABORTED') return 'aborted'
  return 'failed'
}

export function createWorkerRunnerClient (init: WorkerRunnerClientInit): RunnerClient {
  const { session, pipeline, modelId } = init
  const worker = session.peerId.toString()
  const url = `libp2p://${worker}/${pipeline}/${encodeURIComponent(modelId)}`
  const label = pipelineLabel(pipeline)

  /** Whatever ended a job, as the error the orchestrator's executor maps. */
  function mapError (err: unknown, caller: AbortSignal | undefined): Error {
    if (err instanceof RunnerClientError) return err
    const details = { url, worker }
    if (session.ended) {
      const reason = session.signal.reason as Error | undefined
      return new RunnerClientError('RUNNER_ERROR_UNREACHABLE', `worker ${worker} went away: ${reason?.message ?? 'session ended'}`, details, { cause: err })
    }
    if (caller?.aborted === true) {
      const reason = caller.reason as { name?: string } | undefined
      if (reason?.name === 'TimeoutError') return new RunnerClientError('RUNNER_ERROR_TIMEOUT', `worker ${worker}: timed out`, details, { cause: caller.reason })
      return new RunnerClientError('RUNNER_ERROR_ABORTED', `worker ${worker}: aborted`, details, { cause: caller.reason })
    }
    const message = `worker ${worker}: ${(err as Error)?.message ?? String(err)}`
    const outcome = err instanceof JobError ? err.outcome : undefined
    switch (outcome) {
      case 'INSUFFICIENT_CAPACITY': return new InsufficientCapacityError(pipeline, modelId, init.capacity())
      case 'UNSUPPORTED': return new UnsupportedModelError(pipeline, modelId)
      case 'DEADLINE_EXCEEDED': return new RunnerClientError('RUNNER_ERROR_TIMEOUT', message, details, { cause: err })
      case 'BAD_REQUEST': return new RunnerClientError('RUNNER_ERROR_INVALID_JOB', message, details, { cause: err })
      case 'RUNNER_FAILURE':
      case 'PAYMENT_REQUIRED':
      case 'INTERNAL':
        return new RunnerClientError('RUNNER_ERROR_BAD_RESPONSE', message, { ...details, outcome }, { cause: err })
      default: return new RunnerClientError('RUNNER_ERROR_UNREACHABLE', message, details, { cause: err })
    }
  }

  function count (outcome: WorkerJobOutcome): void {
    init.metrics?.jobs.inc({ pipeline: label, outcome })
  }

  async function * mappedBody (body: AsyncIterable<Uint8Array>, caller: AbortSignal | undefined): AsyncGenerator<Uint8Array> {
    let counted = false
    try {
      yield * body
      counted = true
      count('ok')
    } catch (err) {
      const mapped = mapError(err, caller)
      counted = true
      count(outcomeOf(mapped))
      throw mapped
    } finally {
      // the consumer stopped reading early (the gateway went away, a deadline)
      if (!counted) count('aborted')
    }
  }

  const notRelayed = (what: string): RunnerClientError =>
    new RunnerClientError('RUNNER_ERROR_BAD_RESPONSE', `${what} of worker runners is not relayed by /shoal/worker/2.0.0`, { url, worker })

  return {
    url,
    health: async () => {
      if (session.ended || session.connection.status !== 'open') throw new RunnerClientError('RUNNER_ERROR_UNREACHABLE', `worker ${worker} is gone`, { url, worker })
      return { status: 'OK' }
    },
    version: async () => ({ pipeline, model_id: modelId, version: init.runnerVersion() ?? 'unknown' }),
    hardwareInfo: async () => { throw notRelayed('hardware info') },
    hardwareStats: async () => { throw notRelayed('hardware stats') },
    run: async (job: InferenceJob, options: AbortOptions = {}) => {
      const caller = options.signal
      // the job ends with the session: a worker that is gone fails it now, not at its deadline
      const signal = caller === undefined ? session.signal : anySignal([caller, session.signal])
      let res
      try {
        if (session.ended) throw new Error('session ended')
        res = await init.jobs.runJob(session.peerId, job, { signal, deadlineMs: init.jobDeadlineMs })
      } catch (err) {
        const mapped = mapError(err, caller)
        count(outcomeOf(mapped))
        throw mapped
      }
      res.final.catch(() => {})
      return { status: res.status, contentType: res.contentType, body: mappedBody(res.body, caller) }
    },
    close: () => {}
  }
}
