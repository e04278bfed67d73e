import { ShoalError } from '../kernel/errors.js'

/** A user-facing CLI failure: printed as one line without a stack, exit code 1. */
export class CliError extends ShoalError<'CLI_ERROR_USAGE' | 'CLI_ERROR_CONFIG' | 'CLI_ERROR_KEYS' | 'CLI_ERROR_RUNTIME'> {
  static override readonly name = 'CliError'
}
