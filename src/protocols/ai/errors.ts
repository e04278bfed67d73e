import { ShoalError } from '../../observability/errors.js'
import { createJobError, JobError, type JobErrorCode } from '../../gateway/dispatch/errors.js'
import { FINAL_ERROR_CODES, type FinalErrorCode } from './constants.js'

export type AiProtocolErrorCode =
  /** a control frame that is not valid UTF-8 JSON of the expected shape */
  | 'AI_PROTOCOL_ERROR_MALFORMED_FRAME'
  /** a length prefix beyond the frame limits, or a varint longer than 4 bytes */
  | 'AI_PROTOCOL_ERROR_FRAME_TOO_LARGE'
  /** a frame type byte this version does not know */
  | 'AI_PROTOCOL_ERROR_UNKNOWN_FRAME'
  /** a known frame in a state where it is not allowed (e.g. a ResultChunk before ResultHead) */
  | 'AI_PROTOCOL_ERROR_UNEXPECTED_FRAME'
  /** a JobHeader that declares more input bytes than the server accepts */
  | 'AI_PROTOCOL_ERROR_INPUT_TOO_LARGE'
  /** input chunks that do not add up to the sizes the JobHeader declared */
  | 'AI_PROTOCOL_ERROR_INPUT_MISMATCH'
  /** the stream ended in the middle of a frame or a job */
  | 'AI_PROTOCOL_ERROR_UNEXPECTED_EOF'

/**
 * A peer broke the `/shoal/ai` wire protocol. The stream it arrived on is reset; the
 * connection and every other stream keep working.
 */
export class AiProtocolError extends ShoalError<AiProtocolErrorCode> {
  static override readonly name = 'AiProtocolError'
}

/** The caller's signal aborted a job (or the client was stopped); `cause` is the signal's reason. */
export class AiJobAbortedError extends ShoalError<'AI_ERROR_ABORTED'> {
  static override readonly name = 'AiJobAbortedError'
  constructor (message = 'job aborted', options?: { cause?: unknown }) {
    super('AI_ERROR_ABORTED', message, undefined, options)
  }
}

/**
 * The orchestrator refused the job for payment (no or bad tickets, no credit). Its code is
 * JOB_ERROR_RUNNER_FAILURE, so the dispatcher retries elsewhere as before; a caller tells
 * it apart by class.
 */
export class PaymentRequiredError extends JobError {
  static override readonly name = 'PaymentRequiredError'
  constructor (message = 'payment required', details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super('JOB_ERROR_RUNNER_FAILURE', message, details, options)
  }
}

/** The orchestrator failed in a way it does not explain (Final INTERNAL); a RUNNER_FAILURE too. */
export class OrchestratorInternalError extends JobError {
  static override readonly name = 'OrchestratorInternalError'
  constructor (message = 'orchestrator internal error', details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super('JOB_ERROR_RUNNER_FAILURE', message, details, options)
  }
}

/**
 * Which `JobError` (src/gateway/dispatch/errors.ts) each Final error code becomes on the
 * client. PAYMENT_REQUIRED and INTERNAL have no code of their own there: they are
 * RUNNER_FAILURE (retry elsewhere, penalise) of their own classes (above), and every
 * mapped error keeps the wire code in `details.finalCode`.
 */
const FINAL_TO_JOB_ERROR: Record<Exclude<FinalErrorCode, 'CANCELLED'>, JobErrorCode> = {
  BAD_REQUEST: 'JOB_ERROR_BAD_REQUEST',
  INSUFFICIENT_CAPACITY: 'JOB_ERROR_INSUFFICIENT_CAPACITY',
  RUNNER_FAILURE: 'JOB_ERROR_RUNNER_FAILURE',
  DEADLINE_EXCEEDED: 'JOB_ERROR_DEADLINE_EXCEEDED',
  UNSUPPORTED: 'JOB_ERROR_UNSUPPORTED',
  PAYMENT_REQUIRED: 'JOB_ERROR_RUNNER_FAILURE',
  INTERNAL: 'JOB_ERROR_RUNNER_FAILURE'
}

/** The typed error a client throws for an orchestrator's Final error code. */
export function jobErrorFromFinal (code: Exclude<FinalErrorCode, 'CANCELLED'>, message: string | undefined, details: Record<string, unknown> = {}): JobError {
  const text = `orchestrator: ${message ?? code.toLowerCase().replaceAll('_', ' ')}`
  const all = { ...details, finalCode: code }
  if (code === 'PAYMENT_REQUIRED') return new PaymentRequiredError(text, all)
  if (code === 'INTERNAL') return new OrchestratorInternalError(text, all)
  return createJobError(FINAL_TO_JOB_ERROR[code], text, all)
}

/** A JobError for "the orchestrator could not be reached or broke the protocol". */
export function unreachableError (message: string, details: Record<string, unknown> = {}, cause?: unknown): JobError {
  return createJobError('JOB_ERROR_UNREACHABLE', message, details, cause === undefined ? undefined : { cause })
}

/**
 * The Final code for an error thrown by an executor: its `code` may be a Final code
 * (`INSUFFICIENT_CAPACITY`) or the same with the `JOB_ERROR_` prefix
 * (`JOB_ERROR_INSUFFICIENT_CAPACITY`); anything else is INTERNAL.
 */
export function finalCodeOf (err: unknown): Exclude<FinalErrorCode, 'CANCELLED'> {
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code !== 'string') return 'INTERNAL'
  const bare = code.startsWith('JOB_ERROR_') ? code.slice('JOB_ERROR_'.length) : code
  if ((FINAL_ERROR_CODES as readonly string[]).includes(bare) && bare !== 'CANCELLED') {
    return bare as Exclude<FinalErrorCode, 'CANCELLED'>
  }
  return 'INTERNAL'
}
