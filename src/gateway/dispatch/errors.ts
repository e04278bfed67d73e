import { ShoalError } from '../../observability/errors.js'

/**
 * Why an orchestrator did not run a job, as the `/shoal/ai` protocol client reports it.
 * The protocol client maps each wire status to one of these classes (`createJobError`),
 * and the dispatcher decides from the code alone whether to retry, where, and whether
 * to penalise the orchestrator.
 */
export const JOB_ERROR_CODES = [
  /** the orchestrator has no free slot for the model: move on, no penalty */
  'JOB_ERROR_INSUFFICIENT_CAPACITY',
  /** the runner refused the request as invalid: do not retry, answer the client 400 */
  'JOB_ERROR_BAD_REQUEST',
  /** the runner failed (crash, 5xx, out of memory): retry elsewhere, penalise */
  'JOB_ERROR_RUNNER_FAILURE',
  /** the job's deadline passed on the orchestrator: retry elsewhere, penalise */
  'JOB_ERROR_DEADLINE_EXCEEDED',
  /** the orchestrator does not serve this (pipeline, model) (stale directory): retry elsewhere, penalise */
  'JOB_ERROR_UNSUPPORTED',
  /** no connection, stream reset, malformed reply: retry elsewhere, penalise */
  'JOB_ERROR_UNREACHABLE',
  /**
   * the gateway itself refused to go on (its ticket cap, its max price, an image too
   * large to pay for; `details.limit` names the limit): stop at once, penalise nobody
   */
  'JOB_ERROR_GATEWAY_LIMIT'
] as const

export type JobErrorCode = typeof JOB_ERROR_CODES[number]

export function isJobErrorCode (value: unknown): value is JobErrorCode {
  return typeof value === 'string' && (JOB_ERROR_CODES as readonly string[]).includes(value)
}

/** Base of the errors `send` rejects with; match on `code` (or the subclass). */
export class JobError extends ShoalError<JobErrorCode> {
  static override readonly name: string = 'JobError'
}

export class InsufficientCapacityError extends JobError {
  static override readonly name = 'InsufficientCapacityError'
  constructor (message = 'insufficient capacity', details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super('JOB_ERROR_INSUFFICIENT_CAPACITY', message, details, options)
  }
}

export class JobBadRequestError extends JobError {
  static override readonly name = 'JobBadRequestError'
  constructor (message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super('JOB_ERROR_BAD_REQUEST', message, details, options)
  }
}

export class RunnerFailureError extends JobError {
  static override readonly name = 'RunnerFailureError'
  constructor (message = 'runner failure', details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super('JOB_ERROR_RUNNER_FAILURE', message, details, options)
  }
}

export class DeadlineExceededError extends JobError {
  static override readonly name = 'DeadlineExceededError'
  constructor (message = 'deadline exceeded', details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super('JOB_ERROR_DEADLINE_EXCEEDED', message, details, options)
  }
}

export class UnsupportedJobError extends JobError {
  static override readonly name = 'UnsupportedJobError'
  constructor (message = 'pipeline or model not served', details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super('JOB_ERROR_UNSUPPORTED', message, details, options)
  }
}

export class UnreachableError extends JobError {
  static override readonly name = 'UnreachableError'
  constructor (message = 'orchestrator unreachable', details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super('JOB_ERROR_UNREACHABLE', message, details, options)
  }
}

/** The gateway's own limit stopped the job; `details.limit` names it (e.g. `max_ticket_value`, `max_price`). */
export class GatewayLimitError extends JobError {
  static override readonly name = 'GatewayLimitError'
  constructor (message = 'gateway limit reached', details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super('JOB_ERROR_GATEWAY_LIMIT', message, details, options)
  }
}

const JOB_ERROR_CLASSES: Record<JobErrorCode, new (message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) => JobError> = {
  JOB_ERROR_INSUFFICIENT_CAPACITY: InsufficientCapacityError,
  JOB_ERROR_BAD_REQUEST: JobBadRequestError,
  JOB_ERROR_RUNNER_FAILURE: RunnerFailureError,
  JOB_ERROR_DEADLINE_EXCEEDED: DeadlineExceededError,
  JOB_ERROR_UNSUPPORTED: UnsupportedJobError,
  JOB_ERROR_UNREACHABLE: UnreachableError,
  JOB_ERROR_GATEWAY_LIMIT: GatewayLimitError
}

/** The typed error for a wire status code; what the protocol client throws. */
export function createJobError (code: JobErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }): JobError {
  return new JOB_ERROR_CLASSES[code](message, details, options)
}

/**
 * How an attempt ended: `cancelled` is the slower of two hedged attempts, stopped when
 * the other answered (not held against it); `limit` is the gateway's own limit
 * (`JOB_ERROR_GATEWAY_LIMIT`), not held against the orchestrator either.
 */
export type AttemptOutcome = 'success' | 'busy' | 'failure' | 'rejected' | 'aborted' | 'cancelled' | 'limit'

/** One try of a job on one orchestrator, reported to the client in headers. */
export interface Attempt {
  peerId: string
  outcome: AttemptOutcome
  /** milliseconds from sending to the answer (or the error) */
  ms: number
  /** the `JobErrorCode`, `RUNNER_STATUS_<nnn>` for a runner 5xx/401/403/429 answer, or `UNKNOWN` */
  errorCode?: string
}

export type DispatchErrorCode = 'DISPATCH_ERROR_NO_ORCHESTRATOR' | 'DISPATCH_ERROR_BAD_REQUEST' | 'DISPATCH_ERROR_ABORTED' | 'DISPATCH_ERROR_GATEWAY_LIMIT'

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
 * budget ran out, or the queue of requests waiting for a slot full.
 */
export type NoOrchestratorReason = 'none' | 'price' | 'exhausted' | 'busy' | 'queue_full'

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
