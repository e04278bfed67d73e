/**
 * One live video session at the gateway: the client's input segments go to the current
 * orchestrator over `/shoal/live/1.0.0`, its output segments into a trickle channel that
 * clients subscribe to (and `subscribeOutput` for WebRTC playback). It pays by the
 * interval for the pixels it really received, swaps to another orchestrator when the
 * current one dies or stalls (a bounded number of times in a window), and keeps the last
 * runner status for `GET .../status`.
 */
import { feeFor } from '../../kernel/billing.js'
import type { Logger } from '../../observability/logger.js'
import { decodeQuotePayment, encodeJobPayment } from '../../payments/job-payment.js'
import type { Payment, PaymentSender, TicketParams } from '../../payments/index.js'
import { dialLiveChannel, LIVE_PROTOCOL, LiveStartError, startLiveSession, type DialProtocol, type LiveChannel, type LiveCloseCode, type LiveMessage } from '../../protocols/live/index.js'
import { inspectSegment } from '../../protocols/live/mpegts.js'
import type { TrickleChannel } from '../../protocols/live/trickle/channel.js'
import type { JsonValue } from '../../kernel/job.js'
import type { Candidate } from '../selection/index.js'
import { LiveInputError, LiveSessionError } from './errors.js'
import type { LiveSessionMedia } from './media.js'
import type { GatewayLiveMetrics } from './metrics.js'
import type { GatewayLiveOptions } from './options.js'
import { anySignal } from '../../signals/any-signal.js'

export const LIVE_PIPELINE = 'live-video-to-video'

export type LiveSessionState = 'starting' | 'running' | 'swapping' | 'stopped' | 'payment_required' | 'failed'

/** A session at a glance. */
export interface LiveSessionSummary {
  streamId: string
  modelId: string
  state: LiveSessionState
  /** why it ended, when it did */
  reason: string | null
  orchestrator: string | null
  startedAt: number
  firstSegmentMs: number | null
  fpsIn: number
  fpsOut: number
  segmentsIn: number
  segmentsOut: number
  segmentsInFlight: number
  weiPaid: bigint
  swaps: number
  lastError: string | null
  /** the runner's last reported state */
  runnerState: string | null
}

export interface LiveSessionDeps {
  dialProtocol: DialProtocol
  candidates: () => Candidate[]
  payments?: { sender: PaymentSender, identity: { address: string, binding: string } }
  output: TrickleChannel
  logger: Logger
  metrics?: GatewayLiveMetrics
  options: GatewayLiveOptions
  /** called once when the session has ended, whatever the reason */
  onEnd: () => void
}

export interface LiveSessionInit {
  streamId: string
  requestId: string
  modelId: string
  params: Record<string, JsonValue>
  /** a peer id the client asked for; only that one is used (no swap elsewhere) */
  orchestrator?: string
}

interface Attachment {
  peer: string
  channel: LiveChannel
  controller: AbortController
  /** input seq -> send time, for per-segment latency */
  pending: Array<{ seq: number, at: number }>
  /** the first input seq sent to it */
  baseSeq: number
  acked: number
  sent: number
  price: { pricePerUnit: bigint, pixelsPerUnit: bigint }
  params: TicketParams | null
  pixelsUnpaid: bigint
  /** pixels of the output it delivered (what it debits) */
  pixelsDelivered: bigint
  weiPaid: bigint
  /** what it holds of the prepayment was given back to the sender's credit estimate */
  settled: boolean
  lastActivity: number
}

/** The attached orchestrator closed the running session, or broke the protocol (INTERNAL). */
class AttachFailed extends Error {
  constructor (readonly code: LiveCloseCode, message: string) { super(message) }
}

export class GatewayLiveSession implements LiveSessionMedia {
  readonly streamId: string
  readonly requestId: string
  readonly modelId: string
  private params: Record<string, JsonValue>
  private readonly pinned: string | undefined
  private readonly deps: LiveSessionDeps
  private readonly log: Logger
  private current: Attachment | undefined
  private stateValue: LiveSessionState = 'starting'
  private readonly tried = new Set<string>()
  private readonly swaps: Array<{ at: number, from: string, to: string | null, reason: string }> = []
  private readonly errors: Array<{ at: number, message: string }> = []
  private lastEvent: Record<string, unknown> | null = null
  private inputSeq = 0
  private outputSeq = 0
  private framesIn = 0
  private framesOut = 0
  private pixelsOut = 0
  private weiPaid = 0n
  private readonly startedAt = Date.now()
  private firstOutputAt: number | undefined
  private readonly fpsWindow = { at: performance.now(), framesIn: 0, framesOut: 0, fpsIn: 0, fpsOut: 0 }
  private waiters: Array<() => void> = []
  private ending: Promise<void> | undefined
  private watchdog: ReturnType<typeof setInterval> | undefined
  private endReason: string | undefined

  constructor (init: LiveSessionInit, deps: LiveSessionDeps) {
    this.streamId = init.streamId
    this.requestId = init.requestId
    this.modelId = init.modelId
    this.params = init.params
    this.pinned = init.orchestrator
    this.deps = deps
    this.log = deps.logger.child({ stream: init.streamId, job: init.requestId })
  }

  get state (): LiveSessionState { return this.stateValue }
  get open (): boolean { return this.stateValue === 'starting' || this.stateValue === 'running' || this.stateValue === 'swapping' }

  /** Finds an orchestrator and starts the runner there; rejects with `LiveSessionError` when none can. */
  async start (signal: AbortSignal): Promise<void> {
    await this.attachSomewhere('start', signal)
    this.stateValue = 'running'
    this.deps.metrics?.sessions.inc()
    this.watchdog = setInterval(() => { this.checkStall() }, Math.max(250, Math.floor(this.deps.options.stallTimeoutMs / 4)))
  }

  private pickCandidates (): Candidate[] {
    const all = this.deps.candidates()
    if (this.pinned !== undefined) return all.filter(c => c.peerId === this.pinned)
    const fresh = all.filter(c => !this.tried.has(c.peerId))
    // free slots first, then cheaper, then random
    return fresh.sort((a, b) => (b.capacity - b.inUse > 0 ? 1 : 0) - (a.capacity - a.inUse > 0 ? 1 : 0) || Number(a.pricePerUnit * b.pixelsPerUnit - b.pricePerUnit * a.pixelsPerUnit) || Math.random() - 0.5)
  }

  private async attachSomewhere (reason: string, signal: AbortSignal): Promise<void> {
    const failures: string[] = []
    let candidates = this.pickCandidates()
    if (candidates.length === 0 && this.pinned === undefined && this.tried.size > 0) {
      // every orchestrator was tried once: try again those still listed, the failed one last
      this.tried.clear()
      if (this.current !== undefined) this.tried.add(this.current.peer)
      candidates = this.pickCandidates()
    }
    for (const candidate of candidates.slice(0, this.deps.options.maxAttempts)) {
      signal.throwIfAborted()
      this.tried.add(candidate.peerId)
      try {
        await this.attach(candidate, signal)
        this.log.info({ peer: candidate.peerId, reason }, 'live session attached')
        return
      } catch (err) {
        const message = `${candidate.peerId}: ${(err as Error).message}`
        failures.push(message)
        this.log.info({ peer: candidate.peerId, err: (err as Error).message }, 'live attach failed')
        if (err instanceof LiveStartError && err.failure === 'BAD_REQUEST') throw new LiveSessionError('LIVE_ERROR_BAD_REQUEST', (err as Error).message)
      }
    }
    throw new LiveSessionError('LIVE_ERROR_NO_ORCHESTRATOR', candidates.length === 0
      ? `no orchestrator serves ${LIVE_PIPELINE} ${this.modelId}${this.pinned !== undefined ? ` as ${this.pinned}` : ''}`
      : `no orchestrator could start ${LIVE_PIPELINE} ${this.modelId}: ${failures.join('; ')}`)
  }

  private async attach (candidate: Candidate, signal: AbortSignal): Promise<void> {
    const controller = new AbortController()
    const timeout = anySignal([signal, controller.signal, AbortSignal.timeout(this.deps.options.startTimeoutMs)])
    const channel = await dialLiveChannel(this.deps.dialProtocol, candidate.peerId, LIVE_PROTOCOL, timeout)
    const payments = this.deps.payments
    const attachment: Attachment = {
      peer: candidate.peerId,
      channel,
      controller,
      pending: [],
      baseSeq: this.inputSeq,
      acked: 0,
      sent: 0,
      price: { pricePerUnit: candidate.pricePerUnit, pixelsPerUnit: candidate.pixelsPerUnit },
      params: null,
      pixelsUnpaid: 0n,
      pixelsDelivered: 0n,
      weiPaid: 0n,
      settled: false,
      lastActivity: performance.now()
    }
    try {
      await startLiveSession(channel, {
        pipeline: LIVE_PIPELINE,
        modelId: this.modelId,
        params: JSON.stringify(this.params),
        streamId: this.streamId,
        requestId: this.requestId,
        ...(payments === undefined ? {} : { payment: encodeJobPayment({ sender: payments.identity.address, binding: payments.identity.binding, tickets: null }) })
      }, {
        signal: timeout,
        // ticket params, and the prepayment they ask for before any runner work: always answered
        onPayment: async (message) => { await this.pay(attachment, message, this.prepayPixels(), timeout, true) },
        onStarted: (started, price) => {
          attachment.price = price
          if (started.quote !== undefined) attachment.params = decodeQuotePayment(started.quote)
        }
      })
    } catch (err) {
      // a prepayment it took stays there as our credit
      this.settle(attachment)
      throw err
    }
    const previous = this.current
    this.current = attachment
    if (previous !== undefined) {
      previous.controller.abort()
      previous.channel.abort(new Error('swapped'))
      this.settle(previous)
    }
    void this.readLoop(attachment)
    this.wake()
  }

  /** pixels paid ahead, before any output is measured */
  private prepayPixels (): bigint {
    return BigInt(this.deps.options.prepayPixels)
  }

  /**
   * Pays `pixels` at the attachment's price when the orchestrator asks (its `payment`
   * frame: ticket params and our balance there). `answer`: the prepayment, which the
   * orchestrator waits for, so a frame is sent even when nothing is paid (no tickets).
   */
  private async pay (attachment: Attachment, message: Extract<LiveMessage, { type: 'payment' }>, pixels: bigint, signal: AbortSignal, answer = false): Promise<void> {
    const payments = this.deps.payments
    if (payments === undefined) return
    if (message.payment.quote !== undefined) attachment.params = decodeQuotePayment(message.payment.quote)
    const params = attachment.params
    if (params === null) return
    // before the session, our credit there is what it says (when lower than we think); later
    // its balance runs ahead of our payments by the pixels not yet paid for, so it is not adopted
    if (answer && /^-?\d{1,78}$/.test(message.payment.balance)) payments.sender.setCredit(params.recipient, BigInt(message.payment.balance))
    const fee = pixels > 0n ? feeFor(pixels, attachment.price) : 0n
    let paid: Payment | undefined
    if (fee > 0n && this.weiPaid + fee > this.deps.options.maxWeiPerSession) {
      this.log.info({ paid: this.weiPaid.toString(), fee: fee.toString() }, 'live session spending cap reached: no more tickets')
      this.recordError(`this gateway's per-session spending cap (${this.deps.options.maxWeiPerSession.toString()} wei) is reached`)
    } else if (fee > 0n) {
      paid = await payments.sender.paymentFor({ recipient: params.recipient, params, feeWei: fee }, { signal })
      attachment.pixelsUnpaid = attachment.pixelsUnpaid > pixels ? attachment.pixelsUnpaid - pixels : 0n
      attachment.weiPaid += fee
      this.weiPaid += fee
      this.deps.metrics?.paid.inc(Number(fee))
    }
    if (paid === undefined && !answer) return
    await attachment.channel.write({
      type: 'payment',
      payment: { payment: encodeJobPayment({ sender: payments.identity.address, binding: payments.identity.binding, tickets: paid?.batch ?? null }), balance: '0', pixels: 0 }
    }, { signal })
  }

  /**
   * An attachment ended: what it holds of our payments beyond the pixels it delivered (the
   * unused prepayment) is credit there, given back to the sender's estimate so the next
   * session or job there is paid from it.
   */
  private settle (a: Attachment): void {
    const payments = this.deps.payments
    if (payments === undefined || a.settled || a.params === null) return
    a.settled = true
    const unused = a.weiPaid - feeFor(a.pixelsDelivered, a.price)
    if (unused > 0n) payments.sender.refund(a.params.recipient, unused)
  }

  private async readLoop (a: Attachment): Promise<void> {
    const signal = a.controller.signal
    try {
      while (true) {
        const message = await a.channel.read({ signal })
        // progress is output or a segment taken: events alone do not show the runner keeps up
        if (message.type === 'output' || message.type === 'ack') a.lastActivity = performance.now()
        switch (message.type) {
          case 'output': this.onOutput(a, message.segment.data); break
          case 'ack': a.acked = Math.min(a.sent, Math.max(a.acked, message.ack.seq - a.baseSeq + 1)); this.wake(); break
          case 'event': this.onEvent(message.event.json); break
          case 'payment': await this.pay(a, message, a.pixelsUnpaid, signal).catch((err: unknown) => { this.recordError(`payment failed: ${(err as Error).message}`) }); break
          case 'close': throw new AttachFailed(message.close.code, message.close.message)
          default: throw new AttachFailed('INTERNAL', `unexpected ${message.type}`)
        }
      }
    } catch (err) {
      if (signal.aborted || this.current !== a) return
      const code = err instanceof AttachFailed ? err.code : 'UNREACHABLE'
      const message = (err as Error).message
      if (code === 'PAYMENT_REQUIRED') {
        this.recordError(`the orchestrator closed the session: payment required: ${message}`)
        await this.end('payment_required', message)
        return
      }
      if (code === 'OK' && !this.open) return
      await this.swap(`${code}: ${message}`)
    }
  }

  private onOutput (a: Attachment, data: Uint8Array): void {
    const info = inspectSegment(data)
    const frames = info?.frames ?? 0
    const pixels = info === undefined ? 0 : info.width * info.height * info.frames
    a.pixelsUnpaid += BigInt(pixels)
    a.pixelsDelivered += BigInt(pixels)
    this.pixelsOut += pixels
    this.framesOut += frames
    const segment = this.deps.output.publish(this.outputSeq++)
    segment.append(data)
    segment.finish()
    const sent = a.pending.shift()
    if (sent !== undefined) this.deps.metrics?.segmentLatency.observe((performance.now() - sent.at) / 1000)
    if (this.firstOutputAt === undefined) {
      this.firstOutputAt = Date.now()
      this.deps.metrics?.firstSegmentSeconds.observe((this.firstOutputAt - this.startedAt) / 1000)
    }
    this.deps.metrics?.frames.inc({ direction: 'out' }, frames)
    this.deps.metrics?.bytes.inc({ direction: 'out' }, data.byteLength)
  }

  private onEvent (json: string): void {
    try {
      this.lastEvent = JSON.parse(json) as Record<string, unknown>
      if (this.lastEvent.type === 'error' && typeof this.lastEvent.message === 'string') this.recordError(`runner: ${this.lastEvent.message}`)
    } catch {}
  }

  private recordError (message: string): void {
    // one entry for a condition that repeats every interval (the spending cap)
    const last = this.errors[this.errors.length - 1]
    if (last?.message === message) { last.at = Date.now(); return }
    this.errors.push({ at: Date.now(), message })
    if (this.errors.length > 10) this.errors.shift()
  }

  private wake (): void {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  /** An orchestrator with segments in flight and nothing heard for the stall timeout is swapped. */
  private checkStall (): void {
    const a = this.current
    if (a === undefined || this.stateValue !== 'running') return
    const inFlight = a.sent - a.acked
    const quiet = performance.now() - a.lastActivity
    if (inFlight > 0 && quiet > this.deps.options.stallTimeoutMs) {
      void this.swap(`STALLED: nothing from the orchestrator for ${Math.round(quiet)} ms with ${inFlight} segments in flight`)
    }
  }

  private async swap (reason: string): Promise<void> {
    if (this.stateValue !== 'running') return
    const from = this.current?.peer ?? ''
    this.log.info({ peer: from, reason }, 'live orchestrator lost: swapping')
    this.recordError(`orchestrator ${from}: ${reason}`)
    const now = Date.now()
    const recent = this.swaps.filter(s => now - s.at < this.deps.options.swapWindowMs)
    if (this.pinned !== undefined || recent.length >= this.deps.options.maxSwaps) {
      await this.end('failed', this.pinned !== undefined ? `the orchestrator asked for failed: ${reason}` : `${recent.length} swaps in ${this.deps.options.swapWindowMs} ms already: ${reason}`)
      return
    }
    this.stateValue = 'swapping'
    this.current?.controller.abort()
    this.current?.channel.abort(new Error('swapping'))
    if (this.current !== undefined) this.settle(this.current)
    try {
      await this.attachSomewhere('swap', AbortSignal.timeout(this.deps.options.startTimeoutMs * 2))
      this.swaps.push({ at: now, from, to: this.current?.peer ?? null, reason })
      this.deps.metrics?.swaps.inc({ result: 'ok' })
      this.stateValue = 'running'
      this.wake()
    } catch (err) {
      this.swaps.push({ at: now, from, to: null, reason })
      this.deps.metrics?.swaps.inc({ result: 'failed' })
      await this.end('failed', `no orchestrator to swap to: ${(err as Error).message}`)
    }
  }

  // LiveSessionMedia

  async publishInput (segment: Uint8Array, signal?: AbortSignal): Promise<void> {
    if (!this.open) throw new LiveSessionError('LIVE_ERROR_CLOSED', `stream ${this.streamId} is ${this.stateValue}`)
    if (segment.byteLength > this.deps.options.maxSegmentBytes) throw new LiveInputError('LIVE_INPUT_ERROR_TOO_LARGE', `segment of ${segment.byteLength} bytes is larger than ${this.deps.options.maxSegmentBytes}`)
    const info = inspectSegment(segment)
    if (info === undefined) throw new LiveInputError('LIVE_INPUT_ERROR_NOT_VIDEO', 'the segment is not MPEG-TS with a video stream')
    if (info.codec !== 'h264') throw new LiveInputError('LIVE_INPUT_ERROR_CODEC', `the segment's video is ${info.codec}; live video takes H.264`)
    // backpressure: wait while the orchestrator has too many segments in flight (or a swap is under way)
    while (true) {
      if (!this.open) throw new LiveSessionError('LIVE_ERROR_CLOSED', `stream ${this.streamId} is ${this.stateValue}`)
      const a = this.current
      if (a !== undefined && this.stateValue === 'running' && a.sent - a.acked < this.deps.options.maxSegmentsInFlight) break
      signal?.throwIfAborted()
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => { reject(signal?.reason) }
        const timer = setTimeout(resolve, 1_000)
        this.waiters.push(() => { clearTimeout(timer); signal?.removeEventListener('abort', onAbort); resolve() })
        signal?.addEventListener('abort', onAbort, { once: true })
      })
    }
    const a = this.current as Attachment
    const seq = this.inputSeq++
    // nothing was in flight: the stall clock starts now, not at the last output
    if (a.sent === a.acked) a.lastActivity = performance.now()
    a.sent++
    a.pending.push({ seq, at: performance.now() })
    if (a.pending.length > 64) a.pending.shift()
    this.framesIn += info.frames
    this.deps.metrics?.frames.inc({ direction: 'in' }, info.frames)
    this.deps.metrics?.bytes.inc({ direction: 'in' }, segment.byteLength)
    try {
      await a.channel.write({ type: 'input', segment: { seq, data: segment as Uint8Array<ArrayBuffer>, width: info.width, height: info.height, frames: info.frames } }, signal === undefined ? {} : { signal })
    } catch (err) {
      if (signal?.aborted === true) throw err
      // the orchestrator is gone: the read loop swaps; this segment is lost with it
    }
  }

  async * subscribeOutput (signal?: AbortSignal): AsyncIterable<Uint8Array> {
    let seq = this.deps.output.latest + 1
    while (true) {
      const found = await this.deps.output.lookup(seq, signal)
      if (found.kind === 'closed') return
      if (found.kind === 'gone') { seq = found.latest; continue }
      const data = await found.segment.bytesWhenDone(signal)
      seq = found.segment.seq + 1
      yield data
    }
  }

  async update (params: Record<string, JsonValue>): Promise<void> {
    if (!this.open) throw new LiveSessionError('LIVE_ERROR_CLOSED', `stream ${this.streamId} is ${this.stateValue}`)
    this.params = params
    await this.current?.channel.write({ type: 'control', control: { params: JSON.stringify(params) } }).catch(() => {})
  }

  /** fps in and out over the last second or more (the window moves when a second has passed) */
  private fps (): { fpsIn: number, fpsOut: number } {
    const now = performance.now()
    const w = this.fpsWindow
    if (now - w.at >= 1_000) {
      const seconds = (now - w.at) / 1000
      w.fpsIn = (this.framesIn - w.framesIn) / seconds
      w.fpsOut = (this.framesOut - w.framesOut) / seconds
      w.at = now
      w.framesIn = this.framesIn
      w.framesOut = this.framesOut
    }
    return { fpsIn: Math.round(w.fpsIn * 100) / 100, fpsOut: Math.round(w.fpsOut * 100) / 100 }
  }

  /** The session at a glance, typed (the dashboard's row). */
  summary (): LiveSessionSummary {
    const a = this.current
    const runnerState = this.lastEvent?.state
    return {
      streamId: this.streamId,
      modelId: this.modelId,
      state: this.stateValue,
      reason: this.endReason ?? null,
      orchestrator: a?.peer ?? null,
      startedAt: this.startedAt,
      firstSegmentMs: this.firstOutputAt === undefined ? null : this.firstOutputAt - this.startedAt,
      ...this.fps(),
      segmentsIn: this.inputSeq,
      segmentsOut: this.outputSeq,
      segmentsInFlight: a === undefined ? 0 : a.sent - a.acked,
      weiPaid: this.weiPaid,
      swaps: this.swaps.length,
      lastError: this.errors[this.errors.length - 1]?.message ?? null,
      runnerState: typeof runnerState === 'string' ? runnerState : null
    }
  }

  status (): Record<string, JsonValue> {
    const s = this.summary()
    return {
      stream_id: this.streamId,
      request_id: this.requestId,
      pipeline: LIVE_PIPELINE,
      model_id: this.modelId,
      state: this.stateValue,
      ...(this.endReason === undefined ? {} : { reason: this.endReason }),
      orchestrator: s.orchestrator,
      params: this.params,
      gateway: {
        fps_in: s.fpsIn,
        fps_out: s.fpsOut,
        segments_in: s.segmentsIn,
        segments_out: s.segmentsOut,
        frames_in: this.framesIn,
        frames_out: this.framesOut,
        pixels_out: this.pixelsOut,
        segments_in_flight: s.segmentsInFlight,
        // trickle subscribers of the output being served now (WHEP viewers are counted by the WebRTC metrics)
        subscribers: this.deps.output.subscribers,
        wei_paid: this.weiPaid.toString(),
        first_segment_ms: s.firstSegmentMs,
        started_at: this.startedAt,
        swaps: this.swaps.map(w => ({ at: w.at, from: w.from, to: w.to, reason: w.reason })),
        errors: this.errors.map(e => ({ at: e.at, message: e.message }))
      },
      runner: this.lastEvent as Record<string, JsonValue> | null
    }
  }

  /** Ends the session (idempotent): closes the orchestrator's stream and the output channel. */
  async end (state: Exclude<LiveSessionState, 'starting' | 'running' | 'swapping'> = 'stopped', reason?: string): Promise<void> {
    this.ending ??= (async () => {
      const wasRunning = this.open && this.stateValue !== 'starting'
      this.stateValue = state
      this.endReason = reason
      clearInterval(this.watchdog)
      const a = this.current
      if (a !== undefined) {
        a.controller.abort()
        if (a.channel.open) await a.channel.write({ type: 'close', close: { code: 'OK', message: reason ?? 'stopped by the client' } }).catch(() => {})
        await a.channel.close()
        this.settle(a)
      }
      this.deps.output.close()
      this.wake()
      if (wasRunning) this.deps.metrics?.sessions.dec()
      this.deps.metrics?.sessionsEnded.inc({ outcome: state })
      this.log.info({ state, reason }, 'live session ended')
      this.deps.onEnd()
    })()
    await this.ending
  }
}
