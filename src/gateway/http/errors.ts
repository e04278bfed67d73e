import { httpStatusOf } from '../../kernel/job-outcome.js'
import type { ValidationIssue } from '../../kernel/pipelines/validate.js'
import { ShoalError } from '../../kernel/errors.js'

export type ApiErrorCode =
  | 'GATEWAY_ERROR_BAD_REQUEST'
  | 'GATEWAY_ERROR_UNAUTHORIZED'
  | 'GATEWAY_ERROR_NOT_FOUND'
  | 'GATEWAY_ERROR_PAYLOAD_TOO_LARGE'
  | 'GATEWAY_ERROR_REQUEST_TIMEOUT'
  | 'GATEWAY_ERROR_HEADERS_TOO_LARGE'
  | 'GATEWAY_ERROR_UNSUPPORTED_MEDIA_TYPE'
  | 'GATEWAY_ERROR_VALIDATION'
  | 'GATEWAY_ERROR_NO_ORCHESTRATOR'
  | 'GATEWAY_ERROR_JOB_REJECTED'
  | 'GATEWAY_ERROR_GATEWAY_LIMIT'
  | 'GATEWAY_ERROR_GATEWAY_FAILURE'
  | 'GATEWAY_ERROR_TOO_MANY_JOBS'
  | 'GATEWAY_ERROR_STORE_FULL'
  | 'GATEWAY_ERROR_RESULT_TOO_LARGE'
  | 'GATEWAY_ERROR_ABORTED'
  | 'GATEWAY_ERROR_STOPPING'
  | 'GATEWAY_ERROR_LIVE_CAPACITY'
  | 'GATEWAY_ERROR_INTERNAL'

/** One field problem, in the shape of the reference's 422 `detail` items (the pipeline validator's). */
export type { ValidationIssue } from '../../kernel/pipelines/validate.js'

/**
 * An error the HTTP API answers with. The body for every status is one documented shape:
 * - 422: `{"detail": [{"loc", "msg", "type"}, ...], "error": {"code", "message"}}`
 *   (the reference's HTTPValidationError, plus `error`);
 * - any other status: `{"detail": {"msg"}, "error": {"code", "message"}}`
 *   (the reference's HTTPError, plus the reference gateway's own `{"error":{"message"}}`).
 * Clients written for either reference keep working.
 */
export class ApiError extends ShoalError<ApiErrorCode> {
  static override readonly name: string = 'ApiError'
  readonly statusCode: number

  constructor (statusCode: number, code: ApiErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(code, message, details, options)
    this.statusCode = statusCode
  }

  toBody (): Record<string, unknown> {
    return { detail: { msg: this.message }, error: { code: this.code, message: this.message } }
  }
}

/** 400: a body that cannot be read (malformed JSON or multipart), a bad request id. */
export class BadRequestError extends ApiError {
  static override readonly name = 'BadRequestError'
  constructor (message: string, options?: { cause?: unknown }) {
    super(400, 'GATEWAY_ERROR_BAD_REQUEST', message, undefined, options)
  }
}

/** 401: a missing or wrong API key when keys are configured. */
export class UnauthorizedError extends ApiError {
  static override readonly name = 'UnauthorizedError'
  constructor (message = 'missing or invalid API key') {
    super(401, 'GATEWAY_ERROR_UNAUTHORIZED', message)
  }
}

/** 404: an unknown route or pipeline, an unknown or expired job. */
export class NotFoundError extends ApiError {
  static override readonly name = 'NotFoundError'
  constructor (message: string) {
    super(404, 'GATEWAY_ERROR_NOT_FOUND', message)
  }
}

/** The limits a 413 can name: the option (or fixed multipart bound) that was hit. */
export type SizeLimit = 'bodyLimitBytes' | 'maxFieldBytes' | 'maxFields' | 'maxFiles' | 'maxParts' | 'maxFieldNameBytes'

const LIMIT_TEXT: Record<SizeLimit, (limit: number) => string> = {
  bodyLimitBytes: (n) => `request body is larger than the limit of ${n} bytes (bodyLimitBytes)`,
  maxFieldBytes: (n) => `a multipart text field is larger than the limit of ${n} bytes (maxFieldBytes)`,
  maxFields: (n) => `too many multipart text fields (limit ${n}, maxFields)`,
  maxFiles: (n) => `too many multipart files (limit ${n}, maxFiles)`,
  maxParts: (n) => `too many multipart parts (limit ${n}, maxParts)`,
  maxFieldNameBytes: (n) => `a multipart field name is longer than ${n} bytes (maxFieldNameBytes)`
}

/** 413: a body, field, file or part count over its limit; names the limit that was hit. */
export class PayloadTooLargeError extends ApiError {
  static override readonly name = 'PayloadTooLargeError'
  readonly limitName: SizeLimit
  constructor (limit: number, limitName: SizeLimit = 'bodyLimitBytes', field?: string) {
    super(413, 'GATEWAY_ERROR_PAYLOAD_TOO_LARGE', LIMIT_TEXT[limitName](limit) + (field !== undefined ? ` (field ${JSON.stringify(field)})` : ''),
      { limit, limitName, ...(field !== undefined ? { field } : {}) })
    this.limitName = limitName
  }

  override toBody (): Record<string, unknown> {
    return { detail: { msg: this.message }, error: { code: this.code, message: this.message, limit: this.details?.limitName, limit_value: this.details?.limit } }
  }
}

/** 408: the request line, headers or body did not arrive in time (or too slowly); a custom capability's own timeout before its answer started. */
export class RequestTimeoutError extends ApiError {
  static override readonly name = 'RequestTimeoutError'
  constructor (message: string, details?: Record<string, unknown>) {
    super(408, 'GATEWAY_ERROR_REQUEST_TIMEOUT', message, details)
  }
}

/** 431: a request line plus headers over `maxHeaderBytes`. */
export class HeadersTooLargeError extends ApiError {
  static override readonly name = 'HeadersTooLargeError'
  constructor (limitBytes: number) {
    super(431, 'GATEWAY_ERROR_HEADERS_TOO_LARGE', `request headers are larger than the limit of ${limitBytes} bytes (maxHeaderBytes)`, { limitBytes })
  }
}

/** 415: a body of the wrong media type for the pipeline, or an audio file of a kind not supported. */
export class UnsupportedMediaTypeError extends ApiError {
  static override readonly name = 'UnsupportedMediaTypeError'
  constructor (message: string) {
    super(415, 'GATEWAY_ERROR_UNSUPPORTED_MEDIA_TYPE', message)
  }
}

/** 422: missing, mistyped or invalid fields (an image that does not decode is one). */
export class ValidationError extends ApiError {
  static override readonly name = 'ValidationError'
  readonly issues: ValidationIssue[]

  constructor (issues: ValidationIssue[]) {
    super(422, 'GATEWAY_ERROR_VALIDATION', issues.map(i => `${i.loc.join('.')}: ${i.msg}`).join('; '))
    this.issues = issues
  }

  override toBody (): Record<string, unknown> {
    return { detail: this.issues, error: { code: this.code, message: this.message } }
  }
}

/** 400: the runner refused the job as invalid (`JOB_ERROR_BAD_REQUEST`); not retried. */
export class JobRejectedApiError extends ApiError {
  static override readonly name = 'JobRejectedApiError'
  constructor (message: string, options?: { cause?: unknown }) {
    super(httpStatusOf('BAD_REQUEST'), 'GATEWAY_ERROR_JOB_REJECTED', message, undefined, options)
  }
}

/** 503: no orchestrator could serve the job; with `Retry-After` when every one was busy. */
export class NoOrchestratorApiError extends ApiError {
  static override readonly name = 'NoOrchestratorApiError'
  readonly retryAfterS?: number
  constructor (details?: Record<string, unknown>, options?: { cause?: unknown, retryAfterSeconds?: number }) {
    super(httpStatusOf('RUNNER_FAILURE'), 'GATEWAY_ERROR_NO_ORCHESTRATOR', 'no orchestrators available', details, options)
    // the server answers it as Retry-After
    if (options?.retryAfterSeconds !== undefined) this.retryAfterS = Math.max(1, Math.ceil(options.retryAfterSeconds))
  }
}

/**
 * 402 Payment Required: the gateway's own limit stopped the job (its ticket cap, its
 * max price, an image too large to pay for); `details.limit` names it. Not retried:
 * no orchestrator would do better until the operator raises the limit.
 */
export class GatewayLimitApiError extends ApiError {
  static override readonly name = 'GatewayLimitApiError'
  constructor (message: string, limit: string, options?: { cause?: unknown }) {
    super(httpStatusOf('GATEWAY_LIMIT'), 'GATEWAY_ERROR_GATEWAY_LIMIT', message, { limit }, options)
  }

  override toBody (): Record<string, unknown> {
    return { detail: { msg: this.message }, error: { code: this.code, message: this.message, limit: this.details?.limit } }
  }
}

/**
 * 503: the gateway's own dependency failed (its chain RPC, its signer): no orchestrator
 * was tried further or blamed. Retrying later may work.
 */
export class GatewayFailureApiError extends ApiError {
  static override readonly name = 'GatewayFailureApiError'
  constructor (message: string, options?: { cause?: unknown }) {
    super(httpStatusOf('GATEWAY_FAILURE'), 'GATEWAY_ERROR_GATEWAY_FAILURE', message, undefined, options)
  }
}

/** 503 with Retry-After: the asynchronous job store holds `maxAsyncJobs` unfinished jobs. */
export class TooManyJobsError extends ApiError {
  static override readonly name = 'TooManyJobsError'
  readonly retryAfterS: number
  constructor (limit: number, retryAfterS = 5) {
    super(503, 'GATEWAY_ERROR_TOO_MANY_JOBS', `too many asynchronous jobs in progress (limit ${limit})`, { limit })
    this.retryAfterS = retryAfterS
  }
}

/** 503 with Retry-After: asynchronous results fill `asyncStoreBudgetBytes` (or cannot be written). */
export class StoreFullError extends ApiError {
  static override readonly name = 'StoreFullError'
  readonly retryAfterS: number
  constructor (message: string, retryAfterS = 30) {
    super(503, 'GATEWAY_ERROR_STORE_FULL', message)
    this.retryAfterS = retryAfterS
  }
}

/** 502: an asynchronous job's result is larger than the gateway keeps. */
export class ResultTooLargeError extends ApiError {
  static override readonly name = 'ResultTooLargeError'
  constructor (limitBytes: number) {
    super(502, 'GATEWAY_ERROR_RESULT_TOO_LARGE', `the result is larger than the limit of ${limitBytes} bytes kept for asynchronous jobs`, { limitBytes })
  }
}

/** 499 (client closed request): the request was aborted before an answer; only logs and metrics see it. */
export class RequestAbortedError extends ApiError {
  static override readonly name = 'RequestAbortedError'
  constructor (options?: { cause?: unknown }) {
    super(499, 'GATEWAY_ERROR_ABORTED', 'request aborted', undefined, options)
  }
}

/** 503: the gateway is shutting down. */
export class ServiceStoppingError extends ApiError {
  static override readonly name = 'ServiceStoppingError'
  constructor () {
    super(503, 'GATEWAY_ERROR_STOPPING', 'gateway stopping')
  }
}

/** 500: anything unexpected; the message never carries internals. */
export class InternalApiError extends ApiError {
  static override readonly name = 'InternalApiError'
  constructor (options?: { cause?: unknown }) {
    super(500, 'GATEWAY_ERROR_INTERNAL', 'internal error', undefined, options)
  }
}
