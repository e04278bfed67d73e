import { ShoalError } from '../../kernel/errors.js'

/**
 * The job error model lives in the kernel (src/kernel/job-outcome.ts), below the
 * protocols that carry it: re-exported here for the dispatcher's callers.
 */
export {
  JOB_ERROR_CODES, isJobErrorCode, JobError, createJobError, type JobErrorCode,
  InsufficientCapacityError, JobBadRequestError, RunnerFailureError, DeadlineExceededError, UnsupportedJobError,
  PaymentRequiredError, OrchestratorInternalError, UnreachableError, GatewayLimitError, GatewayFailureError
} from '../../kernel/job-outcome.js'

/**
 * How an attempt ended: `cancelled` is the slower of two hedged attempts, stopped when
 * the other answered (not held against it); `limit` is the gateway's own limit
 * (`JOB_ERROR_GATEWAY_LIMIT`) and `local` its own failure (`JOB_ERROR_GATEWAY_FAILURE`:
 * chain RPC, signer), neither held against the orchestrator.
 */
export type AttemptOutcome = 'success' | 'busy' | 'failure' | 'rejected' | 'aborted' | 'cancelled' | 'limit' | 'local'

/** One try of a job on one orchestrator, reported to the client in headers. */
export interface Attempt {
  peerId: string
  outcome: AttemptOutcome
  /** milliseconds from sending to the answer (or the error) */
  ms: number
  /** the `JobErrorCode`, `RUNNER_STATUS_<nnn>` for a runner 5xx/401/403/429 answer, or `UNKNOWN` */
  errorCode?: string
}

export type DispatchErrorCode = 'DISPATCH_ERROR_NO_ORCHESTRATOR' | 'DISPATCH_ERROR_BAD_REQUEST' | 'DISPATCH_ERROR_ABORTED' | 'DISPATCH_ERROR_GATEWAY_LIMIT' | 'DISPATCH_ERROR_GATEWAY_FAILURE'

/** Base of what `dispatch` rejects with: it carries every attempt made. */
export class DispatchError extends ShoalError<DispatchErrorCode> {
  static override readonly name: string = 'DispatchError'
  readonly attempts: Attempt[]
  /** the orchestrator that answered last, when one did */
  readonly orchestrator?: string

  constructor (code: DispatchErrorCode, message: string, attempts: Attempt[], orchestrator?: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(code, message, details, options)
    this.attempts = attempts
    if (orchestrator !== undefined) this.orchestrator = orchestrator
  }
}

/**
 * Why no orchestrator served the job: none known, all above the max price (absolute
 * or the ceiling relative to the mesh), all tries spent, every one busy until the
 * budget ran out, the queue of requests waiting for a slot full, or the attempt that
 * failed had already taken an input that cannot be sent again (a streamed body).
 */
export type NoOrchestratorReason = 'none' | 'price' | 'exhausted' | 'busy' | 'queue_full' | 'not_replayable'

/** No orchestrator could serve the job within the budget (HTTP 503, with `Retry-After` when busy). */
export class NoOrchestratorError extends DispatchError {
  static override readonly name = 'NoOrchestratorError'
  readonly reason: NoOrchestratorReason
  /** the code of the last failed attempt, if any */
  readonly lastErrorCode?: string
  /** when every orchestrator was busy: how long the client should wait before trying again */
  readonly retryAfterSeconds?: number

  constructor (reason: NoOrchestratorReason, attempts: Attempt[], lastErrorCode?: string, retryAfterSeconds?: number) {
    super('DISPATCH_ERROR_NO_ORCHESTRATOR', 'no orchestrators available', attempts, undefined, {
      reason,
      ...(lastErrorCode !== undefined ? { lastErrorCode } : {}),
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {})
    })
    this.reason = reason
    if (lastErrorCode !== undefined) this.lastErrorCode = lastErrorCode
    if (retryAfterSeconds !== undefined) this.retryAfterSeconds = retryAfterSeconds
  }
}

/**
 * The gateway's own limit stopped the job (`JOB_ERROR_GATEWAY_LIMIT`): not the
 * orchestrator's fault and not worth trying elsewhere. `limit` names it (HTTP 402).
 */
export class GatewayLimitDispatchError extends DispatchError {
  static override readonly name = 'GatewayLimitDispatchError'
  readonly limit: string

  constructor (message: string, limit: string, attempts: Attempt[], orchestrator: string, options?: { cause?: unknown }) {
    super('DISPATCH_ERROR_GATEWAY_LIMIT', message, attempts, orchestrator, { limit }, options)
    this.limit = limit
  }
}

/**
 * The gateway's own dependency failed (`JOB_ERROR_GATEWAY_FAILURE`: its chain RPC, its
 * signer): no orchestrator is at fault and none would do better (HTTP 503).
 */
export class GatewayFailureDispatchError extends DispatchError {
  static override readonly name = 'GatewayFailureDispatchError'
  constructor (message: string, attempts: Attempt[], orchestrator: string, options?: { cause?: unknown }) {
    super('DISPATCH_ERROR_GATEWAY_FAILURE', message, attempts, orchestrator, undefined, options)
  }
}

/** The runner refused the job as invalid (`JOB_ERROR_BAD_REQUEST`): not retried, HTTP 400. */
export class JobRejectedError extends DispatchError {
  static override readonly name = 'JobRejectedError'
  constructor (message: string, attempts: Attempt[], orchestrator: string, options?: { cause?: unknown }) {
    super('DISPATCH_ERROR_BAD_REQUEST', message, attempts, orchestrator, undefined, options)
  }
}

/** The caller's signal aborted (client gone, server stopping). */
export class DispatchAbortedError extends DispatchError {
  static override readonly name = 'DispatchAbortedError'
  constructor (attempts: Attempt[], options?: { cause?: unknown }) {
    super('DISPATCH_ERROR_ABORTED', 'dispatch aborted', attempts, undefined, undefined, options)
  }
}
