import { DispatchAbortedError, GatewayFailureDispatchError, GatewayLimitDispatchError, JobRejectedError, NoOrchestratorError } from '../dispatch/errors.js'
import {
  ApiError, BadRequestError, GatewayFailureApiError, GatewayLimitApiError, InternalApiError, JobRejectedApiError, NoOrchestratorApiError,
  PayloadTooLargeError, RequestAbortedError, UnsupportedMediaTypeError
} from './errors.js'

const TOO_LARGE = new Set(['FST_ERR_CTP_BODY_TOO_LARGE', 'FST_REQ_FILE_TOO_LARGE', 'FST_PARTS_LIMIT', 'FST_FILES_LIMIT', 'FST_FIELDS_LIMIT'])

/**
 * Every error the HTTP layer can meet, as the `ApiError` it answers with: its own,
 * the dispatcher's, fastify's and @fastify/multipart's (by their stable codes).
 */
export function toApiError (err: unknown, bodyLimitBytes: number): ApiError {
  if (err instanceof ApiError) return err
  if (err instanceof NoOrchestratorError) {
    return new NoOrchestratorApiError(
      { reason: err.reason, ...(err.lastErrorCode !== undefined ? { lastErrorCode: err.lastErrorCode } : {}) },
      { cause: err, ...(err.retryAfterSeconds !== undefined ? { retryAfterSeconds: err.retryAfterSeconds } : {}) }
    )
  }
  if (err instanceof GatewayLimitDispatchError) return new GatewayLimitApiError(err.message, err.limit, { cause: err })
  if (err instanceof GatewayFailureDispatchError) return new GatewayFailureApiError(err.message, { cause: err })
  if (err instanceof JobRejectedError) return new JobRejectedApiError(err.message, { cause: err })
  if (err instanceof DispatchAbortedError) return new RequestAbortedError({ cause: err })
  const { code, statusCode } = (err ?? {}) as { code?: unknown, statusCode?: unknown }
  if (typeof code === 'string') {
    if (TOO_LARGE.has(code)) return new PayloadTooLargeError(bodyLimitBytes)
    switch (code) {
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
        return new UnsupportedMediaTypeError('unsupported media type')
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return new BadRequestError('empty JSON body', { cause: err })
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return new BadRequestError('malformed JSON body', { cause: err })
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return new BadRequestError('request body size did not match Content-Length', { cause: err })
    }
  }
  if (err instanceof SyntaxError) return new BadRequestError('malformed JSON body', { cause: err })
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return new ApiError(statusCode, 'GATEWAY_ERROR_BAD_REQUEST', err instanceof Error ? err.message : 'bad request', undefined, { cause: err })
  }
  return new InternalApiError({ cause: err })
}
