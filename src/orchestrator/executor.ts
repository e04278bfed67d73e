import type { InferenceJob } from '../kernel/job.js'
import { pipelineDefinition } from '../kernel/pipelines.js'
import { InsufficientCapacityError, RunnerStartError, RunnerUnavailableError, UnsupportedModelError, type RunnerLease, type RunnerManager } from '../inference/managers/index.js'
import { RunnerClientError } from '../inference/runner-client/index.js'
import type { Logger } from '../observability/logger.js'
import type { AiExecuteContext, AiExecutionResult, AiExecutor, AiJobAdmission } from '../protocols/ai/index.js'
import { OrchestratorJobError } from './errors.js'

/** Jobs still running after this long tell the gateway they have started. */
const PROGRESS_AFTER_MS = 100

export interface JobExecutorComponents {
  manager: RunnerManager
  logger: Logger
}

/** Maps a runner manager or runner client failure to the protocol's Final code. */
export function toJobError (err: unknown): OrchestratorJobError {
  if (err instanceof OrchestratorJobError) return err
  if (err instanceof InsufficientCapacityError) return new OrchestratorJobError('INSUFFICIENT_CAPACITY', err.message)
  if (err instanceof UnsupportedModelError) return new OrchestratorJobError('UNSUPPORTED', err.message)
  if (err instanceof RunnerUnavailableError || err instanceof RunnerStartError) return new OrchestratorJobError('RUNNER_FAILURE', err.message)
  if (err instanceof RunnerClientError) {
    return new OrchestratorJobError(err.code === 'RUNNER_ERROR_TIMEOUT' ? 'DEADLINE_EXCEEDED' : 'RUNNER_FAILURE', err.message)
  }
  return new OrchestratorJobError('INTERNAL', 'internal error', undefined, { cause: err })
}

/** Calls `done` (freeing the slot) when the body has been read to its end, failed, or was abandoned. */
async function * releasingBody (body: AsyncIterable<Uint8Array>, done: () => void): AsyncGenerator<Uint8Array> {
  try {
    yield * body
  } finally {
    done()
  }
}

/**
 * The orchestrator's job handling: accept only advertised (pipeline, model), reserve a
 * slot per model (refuse at once when full), forward to a runner, and free the slot when
 * the result has been sent. Runner HTTP statuses are relayed as they are (a runner 400
 * reaches the client as 400).
 */
export function createJobExecutor (components: JobExecutorComponents): AiExecutor {
  const { manager, logger } = components
  return {
    admit (header: AiJobAdmission) {
      const served = manager.capabilities().find(c => c.pipeline === header.pipeline && c.modelId === header.modelId)
      if (served === undefined) throw new OrchestratorJobError('UNSUPPORTED', `${header.pipeline} ${header.modelId} is not served here`)
      // a cold model may start on demand; a warm one that is full is refused before any input is uploaded
      if (served.warm && served.inUse >= served.capacity) throw new OrchestratorJobError('INSUFFICIENT_CAPACITY', `${header.pipeline} ${header.modelId}: all ${served.capacity} slots in use`)
    },
    async execute (job: InferenceJob, context: AiExecuteContext): Promise<AiExecutionResult> {
      // created when a line is logged, not for every job (a child logger serialises its bindings)
      let child: Logger | undefined
      const log = (): Logger => (child ??= logger.child({ job: context.requestId, peer: context.peerId.toString(), pipeline: job.pipeline, model: job.modelId }))
      const onCancel = (): void => { log().info({ reason: String(context.signal.reason) }, 'job cancelled: the gateway went away or the deadline passed; aborting the runner call') }
      context.signal.addEventListener('abort', onCancel, { once: true })
      // once the job is over, a later abort of its signal is no cancellation
      const finished = (): void => { context.signal.removeEventListener('abort', onCancel) }
      let lease: RunnerLease
      try {
        lease = await manager.acquire(job.pipeline, job.modelId, { signal: context.signal })
      } catch (err) {
        finished()
        const mapped = toJobError(err)
        log().info({ code: mapped.code, reason: mapped.message }, 'job refused')
        throw mapped
      }
      // a progress frame only for jobs that take a while: for small jobs it would be one more
      // write and wake-up on both sides of the stream for nothing
      const progress = setTimeout(() => { context.onProgress({ stage: 'running' }) }, PROGRESS_AFTER_MS)
      // compute time of custom capabilities: from the runner call to its answer's last byte
      const started = performance.now()
      let ended: number | undefined
      try {
        const response = await lease.client.run(job, { signal: context.signal })
        clearTimeout(progress)
        const body = releasingBody(response.body, () => { ended = performance.now(); finished(); lease.release() })
        if (pipelineDefinition(job.pipeline).measured !== true) return { ...response, body }
        return { ...response, body, complete: () => ({ units: Math.max(1, Math.ceil((ended ?? performance.now()) - started)) }) }
      } catch (err) {
        clearTimeout(progress)
        finished()
        lease.release()
        const mapped = toJobError(err)
        log().warn({ code: mapped.code, reason: mapped.message }, 'job failed')
        throw mapped
      }
    }
  }
}
