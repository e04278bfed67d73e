import { ShoalError } from '../../kernel/errors.js'
import { createJobError, isWireOutcome, JobError } from '../../kernel/job-outcome.js'
import type { FinalErrorCode } from './constants.js'

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

/** The typed error a client throws for an orchestrator's Final error code: the outcome itself, no translation. */
export function jobErrorFromFinal (code: Exclude<FinalErrorCode, 'CANCELLED'>, message: string | undefined, details: Record<string, unknown> = {}): JobError {
  return createJobError(code, `orchestrator: ${message ?? code.toLowerCase().replaceAll('_', ' ')}`, details)
}

/** A JobError for "the orchestrator could not be reached or broke the protocol". */
export function unreachableError (message: string, details: Record<string, unknown> = {}, cause?: unknown): JobError {
  return createJobError('UNREACHABLE', message, details, cause === undefined ? undefined : { cause })
}

/**
 * The Final code for an error thrown by an executor: a JobError (or an error whose
 * `outcome` is a wire outcome, such as the orchestrator's job errors) answers with its
 * outcome; gateway-only outcomes and anything else are INTERNAL.
 */
export function finalCodeOf (err: unknown): Exclude<FinalErrorCode, 'CANCELLED'> {
  const outcome = err instanceof JobError ? err.outcome : (err as { outcome?: unknown } | null)?.outcome
  if (isWireOutcome(outcome) && outcome !== 'OK' && outcome !== 'CANCELLED') return outcome
  return 'INTERNAL'
}
