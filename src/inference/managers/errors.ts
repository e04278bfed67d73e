import { ShoalError } from '../../kernel/errors.js'

export type RunnerManagerErrorCode =
  | 'RUNNER_ERROR_INSUFFICIENT_CAPACITY'
  | 'RUNNER_ERROR_UNSUPPORTED_MODEL'
  | 'RUNNER_ERROR_UNAVAILABLE'
  | 'RUNNER_ERROR_START_FAILED'

/** Every slot of the model is taken; try another orchestrator (no penalty). */
export class InsufficientCapacityError extends ShoalError<'RUNNER_ERROR_INSUFFICIENT_CAPACITY'> {
  static override readonly name = 'InsufficientCapacityError'
  constructor (pipeline: string, modelId: string, capacity: number) {
    super('RUNNER_ERROR_INSUFFICIENT_CAPACITY', `insufficient capacity for ${pipeline} ${modelId}: all ${capacity} slots are in use`, { pipeline, modelId, capacity })
  }
}

/** No runner here is configured for this (pipeline, model). */
export class UnsupportedModelError extends ShoalError<'RUNNER_ERROR_UNSUPPORTED_MODEL'> {
  static override readonly name = 'UnsupportedModelError'
  constructor (pipeline: string, modelId: string) {
    super('RUNNER_ERROR_UNSUPPORTED_MODEL', `no runner serves ${pipeline} ${modelId}`, { pipeline, modelId })
  }
}

/** The model is configured but none of its runners is healthy now. */
export class RunnerUnavailableError extends ShoalError<'RUNNER_ERROR_UNAVAILABLE'> {
  static override readonly name = 'RunnerUnavailableError'
  constructor (pipeline: string, modelId: string) {
    super('RUNNER_ERROR_UNAVAILABLE', `the runners of ${pipeline} ${modelId} are not healthy`, { pipeline, modelId })
  }
}

/** A runner process did not become healthy (exited, timed out, or refused its model). */
export class RunnerStartError extends ShoalError<'RUNNER_ERROR_START_FAILED'> {
  static override readonly name = 'RunnerStartError'
  constructor (message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super('RUNNER_ERROR_START_FAILED', message, details, options)
  }
}
