import { ShoalError } from './errors.js'

/**
 * The one error model of a job, from the runner to the HTTP client: a closed set of
 * outcomes. The wire carries the first nine as the protobuf enum `FinalCode`
 * (src/protocols/ai/pb/ai.proto, same names); the last three arise on the gateway and
 * never travel. Each outcome has, here and nowhere else:
 * - `blame`: whether the dispatcher holds it against the orchestrator (`orchestrator`),
 *   moves on without penalty (`busy`), stops because the client's request is at fault
 *   (`client`), or stops because the gateway itself cannot go on (`gateway`: its own
 *   limits, its own chain RPC or signer; no orchestrator would do better, none is penalised);
 * - `httpStatus`: what the gateway answers when this outcome ends the request.
 * Code matches on the outcome (or the `JOB_ERROR_<outcome>` code of a JobError), never
 * on messages.
 */
export const JOB_OUTCOMES = {
  OK: { blame: 'none', httpStatus: 200 },
  /** the request is invalid (params, sizes): not retried */
  BAD_REQUEST: { blame: 'client', httpStatus: 400 },
  /** no free slot for the model now: next orchestrator, no penalty; 503 with Retry-After when all are busy */
  INSUFFICIENT_CAPACITY: { blame: 'busy', httpStatus: 503 },
  /** the runner failed (crash, 5xx, out of memory) */
  RUNNER_FAILURE: { blame: 'orchestrator', httpStatus: 503 },
  /** the job's deadline passed on the orchestrator, or no answer came in time */
  DEADLINE_EXCEEDED: { blame: 'orchestrator', httpStatus: 503 },
  /** the (pipeline, model) is not served there (stale directory) */
  UNSUPPORTED: { blame: 'orchestrator', httpStatus: 503 },
  /** the orchestrator refused the payment (no, bad or too few tickets; or it sent unusable ticket params) */
  PAYMENT_REQUIRED: { blame: 'orchestrator', httpStatus: 503 },
  /** the orchestrator failed in a way it does not explain, or is shutting down */
  INTERNAL: { blame: 'orchestrator', httpStatus: 503 },
  /** the client asked to stop (Cancel); the HTTP client is gone */
  CANCELLED: { blame: 'none', httpStatus: 499 },
  /** gateway only: no connection, stream reset, a reply that breaks the protocol */
  UNREACHABLE: { blame: 'orchestrator', httpStatus: 503 },
  /** gateway only: the gateway's own limit (max ticket value, max price...) refuses the job */
  GATEWAY_LIMIT: { blame: 'gateway', httpStatus: 402 },
  /** gateway only: the gateway's own dependency failed (its chain RPC, its signer) */
  GATEWAY_FAILURE: { blame: 'gateway', httpStatus: 503 }
} as const satisfies Record<string, { blame: 'none' | 'client' | 'busy' | 'orchestrator' | 'gateway', httpStatus: number }>

export type JobOutcome = keyof typeof JOB_OUTCOMES
export type JobBlame = typeof JOB_OUTCOMES[JobOutcome]['blame']

/** The outcomes a `Final` frame carries, in the order of the protobuf enum. */
export const WIRE_OUTCOMES = ['OK', 'BAD_REQUEST', 'INSUFFICIENT_CAPACITY', 'RUNNER_FAILURE', 'DEADLINE_EXCEEDED', 'UNSUPPORTED', 'PAYMENT_REQUIRED', 'INTERNAL', 'CANCELLED'] as const satisfies readonly JobOutcome[]
export type WireOutcome = typeof WIRE_OUTCOMES[number]

/** Outcomes a job can fail with (a JobError): all but OK and CANCELLED (an abort is not a failure). */
export type FailedOutcome = Exclude<JobOutcome, 'OK' | 'CANCELLED'>
export type JobErrorCode = `JOB_ERROR_${FailedOutcome}`

export const JOB_ERROR_CODES = (Object.keys(JOB_OUTCOMES) as JobOutcome[])
  .filter((o): o is FailedOutcome => o !== 'OK' && o !== 'CANCELLED')
  .map(o => `JOB_ERROR_${o}` as JobErrorCode)

export function isJobErrorCode (value: unknown): value is JobErrorCode {
  return typeof value === 'string' && (JOB_ERROR_CODES as readonly string[]).includes(value)
}

export function isWireOutcome (value: unknown): value is WireOutcome {
  return typeof value === 'string' && (WIRE_OUTCOMES as readonly string[]).includes(value)
}

/** Who is to blame for an outcome (see `JOB_OUTCOMES`). */
export function blameOf (outcome: JobOutcome): JobBlame {
  return JOB_OUTCOMES[outcome].blame
}

/** The HTTP status an outcome ends a request with: the only such mapping. */
export function httpStatusOf (outcome: JobOutcome): number {
  return JOB_OUTCOMES[outcome].httpStatus
}

/**
 * Why a job failed, typed: `outcome` is one of the closed set, `code` is
 * `JOB_ERROR_<outcome>`. What the `/shoal/ai` client throws (mapped from the Final code
 * once), what the gateway's payer throws for its own failures, and what the dispatcher
 * decides on.
 */
export class JobError extends ShoalError<JobErrorCode> {
  static override readonly name: string = 'JobError'

  get outcome (): FailedOutcome {
    return this.code.slice('JOB_ERROR_'.length) as FailedOutcome
  }
}

type JobErrorClass = new (message?: string, details?: Record<string, unknown>, options?: { cause?: unknown }) => JobError

function jobErrorClass (outcome: FailedOutcome, className: string, defaultMessage: string): JobErrorClass {
  const code: JobErrorCode = `JOB_ERROR_${outcome}`
  return class extends JobError {
    static override readonly name = className
    constructor (message = defaultMessage, details?: Record<string, unknown>, options?: { cause?: unknown }) {
      super(code, message, details, options)
    }
  }
}

export const InsufficientCapacityError = jobErrorClass('INSUFFICIENT_CAPACITY', 'InsufficientCapacityError', 'insufficient capacity')
export const JobBadRequestError = jobErrorClass('BAD_REQUEST', 'JobBadRequestError', 'bad request')
export const RunnerFailureError = jobErrorClass('RUNNER_FAILURE', 'RunnerFailureError', 'runner failure')
export const DeadlineExceededError = jobErrorClass('DEADLINE_EXCEEDED', 'DeadlineExceededError', 'deadline exceeded')
export const UnsupportedJobError = jobErrorClass('UNSUPPORTED', 'UnsupportedJobError', 'pipeline or model not served')
export const PaymentRequiredError = jobErrorClass('PAYMENT_REQUIRED', 'PaymentRequiredError', 'payment required')
export const OrchestratorInternalError = jobErrorClass('INTERNAL', 'OrchestratorInternalError', 'orchestrator internal error')
export const UnreachableError = jobErrorClass('UNREACHABLE', 'UnreachableError', 'orchestrator unreachable')
/** The gateway's own limit stopped the job; `details.limit` names it (e.g. `maxTicketEV`). */
export const GatewayLimitError = jobErrorClass('GATEWAY_LIMIT', 'GatewayLimitError', 'gateway limit reached')
/** The gateway's own dependency (chain RPC, signer) failed; `details.dependency` names it. */
export const GatewayFailureError = jobErrorClass('GATEWAY_FAILURE', 'GatewayFailureError', 'gateway failure')

const JOB_ERROR_CLASSES: Record<FailedOutcome, JobErrorClass> = {
  INSUFFICIENT_CAPACITY: InsufficientCapacityError,
  BAD_REQUEST: JobBadRequestError,
  RUNNER_FAILURE: RunnerFailureError,
  DEADLINE_EXCEEDED: DeadlineExceededError,
  UNSUPPORTED: UnsupportedJobError,
  PAYMENT_REQUIRED: PaymentRequiredError,
  INTERNAL: OrchestratorInternalError,
  UNREACHABLE: UnreachableError,
  GATEWAY_LIMIT: GatewayLimitError,
  GATEWAY_FAILURE: GatewayFailureError
}

/** The typed error for an outcome (or its `JOB_ERROR_` code). */
export function createJobError (outcome: FailedOutcome | JobErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }): JobError {
  const bare = (outcome.startsWith('JOB_ERROR_') ? outcome.slice('JOB_ERROR_'.length) : outcome) as FailedOutcome
  return new JOB_ERROR_CLASSES[bare](message, details, options)
}
