import type { Attempt } from '../dispatch/errors.js'

/**
 * Response headers that say what the gateway did; every response has the first two,
 * pipeline responses the rest (when they apply).
 */
export const SHOAL_HEADERS = {
  /** the gateway's id for the request (also the async `request_id`) */
  requestId: 'x-shoal-request-id',
  /** milliseconds from receiving the request to sending the response headers */
  durationMs: 'x-shoal-duration-ms',
  /** the peer id of the orchestrator that answered */
  orchestrator: 'x-shoal-orchestrator',
  /** how many attempts were made (0 when the request failed before dispatch) */
  attempts: 'x-shoal-attempts',
  /** each attempt as `<peerId>;<outcome>;<ms>[;<errorCode>]`, comma separated, in order */
  tried: 'x-shoal-tried',
  /** the model the job ran on (the target of a model alias) */
  model: 'x-shoal-model',
  /** the model id the request named, when a model alias replaced it */
  requestedModel: 'x-shoal-requested-model',
  /** the orchestrator's signed receipt (base64url SignedReceipt), when the answer fit the gateway's buffer */
  receipt: 'x-shoal-receipt'
} as const

/** the attempts as the `x-shoal-tried` value */
export function formatAttempts (attempts: Attempt[]): string {
  return attempts.map(a => [a.peerId, a.outcome, String(Math.round(a.ms)), ...(a.errorCode !== undefined ? [a.errorCode] : [])].join(';')).join(', ')
}

/** the headers describing a dispatch */
export function dispatchHeaders (attempts: Attempt[], orchestrator: string | undefined): Record<string, string> {
  const headers: Record<string, string> = { [SHOAL_HEADERS.attempts]: String(attempts.length) }
  if (attempts.length > 0) headers[SHOAL_HEADERS.tried] = formatAttempts(attempts)
  if (orchestrator !== undefined) headers[SHOAL_HEADERS.orchestrator] = orchestrator
  return headers
}
