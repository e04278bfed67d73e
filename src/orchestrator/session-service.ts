/**
 * What the orchestrator's two session services over `/shoal/live` framing (live video,
 * custom capability streams) share: their components, the first frame, the runner slot
 * and the `started` frame. Failures are `SessionEnd`s, closed to the gateway with their code.
 */
import type { Libp2p } from 'libp2p'
import { InsufficientCapacityError, UnsupportedModelError, type RunnerLease, type RunnerManager } from '../inference/managers/index.js'
import type { PipelineName } from '../kernel/pipelines.js'
import type { Logger } from '../observability/logger.js'
import { encodeQuotePayment } from '../payments/job-payment.js'
import type { PaymentRecipient } from '../payments/index.js'
import type { LiveChannel, LiveStart } from '../protocols/live/index.js'
import type { PriceTable, WeiPrice } from './offers.js'
import { SessionEnd } from './session-payments.js'
import { anySignal } from '../signals/any-signal.js'

export interface SessionServiceComponents<Metrics, Options> {
  registrar: Pick<Libp2p, 'handle' | 'unhandle'>
  manager: RunnerManager
  prices: PriceTable
  /** undefined: an unpaid (private) mesh */
  recipient?: PaymentRecipient
  logger: Logger
  metrics?: Metrics
  options?: Partial<Options>
}

export interface SessionService {
  start: () => Promise<void>
  stop: () => Promise<void>
  /** sessions running now */
  readonly sessions: number
}

/** The session's first frame, which must be its start, within `timeoutMs`. */
export async function readSessionStart (channel: LiveChannel, signal: AbortSignal, timeoutMs: number): Promise<LiveStart> {
  const first = await channel.read({ signal: anySignal([signal, AbortSignal.timeout(timeoutMs)]) })
  if (first.type !== 'start') throw new SessionEnd('BAD_REQUEST', `the first frame must be start, not ${first.type}`)
  return first.start
}

/** A runner slot for the session, or the close code that says why there is none. */
export async function acquireSessionLease (manager: RunnerManager, pipeline: PipelineName, modelId: string, signal: AbortSignal): Promise<RunnerLease> {
  try {
    return await manager.acquire(pipeline, modelId, { signal })
  } catch (err) {
    if (err instanceof InsufficientCapacityError) throw new SessionEnd('INSUFFICIENT_CAPACITY', err.message)
    if (err instanceof UnsupportedModelError) throw new SessionEnd('UNSUPPORTED', err.message)
    throw new SessionEnd('RUNNER_FAILURE', (err as Error).message)
  }
}

/**
 * Tells the gateway the session started: the price (free where unpriced), the payment
 * interval, and for a paid session (`sender` known) fresh ticket params.
 */
export async function writeSessionStarted (channel: LiveChannel, started: { price: WeiPrice | undefined, paymentIntervalMs: number, recipient: PaymentRecipient | undefined, sender: string | undefined }, signal: AbortSignal): Promise<void> {
  const { price, recipient, sender } = started
  const quote = sender === undefined || recipient === undefined ? undefined : encodeQuotePayment(await recipient.ticketParams(sender, { signal }))
  await channel.write({
    type: 'started',
    started: {
      pricePerUnit: (price?.pricePerUnit ?? 0n).toString(),
      pixelsPerUnit: (price?.pixelsPerUnit ?? 1n).toString(),
      paymentIntervalMs: started.paymentIntervalMs,
      ...(quote === undefined ? {} : { quote })
    }
  }, { signal })
}
