import { ApiError } from '../../http/errors.js'

/** 400: an offer that is not SDP, has no video, or offers no codec this side takes. */
export class SdpOfferError extends ApiError {
  static override readonly name = 'SdpOfferError'
  constructor (message: string, options?: { cause?: unknown }) {
    super(400, 'GATEWAY_ERROR_BAD_REQUEST', `bad SDP offer: ${message}`, undefined, options)
  }
}

/** 404: no live session runs for the stream (start it first), or no such WHIP/WHEP resource. */
export class LiveStreamNotFoundError extends ApiError {
  static override readonly name = 'LiveStreamNotFoundError'
  constructor (message: string) {
    super(404, 'GATEWAY_ERROR_NOT_FOUND', message)
  }
}

/** 503 with Retry-After: the gateway holds as many publishers or viewers as it takes. */
export class LiveCapacityError extends ApiError {
  static override readonly name = 'LiveCapacityError'
  readonly retryAfterS = 5
  constructor (limitName: 'maxPublishers' | 'maxViewers' | 'maxViewersPerStream', limit: number) {
    super(503, 'GATEWAY_ERROR_LIVE_CAPACITY', `too many live WebRTC sessions (limit ${limit}, ${limitName})`, { limit, limitName })
  }
}

/** 405: trickle ICE (PATCH) is not taken; the answer carries every candidate. */
export class TrickleNotSupportedError extends ApiError {
  static override readonly name = 'TrickleNotSupportedError'
  constructor () {
    super(405, 'GATEWAY_ERROR_BAD_REQUEST', 'trickle ICE is not supported: the SDP answer carries all candidates')
  }
}
