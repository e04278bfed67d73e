import { ShoalError } from '../kernel/errors.js'
import type { FinalErrorCode } from '../protocols/ai/index.js'

/**
 * A job refused or failed on the orchestrator. Codes are `/shoal/ai` Final codes, so
 * the protocol handler sends them as they are and the gateway maps them back.
 */
export class OrchestratorJobError extends ShoalError<FinalErrorCode> {
  static override readonly name = 'OrchestratorJobError'

  /** the outcome the `/shoal/ai` handler answers with (src/kernel/job-outcome.ts) */
  get outcome (): FinalErrorCode {
    return this.code
  }
}
