import { ShoalError } from '../kernel/errors.js'

/**
 * The CPU runner cannot serve this (pipeline, model): it only runs models it really
 * has (ESRGAN upscale, and the benchmark-only noop). Raised at startup.
 */
export class UnsupportedRunnerModelError extends ShoalError<'CPU_RUNNER_ERROR_UNSUPPORTED_MODEL'> {
  static override readonly name = 'UnsupportedRunnerModelError'
  constructor (message: string, details?: Record<string, unknown>) {
    super('CPU_RUNNER_ERROR_UNSUPPORTED_MODEL', message, details)
  }
}

/** The request's input cannot be processed (undecodable image, too many pixels): HTTP 400. */
export class ModelInputError extends ShoalError<'CPU_RUNNER_ERROR_BAD_INPUT'> {
  static override readonly name = 'ModelInputError'
  constructor (message: string, options?: { cause?: unknown }) {
    super('CPU_RUNNER_ERROR_BAD_INPUT', message, undefined, options)
  }
}

/** The model failed to load or crashed while running: /health turns ERROR, requests 500. */
export class ModelFailureError extends ShoalError<'CPU_RUNNER_ERROR_MODEL_FAILED'> {
  static override readonly name = 'ModelFailureError'
  constructor (message: string, options?: { cause?: unknown }) {
    super('CPU_RUNNER_ERROR_MODEL_FAILED', message, undefined, options)
  }
}

/** The runner's job queue is full: HTTP 503. */
export class RunnerBusyError extends ShoalError<'CPU_RUNNER_ERROR_BUSY'> {
  static override readonly name = 'RunnerBusyError'
  constructor (message: string) {
    super('CPU_RUNNER_ERROR_BUSY', message)
  }
}
