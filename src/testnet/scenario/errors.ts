import { ShoalError } from '../../kernel/errors.js'

export type ScenarioErrorCode =
  | 'SCENARIO_ERROR_FILE'
  | 'SCENARIO_ERROR_SCHEMA'
  | 'SCENARIO_ERROR_REFERENCE'
  | 'SCENARIO_ERROR_RUN'

/** A scenario file that cannot be read or run; the message names the file and the field. */
export class ScenarioError extends ShoalError<ScenarioErrorCode> {
  static override readonly name = 'ScenarioError'
}
