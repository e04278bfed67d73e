import { ShoalError } from '../../kernel/errors.js'

export type RunnerClientErrorCode =
  /** the runner could not be reached or dropped the connection before answering */
  | 'RUNNER_ERROR_UNREACHABLE'
  /** the call ran past its deadline (a default timeout, or a caller's `AbortSignal.timeout`) */
  | 'RUNNER_ERROR_TIMEOUT'
  /** the caller aborted the call */
  | 'RUNNER_ERROR_ABORTED'
  /** the runner answered something that is not the ai-runner API (status or body) */
  | 'RUNNER_ERROR_BAD_RESPONSE'
  /** the job cannot be turned into a runner request (e.g. files for a JSON pipeline) */
  | 'RUNNER_ERROR_INVALID_JOB'

/** A failure to talk to an ai-runner; HTTP error answers of `run()` are not errors (see `RunnerResponse.status`). */
export class RunnerClientError extends ShoalError<RunnerClientErrorCode> {
  static override readonly name = 'RunnerClientError'
}
