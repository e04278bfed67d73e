/**
 * One custom capability stream session at the gateway: a `/shoal/stream/1.0.0` stream to
 * the orchestrator running the app, the app's data messages kept in a bounded ring and
 * handed to the clients reading the data channel, params updates answered by the app,
 * and payment by the interval for the compute time the orchestrator reports (never more
 * than the time that has passed here). The session does not move to another
 * orchestrator: an app session holds state, and one lost ends the session.
 */
import { feeFor } from '../../kernel/billing.js'
import type { JsonValue } from '../../kernel/job.js'
import type { Logger } from '../../observability/logger.js'
import { decodeQuotePayment, encodeJobPayment } from '../../payments/job-payment.js'
import type { PaymentSender, TicketParams } from '../../payments/index.js'
import { dialLiveChannel, LiveStartError, startLiveSession, type DialProtocol, type LiveChannel, type LiveMessage } from '../../protocols/live/index.js'
import { parseStreamEvent, STREAM_PROTOCOL } from '../../protocols/stream/index.js'
import { StreamSessionError } from './errors.js'
import type { GatewayStreamMetrics } from './metrics.js'
import { anySignal } from '../../signals/any-signal.js'

export interface GatewayStreamOptions {
  /** stream sessions at once */
  maxSessions: number
  /** orchestrators tried per start */
  maxAttempts: number
  /** how long starting on one orchestrator may take (its app's start included) */
  startTimeoutMs: number
  /** compute time paid ahead, with the price per request, before the app starts */
  prepayMs: number
  /** how long the app has to answer an update */
  updateTimeoutMs: number
  /** the orchestrator may bill this much more compute time than has passed here (timers drift) */
  billingSlackMs: number
  /** data messages, and their bytes, kept for clients that join late or reconnect */
  keptMessages: number
  keptBytes: number
  /** a data channel client that falls this far behind is disconnected */
  maxSubscriberBufferBytes: number
  /** an ended session's status and last messages stay readable this long */
  keepEndedMs: number
}

export const defaultGatewayStreamOptions: GatewayStreamOptions = {
  maxSessions: 64,
  maxAttempts: 3,
  startTimeoutMs: 30_000,
  prepayMs: 10_000,
  updateTimeoutMs: 20_000,
  billingSlackMs: 2_000,
  keptMessages: 256,
  keptBytes: 4 * 1024 * 1024,
  maxSubscriberBufferBytes: 8 * 1024 * 1024,
  keepEndedMs: 300_000
}

/** An orchestrator announcing the capability as streaming, with its announced prices. */
export interface StreamCandidate {
  peerId: string
  pricePerUnit: bigint
  pixelsPerUnit: bigint
  pricePerRequest: bigint
  capacity: number
  /** slots taken, as the announcement says (all or none) */
  inUse: number
}

export interface StreamSessionDeps {
  dialProtocol: DialProtocol
  candidates: () => StreamCandidate[]
  payments?: { sender: PaymentSender, identity: { address: string, binding: string } }
  logger: Logger
  metrics?: GatewayStreamMetrics
  options: GatewayStreamOptions
  /** called once when the session has ended, whatever the reason */
  onEnd: () => void
}

export interface StreamSessionInit {
  streamId: string
  requestId: string
  capability: string
  params: Record<string, JsonValue>
  /** the client's limit on the session's length (the capability's own may be shorter) */
  maxDurationMs?: number
}

export type StreamSessionState = 'starting' | 'running' | 'stopped' | 'ended' | 'payment_required' | 'failed'

export interface DataMessage { seq: number, data: Uint8Array }

export interface StreamEnd { state: StreamSessionState, reason: string }

/** A client of the data channel: messages in order, then the end. */
export interface StreamSubscriber {
  message: (message: DataMessage) => void
  end: (end: StreamEnd) => void
}

/** The app's answer to an update. */
export interface UpdateAnswer { status: number, contentType: string, body: string }

interface Attachment {
  peer: string
  channel: LiveChannel
  price: { pricePerUnit: bigint, pixelsPerUnit: bigint }
  pricePerRequest: bigint
  params: TicketParams | null
  /** when the start was sent: the orchestrator cannot have billed longer than since */
  at: number
}

export class GatewayStreamSession {
  readonly streamId: string
  readonly requestId: string
  readonly capability: string
  private params: Record<string, JsonValue>
  private readonly deps: StreamSessionDeps
  private readonly log: Logger
  private readonly maxDurationMs: number | undefined
  private current: Attachment | undefined
  private stateValue: StreamSessionState = 'starting'
  private endReason: string | undefined
  private readonly createdAt = Date.now()
  private startedAt: number | undefined
  private endedAt: number | undefined
  private contentType: string | undefined
  private readonly ring: DataMessage[] = []
  private ringBytes = 0
  private nextSeq = 0
  private readonly subscribers = new Set<StreamSubscriber>()
  private readonly pendingUpdates = new Map<number, (answer: UpdateAnswer) => void>()
  private nextUpdateId = 0
  private computeMs = 0
  private chargedWei = 0n
  private paidWei = 0n
  private readonly errors: Array<{ at: number, message: string }> = []
  private readDone: Promise<void> = Promise.resolve()
  private timer: NodeJS.Timeout | undefined
  private ending: Promise<void> | undefined

  constructor (init: StreamSessionInit, deps: StreamSessionDeps) {
    this.streamId = init.streamId
    this.requestId = init.requestId
    this.capability = init.capability
    this.params = init.params
    this.maxDurationMs = init.maxDurationMs
    this.deps = deps
    this.log = deps.logger.child({ stream: init.streamId, job: init.requestId, capability: init.capability })
  }

  get state (): StreamSessionState { return this.stateValue }
  get open (): boolean { return this.stateValue === 'starting' || this.stateValue === 'running' }
  get orchestrator (): string | undefined { return this.current?.peer }

  /** Finds an orchestrator whose app starts the session; rejects with `StreamSessionError` when none does. */
  async start (signal: AbortSignal): Promise<void> {
    const failures: string[] = []
    // free slots first, then cheaper, then random
    const candidates = this.deps.candidates().sort((a, b) =>
      (b.capacity - b.inUse > 0 ? 1 : 0) - (a.capacity - a.inUse > 0 ? 1 : 0) ||
      Number(a.pricePerUnit * b.pixelsPerUnit - b.pricePerUnit * a.pixelsPerUnit) ||
      Math.random() - 0.5)
    for (const candidate of candidates.slice(0, this.deps.options.maxAttempts)) {
      signal.throwIfAborted()
      try {
        await this.attach(candidate, signal)
        if (this.maxDurationMs !== undefined) {
          this.timer = setTimeout(() => { void this.end('ended', `the session's timeout of ${this.maxDurationMs} ms passed`) }, this.maxDurationMs)
          this.timer.unref()
        }
        this.log.info({ peer: candidate.peerId }, 'stream session started')
        return
      } catch (err) {
        failures.push(`${candidate.peerId}: ${(err as Error).message}`)
        this.log.info({ peer: candidate.peerId, err: (err as Error).message }, 'stream start failed')
        // the app refused the params: another orchestrator's copy would too
        if (err instanceof LiveStartError && err.failure === 'BAD_REQUEST') throw new StreamSessionError('STREAM_ERROR_BAD_REQUEST', (err as Error).message)
      }
    }
    throw new StreamSessionError('STREAM_ERROR_NO_ORCHESTRATOR', candidates.length === 0
      ? `no orchestrator serves custom capability ${JSON.stringify(this.capability)} as a stream`
      : `no orchestrator could start custom capability ${JSON.stringify(this.capability)}: ${failures.join('; ')}`)
  }

  private async attach (candidate: StreamCandidate, signal: AbortSignal): Promise<void> {
    const timeout = anySignal([signal, AbortSignal.timeout(this.deps.options.startTimeoutMs)])
    const channel = await dialLiveChannel(this.deps.dialProtocol, candidate.peerId, STREAM_PROTOCOL, timeout)
    const payments = this.deps.payments
    const a: Attachment = {
      peer: candidate.peerId,
      channel,
      price: { pricePerUnit: candidate.pricePerUnit, pixelsPerUnit: candidate.pixelsPerUnit },
      pricePerRequest: candidate.pricePerRequest,
      params: null,
      at: performance.now()
    }
    await startLiveSession(channel, {
      pipeline: 'custom',
      modelId: this.capability,
      params: JSON.stringify(this.params),
      streamId: this.streamId,
      requestId: this.requestId,
      ...(payments === undefined ? {} : { payment: encodeJobPayment({ sender: payments.identity.address, binding: payments.identity.binding, tickets: null }) })
    }, {
      signal: timeout,
      onPayment: async (message) => {
        // ticket params and the credit the orchestrator holds (our estimate follows it): the
        // price per request and the prepaid time, before the app starts
        const balance = message.payment.balance
        if (payments !== undefined && message.payment.quote !== undefined && /^\d{1,78}$/.test(balance)) {
          const params = decodeQuotePayment(message.payment.quote)
          if (params !== null) payments.sender.setCredit(params.recipient, BigInt(balance))
        }
        await this.pay(a, message, a.pricePerRequest + this.prepayWei(a), timeout)
      },
      onStarted: (started, price) => {
        a.price = price
        if (started.quote !== undefined) a.params = decodeQuotePayment(started.quote)
      }
    })
    this.current = a
    // the app runs from here: its price per request is charged
    this.chargedWei += a.pricePerRequest
    this.stateValue = 'running'
    this.startedAt = Date.now()
    this.deps.metrics?.sessions.inc()
    // the app may end the session before the client hears it started: the end is kept
    this.readDone = this.readLoop(a)
  }

  /** The compute time paid ahead: kept at the orchestrator while the session runs (each interval pays what was billed). */
  private prepayWei (a: Pick<Attachment, 'price'>): bigint {
    return feeFor(BigInt(this.deps.options.prepayMs), a.price)
  }

  /** Pays `feeWei` (beyond the credit this gateway counts at the orchestrator) from the ticket params the frame carries, or the last ones. */
  private async pay (a: Attachment, message: Extract<LiveMessage, { type: 'payment' }>, feeWei: bigint, signal: AbortSignal): Promise<void> {
    const payments = this.deps.payments
    if (payments === undefined) return
    if (message.payment.quote !== undefined) a.params = decodeQuotePayment(message.payment.quote)
    const params = a.params
    if (params === null || feeWei <= 0n) return
    const payment = await payments.sender.paymentFor({ recipient: params.recipient, params, feeWei }, { signal })
    this.paidWei += feeWei
    this.deps.metrics?.paid.inc(Number(feeWei))
    if (payment.batch === null) return
    await a.channel.write({
      type: 'payment',
      payment: { payment: encodeJobPayment({ sender: payments.identity.address, binding: payments.identity.binding, tickets: payment.batch }), balance: '0', pixels: 0 }
    }, { signal })
  }

  private async readLoop (a: Attachment): Promise<void> {
    try {
      while (true) {
        const message = await a.channel.read()
        switch (message.type) {
          case 'output': this.onData(message.segment.data); break
          case 'event': this.onEvent(message.event.json); break
          case 'payment': await this.onBilled(a, message); break
          case 'close': {
            const state = message.close.code === 'OK' ? 'ended' : message.close.code === 'PAYMENT_REQUIRED' ? 'payment_required' : 'failed'
            void this.end(state, `${message.close.code === 'OK' ? '' : `${message.close.code}: `}${message.close.message}`, false)
            return
          }
          default: throw new Error(`unexpected ${message.type} frame`)
        }
      }
    } catch (err) {
      if (!this.open) return
      this.recordError(`orchestrator ${a.peer}: ${(err as Error).message}`)
      void this.end('failed', `the orchestrator's stream failed: ${(err as Error).message}`, false)
    }
  }

  /** The orchestrator's account: compute ms billed so far and the balance left; pays for what was billed since the last one. */
  private async onBilled (a: Attachment, message: Extract<LiveMessage, { type: 'payment' }>): Promise<void> {
    const billed = message.payment.pixels
    const elapsed = performance.now() - a.at
    if (!Number.isSafeInteger(billed) || billed < this.computeMs || billed > elapsed + this.deps.options.billingSlackMs) {
      throw new Error(`the orchestrator billed ${billed} ms of compute after ${Math.round(elapsed)} ms (${this.computeMs} ms before)`)
    }
    const fee = feeFor(BigInt(billed - this.computeMs), a.price)
    this.computeMs = billed
    this.chargedWei += fee
    if (this.stateValue !== 'running') return
    await this.pay(a, message, fee, AbortSignal.timeout(this.deps.options.startTimeoutMs)).catch((err: unknown) => { this.recordError(`payment failed: ${(err as Error).message}`) })
  }

  private onData (data: Uint8Array): void {
    const message: DataMessage = { seq: this.nextSeq++, data }
    this.ring.push(message)
    this.ringBytes += data.byteLength
    while (this.ring.length > this.deps.options.keptMessages || (this.ringBytes > this.deps.options.keptBytes && this.ring.length > 1)) {
      this.ringBytes -= this.ring.shift()?.data.byteLength ?? 0
    }
    this.deps.metrics?.messages.inc()
    for (const s of this.subscribers) s.message(message)
  }

  private onEvent (json: string): void {
    const event = parseStreamEvent(json)
    if (typeof event === 'string') { this.recordError(`orchestrator event: ${event}`); return }
    if (event.type === 'started') { this.contentType = event.content_type; return }
    const resolve = this.pendingUpdates.get(event.update_id)
    this.pendingUpdates.delete(event.update_id)
    resolve?.({ status: event.status, contentType: event.content_type, body: event.body })
  }

  private recordError (message: string): void {
    this.errors.push({ at: Date.now(), message })
    if (this.errors.length > 10) this.errors.shift()
  }

  /**
   * The data channel: the messages still kept (after `afterSeq`, a reconnecting client's
   * Last-Event-ID), then each new one, then the end. Returns the unsubscribe function.
   */
  subscribe (subscriber: StreamSubscriber, afterSeq = -1): () => void {
    for (const m of this.ring) if (m.seq > afterSeq) subscriber.message(m)
    if (!this.open) {
      subscriber.end(this.endInfo())
      return () => {}
    }
    this.subscribers.add(subscriber)
    this.deps.metrics?.subscribers.inc()
    return () => {
      if (this.subscribers.delete(subscriber)) this.deps.metrics?.subscribers.dec()
    }
  }

  /** Sends new params to the app; resolves with its answer. */
  async update (params: Record<string, JsonValue>, signal?: AbortSignal): Promise<UpdateAnswer> {
    const a = this.current
    if (!this.open || a === undefined) throw new StreamSessionError('STREAM_ERROR_ENDED', `stream session ${this.streamId} is ${this.stateValue}${this.endReason === undefined ? '' : `: ${this.endReason}`}`)
    const id = this.nextUpdateId++
    const answer = new Promise<UpdateAnswer>((resolve) => { this.pendingUpdates.set(id, resolve) })
    const limit = AbortSignal.timeout(this.deps.options.updateTimeoutMs)
    const stop = signal === undefined ? limit : anySignal([signal, limit])
    try {
      await a.channel.write({ type: 'control', control: { params: JSON.stringify({ update_id: id, params }) } }, { signal: stop })
      const result = await new Promise<UpdateAnswer>((resolve, reject) => {
        const onAbort = (): void => { reject(stop.reason) }
        stop.addEventListener('abort', onAbort, { once: true })
        void answer.then((value) => { stop.removeEventListener('abort', onAbort); resolve(value) })
      })
      if (result.status >= 200 && result.status < 300) this.params = params
      return result
    } catch (err) {
      if (limit.aborted) throw new StreamSessionError('STREAM_ERROR_TIMEOUT', `the app did not answer the update within ${this.deps.options.updateTimeoutMs} ms`)
      if (!this.open) throw new StreamSessionError('STREAM_ERROR_ENDED', `stream session ${this.streamId} ended: ${this.endReason ?? this.stateValue}`)
      throw err
    } finally {
      this.pendingUpdates.delete(id)
    }
  }

  private endInfo (): StreamEnd {
    return { state: this.stateValue, reason: this.endReason ?? '' }
  }

  status (): Record<string, JsonValue> {
    return {
      stream_id: this.streamId,
      request_id: this.requestId,
      capability: this.capability,
      state: this.stateValue,
      ...(this.endReason === undefined ? {} : { reason: this.endReason }),
      orchestrator: this.current?.peer ?? null,
      params: this.params,
      content_type: this.contentType ?? null,
      created_at: new Date(this.createdAt).toISOString(),
      started_at: this.startedAt === undefined ? null : new Date(this.startedAt).toISOString(),
      ended_at: this.endedAt === undefined ? null : new Date(this.endedAt).toISOString(),
      data_messages: this.nextSeq,
      subscribers: this.subscribers.size,
      // as the orchestrator billed it: milliseconds the app ran, and their price with the price per request
      compute_ms: this.computeMs,
      charged_wei: this.chargedWei.toString(),
      paid_wei: this.paidWei.toString(),
      errors: this.errors.map(e => ({ at: new Date(e.at).toISOString(), message: e.message }))
    }
  }

  /**
   * Ends the session (idempotent). Ended here, the orchestrator is told and its last
   * account (the compute time up to the stop) awaited briefly before the stream closes.
   */
  async end (state: Exclude<StreamSessionState, 'starting' | 'running'> = 'stopped', reason = 'stopped by the client', tell = true): Promise<void> {
    this.ending ??= (async () => {
      const wasRunning = this.stateValue === 'running'
      clearTimeout(this.timer)
      const a = this.current
      if (a !== undefined && tell && a.channel.open) {
        await a.channel.write({ type: 'close', close: { code: 'OK', message: reason } }, { signal: AbortSignal.timeout(1_000) }).catch(() => {})
        // its last payment frame (the final compute time), then its close
        await Promise.race([this.readDone, new Promise(resolve => { setTimeout(resolve, 2_000).unref() })])
      }
      this.stateValue = state
      this.endReason = reason
      this.endedAt = Date.now()
      if (a !== undefined) {
        await a.channel.close()
        // the time paid ahead was counted as spent: it is credit at the orchestrator again
        if (this.deps.payments !== undefined && a.params !== null && this.paidWei > 0n) this.deps.payments.sender.refund(a.params.recipient, this.prepayWei(a))
      }
      for (const s of this.subscribers) s.end(this.endInfo())
      this.deps.metrics?.subscribers.dec(this.subscribers.size)
      this.subscribers.clear()
      if (wasRunning) this.deps.metrics?.sessions.dec()
      this.deps.metrics?.sessionsEnded.inc({ outcome: state })
      this.log.info({ state, reason, computeMs: this.computeMs, chargedWei: this.chargedWei.toString() }, 'stream session ended')
      this.deps.onEnd()
    })()
    await this.ending
  }
}
