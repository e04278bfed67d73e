import { ApiError, type ApiErrorCode, ValidationError } from '../http/errors.js'

/** OpenAI's error `type` by status: what its clients branch on. */
function typeFor (status: number): string {
  if (status === 401) return 'authentication_error'
  if (status === 402) return 'insufficient_quota'
  if (status === 403) return 'permission_error'
  if (status === 404) return 'invalid_request_error'
  if (status === 408) return 'timeout'
  if (status === 429) return 'rate_limit_exceeded'
  if (status >= 500) return 'server_error'
  return 'invalid_request_error'
}

/** OpenAI's `code` where it has one for the case, else the gateway's stable code. */
function codeFor (error: ApiError): string {
  switch (error.code) {
    case 'GATEWAY_ERROR_UNAUTHORIZED': return 'invalid_api_key'
    case 'GATEWAY_ERROR_NO_ORCHESTRATOR': return 'model_not_available'
    default: return error.code
  }
}

/**
 * An error of the OpenAI-compatible routes, in OpenAI's shape:
 * `{"error":{"message","type","param","code"}}`. A field problem (the pipelines' 422)
 * is a 400 here, as OpenAI answers invalid parameters, with `param` naming the field
 * as the client sent it.
 */
export class OpenAiError extends ApiError {
  static override readonly name = 'OpenAiError'
  readonly param: string | null
  readonly type: string
  readonly openAiCode: string
  readonly retryAfterS?: number

  constructor (statusCode: number, code: ApiErrorCode, message: string, options: { param?: string | null, type?: string, openAiCode?: string, retryAfterS?: number, cause?: unknown } = {}) {
    super(statusCode, code, message, undefined, options.cause !== undefined ? { cause: options.cause } : undefined)
    this.param = options.param ?? null
    this.type = options.type ?? typeFor(statusCode)
    this.openAiCode = options.openAiCode ?? code
    if (options.retryAfterS !== undefined) this.retryAfterS = options.retryAfterS
  }

  override toBody (): Record<string, unknown> {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.openAiCode } }
  }
}

/** 400 for a request field OpenAI's API would refuse (`param` names it). */
export function invalidParam (param: string, message: string): OpenAiError {
  return new OpenAiError(400, 'GATEWAY_ERROR_VALIDATION', message, { param, openAiCode: 'invalid_value' })
}

/**
 * Any gateway error as an `OpenAiError`, keeping its status (422 becomes 400), message
 * and Retry-After. `params` maps a pipeline's field names back to the OpenAI request's.
 */
export function toOpenAiError (error: ApiError, params: Readonly<Record<string, string>> = {}): OpenAiError {
  if (error instanceof OpenAiError) return error
  const retryAfter = (error as { retryAfterS?: unknown }).retryAfterS
  const retry = typeof retryAfter === 'number' ? { retryAfterS: retryAfter } : {}
  if (error instanceof ValidationError) {
    const first = error.issues[0]
    const field = first !== undefined && first.loc[0] === 'body' && typeof first.loc[1] === 'string' ? first.loc[1] : undefined
    const param = field === undefined ? null : (params[field] ?? field)
    const message = error.issues.map(i => `${i.loc[0] === 'body' && typeof i.loc[1] === 'string' ? (params[i.loc[1]] ?? i.loc[1]) : i.loc.join('.')}: ${i.msg}`).join('; ')
    return new OpenAiError(400, error.code, message, { param, openAiCode: 'invalid_value', cause: error })
  }
  return new OpenAiError(error.statusCode, error.code, error.message, { openAiCode: codeFor(error), ...retry, cause: error })
}
