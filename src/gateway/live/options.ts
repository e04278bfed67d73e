import { DEFAULT_MAX_SEGMENTS_IN_FLIGHT, DEFAULT_PAYMENT_INTERVAL_MS, LIVE_LIMITS } from '../../protocols/live/index.js'

export interface GatewayLiveOptions {
  /** the model a start naming none gets */
  defaultModelId: string
  /** live sessions at once */
  maxSessions: number
  /** the largest input segment (413 above) */
  maxSegmentBytes: number
  /** input segments sent and not yet taken by the runner before publishing waits (the reference's 3) */
  maxSegmentsInFlight: number
  /** nothing from the orchestrator for this long with segments in flight: it is stalled, swap */
  stallTimeoutMs: number
  /** at most this many swaps per window (the reference's 2 in 3 minutes) */
  maxSwaps: number
  swapWindowMs: number
  /** how long starting on one orchestrator may take */
  startTimeoutMs: number
  /** orchestrators tried per start or swap */
  maxAttempts: number
  /** payment interval assumed until the orchestrator says */
  paymentIntervalMs: number
  /** pixels prepaid before any output is measured (then each interval pays the pixels received) */
  prepayPixels: number
  /** the most one session may spend; then no more tickets (the orchestrator closes when the credit runs out) */
  maxWeiPerSession: bigint
  /** an ended session's status stays readable this long */
  keepEndedMs: number
}

export const defaultGatewayLiveOptions: GatewayLiveOptions = {
  defaultModelId: 'human-models/selfie-background',
  maxSessions: 32,
  maxSegmentBytes: 8 * 1024 * 1024,
  maxSegmentsInFlight: DEFAULT_MAX_SEGMENTS_IN_FLIGHT,
  stallTimeoutMs: 10_000,
  maxSwaps: 2,
  swapWindowMs: 180_000,
  startTimeoutMs: 30_000,
  maxAttempts: 3,
  paymentIntervalMs: DEFAULT_PAYMENT_INTERVAL_MS,
  // 10 s of 512x512 at 30 fps
  prepayPixels: 512 * 512 * 30 * 10,
  maxWeiPerSession: 10n ** 30n,
  keepEndedMs: 300_000
}

if (defaultGatewayLiveOptions.maxSegmentBytes > LIVE_LIMITS.maxSegmentBytes) throw new Error('maxSegmentBytes over the wire limit')
