import type { NoOrchestratorError, NoOrchestratorReason } from '../dispatch/errors.js'
import { ApiError } from './errors.js'

const REASONS: Record<NoOrchestratorReason, string> = {
  none: 'no orchestrator the gateway knows serves it',
  price: 'every orchestrator serving it is priced above this gateway\'s limit',
  exhausted: 'every orchestrator serving it failed or ran out of time',
  busy: 'every orchestrator serving it is busy',
  queue_full: 'every orchestrator serving it is busy and the queue for it is full',
  not_replayable: 'the orchestrator tried failed after the request body was streamed to it past what the gateway keeps to send it again (--custom-replay-bytes); send the request again'
}

/**
 * 503 (as NoOrchestratorApiError) that names what was looked for and what the mesh serves instead, so a client (or
 * an operator adding a `--model-alias`) can act on it:
 * `{detail: {msg}, error: {code, message, pipeline, model, requested_model?, served}}`.
 */
export class ModelNotServedApiError extends ApiError {
  static override readonly name: string = 'ModelNotServedApiError'
  /** the server answers it as Retry-After (every orchestrator busy) */
  readonly retryAfterS?: number
  readonly explanation: string
  readonly pipeline: string
  readonly model: string
  readonly requestedModel: string | undefined
  readonly served: string[]

  constructor (err: NoOrchestratorError, job: { pipeline: string, modelId: string, alias?: string }, served: string[]) {
    super(503, 'GATEWAY_ERROR_NO_ORCHESTRATOR', 'no orchestrators available',
      { reason: err.reason, ...(err.lastErrorCode !== undefined ? { lastErrorCode: err.lastErrorCode } : {}) }, { cause: err })
    if (err.retryAfterSeconds !== undefined) this.retryAfterS = Math.max(1, Math.ceil(err.retryAfterSeconds))
    this.pipeline = job.pipeline
    this.model = job.modelId
    this.requestedModel = job.alias
    this.served = served
    const asked = job.alias === undefined ? `"${job.modelId}"` : `"${job.modelId}" (the alias of "${job.alias}")`
    const others = served.filter(m => m !== job.modelId)
    const instead = others.length === 0
      ? `the mesh serves no model for ${job.pipeline}`
      : `the mesh serves for ${job.pipeline}: ${others.map(m => `"${m}"`).join(', ')}`
    this.explanation = `no orchestrators available for ${job.pipeline} model ${asked}: ${REASONS[err.reason]}; ${instead}`
  }

  override toBody (): Record<string, unknown> {
    return {
      detail: { msg: this.explanation },
      error: {
        code: this.code,
        message: this.explanation,
        pipeline: this.pipeline,
        model: this.model,
        ...(this.requestedModel !== undefined ? { requested_model: this.requestedModel } : {}),
        served: this.served
      }
    }
  }
}
