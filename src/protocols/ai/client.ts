import { randomUUID } from 'node:crypto'
import { setMaxListeners } from 'node:events'
import type { AbortOptions, PeerId } from '@libp2p/interface'
import { createJobError, DeadlineExceededError, JobError } from '../../kernel/job-outcome.js'
import { inputParts, isStreamed, type InferenceJob, type StreamedBytes } from '../../kernel/job.js'
import { silentLogger, type Logger } from '../../observability/logger.js'
import {
  decodeFinal,
  decodeHello,
  decodeProgress,
  decodeQuote,
  decodeResultHead,
  encodeEmpty,
  encodeJobHeader,
  encodeQuoteRequest,
  frameHeader,
  FrameType,
  frameTypeName,
  type AiQuote,
  type FinalMessage,
  type ModelLoad,
  type PaymentBytes,
  type ResultHeadMessage
} from './codec.js'
import {
  AI_PROTOCOL,
  DEFAULT_CANCEL_GRACE_MS,
  DEFAULT_CLIENT_IDLE_TIMEOUT_MS,
  DEFAULT_DEADLINE_GRACE_MS,
  DEFAULT_JOB_DEADLINE_MS,
  DEFAULT_MAX_IDLE_STREAMS_PER_PEER,
  DEFAULT_MAX_STREAMS_PER_PEER,
  DEFAULT_OPEN_TIMEOUT_MS,
  DEFAULT_QUOTE_MAX_AGE_MS,
  DEFAULT_QUOTE_WAIT_MS,
  FRAME_LIMITS,
  WIRE_VERSION
} from './constants.js'
import { AiJobAbortedError, AiProtocolError, jobErrorFromFinal, unreachableError } from './errors.js'
import type { Frame } from './frame-stream.js'
import { InputHasher, inputHash, ReceiptError, ResultHasher, verifyReceipt, type Receipt } from '../../trust/receipts/index.js'
import type {
  AiClient as AiClientApi,
  AiClientInit,
  AiDialProtocol,
  AiJobFinal,
  AiJobResult,
  AiRunJobOptions
} from './index.js'
import { pipelineLabel, type AiClientOutcome, type AiMetrics } from './metrics.js'
import { StreamPool, type PooledStream } from './pool.js'
import { anySignal } from '../../signals/any-signal.js'

/** Bytes of input written before waiting for the stream to drain (small jobs go out in one write). */
const UPLOAD_FLUSH_BYTES = 256 * 1024

/** A reused stream the server had already closed (idle timeout) before answering: try a fresh one. */
class StaleStreamError extends Error {}

/** `first-byte`: no ResultHead within `firstByteDeadlineMs` (the job is cancelled, the stream kept) */
type StopReason = 'caller' | 'deadline' | 'first-byte' | 'stopped'

/** What a client-side failure counts as in `shoal_ai_client_jobs_total`. */
function outcomeOf (err: unknown): AiClientOutcome {
  if (err instanceof AiJobAbortedError) return 'ABORTED'
  if (err instanceof JobError) return err.outcome
  return 'UNREACHABLE'
}

/** The gateway side of `/shoal/ai`: jobs over pooled persistent streams. */
export class AiClient implements AiClientApi {
  readonly protocol: string
  readonly [Symbol.toStringTag] = '@shoal/ai-client'
  readonly log: Logger
  readonly metrics: AiMetrics | null
  readonly pool: StreamPool
  readonly defaultDeadlineMs: number
  readonly deadlineGraceMs: number
  readonly cancelGraceMs: number
  readonly quoteMaxAgeMs: number
  readonly receipts: 'require' | 'verify'
  private readonly onLoadHook: ((peerId: string, loads: ModelLoad[]) => void) | undefined
  private stopController = AiClient.stopController()
  private started = true

  /** Every running job listens on the stop signal. */
  private static stopController (): AbortController {
    const controller = new AbortController()
    setMaxListeners(Infinity, controller.signal)
    return controller
  }

  constructor (dial: AiDialProtocol, init: AiClientInit) {
    this.protocol = init.protocol ?? AI_PROTOCOL
    this.log = (init.logger ?? silentLogger()).child({ component: 'ai-client' })
    this.metrics = init.metrics ?? null
    this.defaultDeadlineMs = init.defaultDeadlineMs ?? DEFAULT_JOB_DEADLINE_MS
    this.deadlineGraceMs = init.deadlineGraceMs ?? DEFAULT_DEADLINE_GRACE_MS
    this.cancelGraceMs = init.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS
    this.quoteMaxAgeMs = init.quoteMaxAgeMs ?? DEFAULT_QUOTE_MAX_AGE_MS
    this.onLoadHook = init.onLoad
    this.receipts = init.receipts ?? 'verify'
    this.pool = new StreamPool(dial, {
      protocol: this.protocol,
      maxStreamsPerPeer: init.maxStreamsPerPeer ?? DEFAULT_MAX_STREAMS_PER_PEER,
      maxIdleStreamsPerPeer: init.maxIdleStreamsPerPeer ?? DEFAULT_MAX_IDLE_STREAMS_PER_PEER,
      idleTimeoutMs: init.idleTimeoutMs ?? DEFAULT_CLIENT_IDLE_TIMEOUT_MS,
      openTimeoutMs: init.openTimeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS
    }, this.metrics, this.log)
  }

  get stopSignal (): AbortSignal {
    return this.stopController.signal
  }

  isStarted (): boolean {
    return this.started
  }

  async start (): Promise<void> {
    if (this.started) return
    this.started = true
    this.stopController = AiClient.stopController()
    this.pool.reopen()
  }

  /** Ends running jobs (their streams are reset) and closes pooled streams. */
  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    this.stopController.abort()
    this.pool.close()
  }

  async runJob (peerId: PeerId, job: InferenceJob, options: AiRunJobOptions = {}): Promise<AiJobResult> {
    if (!this.started) throw new AiJobAbortedError('ai client stopped')
    const deadlineMs = options.deadlineMs ?? this.defaultDeadlineMs
    if (!Number.isSafeInteger(deadlineMs) || deadlineMs < 1 || deadlineMs > FRAME_LIMITS.maxDeadlineMs) {
      throw createJobError('JOB_ERROR_BAD_REQUEST', `deadlineMs must be an integer in [1, ${FRAME_LIMITS.maxDeadlineMs}]`)
    }
    const firstByte = options.firstByteDeadlineMs
    if (firstByte !== undefined && (!Number.isSafeInteger(firstByte) || firstByte < 1)) {
      throw createJobError('JOB_ERROR_BAD_REQUEST', 'firstByteDeadlineMs must be a positive integer')
    }
    return await new ClientJob(this, peerId, job, options.requestId ?? randomUUID(), deadlineMs, options).run()
  }

  async getQuote (peerId: PeerId, options: AbortOptions & { maxAgeMs?: number } = {}): Promise<AiQuote & { maxInputBytes?: number }> {
    const signal = anySignal([options.signal ?? AbortSignal.timeout(DEFAULT_QUOTE_WAIT_MS), this.stopSignal])
    let pooled: PooledStream
    try {
      pooled = await this.pool.acquire(peerId, signal)
    } catch (err) {
      if (signal.aborted) throw new AiJobAbortedError('quote aborted', { cause: signal.reason })
      throw unreachableError(`cannot open ${this.protocol} to ${peerId.toString()}: ${(err as Error).message}`, { peerId: peerId.toString() }, err)
    }
    try {
      const quote = await this.quoteOf(pooled, options.maxAgeMs ?? this.quoteMaxAgeMs, signal)
      this.pool.release(pooled)
      return { ...quote, ...(pooled.hello !== undefined ? { maxInputBytes: pooled.hello.maxInputBytes } : {}) }
    } catch (err) {
      this.pool.drop(pooled, err as Error)
      if (signal.aborted) throw new AiJobAbortedError('quote aborted', { cause: signal.reason })
      throw unreachableError(`quote from ${peerId.toString()} failed: ${(err as Error).message}`, { peerId: peerId.toString() }, err)
    }
  }

  streamCount (peerId: PeerId): { open: number, idle: number } {
    return this.pool.count(peerId)
  }

  /** Hands live slots from a frame to `onLoad`. */
  onLoad (pooled: PooledStream, loads: ModelLoad[] | undefined): void {
    if (loads === undefined || this.onLoadHook === undefined) return
    try {
      this.onLoadHook(pooled.key, loads)
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'onLoad threw')
    }
  }

  /** Keeps a Quote frame's quote as the stream's. */
  onQuote (pooled: PooledStream, frame: Frame): AiQuote {
    const quote = decodeQuote(frame.payload)
    pooled.quote = { value: quote, at: Date.now() }
    this.onLoad(pooled, quote.load)
    return quote
  }

  /**
   * The stream's quote, refreshed when older than `maxAgeMs`: a fresh stream's Hello
   * carries one; otherwise a QuoteRequest asks for it. When `payer` names who will pay
   * for the stream's quote (once per stream), a QuoteRequest carries that, so the answer
   * can hold ticket params for it. Call only while no job reads.
   */
  async quoteOf (pooled: PooledStream, maxAgeMs: number, signal: AbortSignal, payer?: (quote: AiQuote) => PaymentBytes | undefined): Promise<AiQuote> {
    const read = async (): Promise<Frame> => {
      const frame = await pooled.frames.next({ signal: anySignal([signal, AbortSignal.timeout(DEFAULT_QUOTE_WAIT_MS)]) })
      if (frame === null) throw new AiProtocolError('AI_PROTOCOL_ERROR_UNEXPECTED_EOF', 'stream closed while waiting for a quote')
      return frame
    }
    if (pooled.hello === undefined) {
      const frame = await read()
      if (frame.type !== FrameType.HELLO) throw new AiProtocolError('AI_PROTOCOL_ERROR_UNEXPECTED_FRAME', `expected Hello, got ${frameTypeName(frame.type) ?? frame.type}`)
      this.onHello(pooled, frame)
    }
    const fresh = pooled.quote !== undefined && Date.now() - pooled.quote.at < maxAgeMs
    let payment: PaymentBytes | undefined
    if (payer !== undefined && !pooled.payerSent && pooled.quote !== undefined) {
      payment = payer(pooled.quote.value)
      if (payment !== undefined) pooled.payerSent = true
    }
    if (fresh && payment === undefined) return (pooled.quote as { value: AiQuote }).value
    pooled.frames.write(encodeQuoteRequest(payment === undefined ? {} : { payment }))
    const frame = await read()
    if (frame.type === FrameType.QUOTE) return this.onQuote(pooled, frame)
    throw new AiProtocolError('AI_PROTOCOL_ERROR_UNEXPECTED_FRAME', `expected Quote, got ${frameTypeName(frame.type) ?? frame.type}`)
  }

  onHello (pooled: PooledStream, frame: Frame): void {
    if (pooled.hello !== undefined) throw new AiProtocolError('AI_PROTOCOL_ERROR_UNEXPECTED_FRAME', 'second Hello on a stream')
    const hello = decodeHello(frame.payload)
    if (hello.version !== WIRE_VERSION) throw new AiProtocolError('AI_PROTOCOL_ERROR_MALFORMED_FRAME', `Hello version ${hello.version}, expected ${WIRE_VERSION}`)
    pooled.hello = hello
    pooled.quote = { value: { prices: hello.prices, payment: hello.payment, ...(hello.load !== undefined ? { load: hello.load } : {}) }, at: Date.now() }
    this.onLoad(pooled, hello.load)
  }
}

/**
 * One `runJob` call: acquire a stream, send header and input (with backpressure) while
 * reading the answer, hand the body to the caller, give the stream back after Final.
 */
class ClientJob {
  private readonly controller = new AbortController()
  private readonly signal = this.controller.signal
  private readonly started = performance.now()
  private readonly pipeline: string
  private readonly finalResolvers = Promise.withResolvers<AiJobFinal>()
  private stopReason: StopReason | undefined
  private deadlineTimer: NodeJS.Timeout | undefined
  private firstByteTimer: NodeJS.Timeout | undefined
  private unlink: () => void = () => {}
  private settled = false
  private pooled: PooledStream | undefined
  private upload: Promise<void> = Promise.resolve()
  private uploadStop = false
  private uploadOk = false
  private cancelSent = false
  private headerSent = false
  /** a `next()` (or quote read) on the stream is pending: it will see an abort itself */
  private reading = false
  private failure: Error | undefined
  /** the ResultHead, for checking the signed receipt */
  private head: ResultHeadMessage | undefined
  private readonly resultHash = new ResultHasher()
  /** the input hash of a job with a streamed input, computed as it was sent (its bytes are not kept) */
  private streamedInputHash: ReturnType<InputHasher['digest']> | undefined
  /** the hash of a job whose inputs are all in memory, made once it has gone out */
  private sentInputHash: ReturnType<InputHasher['digest']> | undefined

  constructor (
    private readonly client: AiClient,
    private readonly peerId: PeerId,
    private readonly job: InferenceJob,
    private readonly requestId: string,
    private readonly deadlineMs: number,
    private readonly options: AiRunJobOptions
  ) {
    this.pipeline = pipelineLabel(job.pipeline)
    this.finalResolvers.promise.catch(() => {})
  }

  async run (): Promise<AiJobResult> {
    this.link()
    try {
      for (let attempt = 0; ; attempt++) {
        const pooled = await this.acquire()
        try {
          return await this.runOn(pooled)
        } catch (err) {
          // a streamed input is sent again only while it can be read from the start
          if (err instanceof StaleStreamError && attempt === 0 && this.job.inputs.every(i => !isStreamed(i.data) || i.data.replayable)) continue
          throw err
        }
      }
    } catch (err) {
      const mapped = err instanceof StaleStreamError ? unreachableError('stream closed before any answer', this.details()) : err as Error
      this.settle(outcomeOf(mapped), mapped)
      throw mapped
    }
  }

  /** Ties the job's signal to the caller's, the client's stop and the deadline. */
  private link (): void {
    const stopOn = (reason: StopReason) => () => {
      if (this.signal.aborted) return
      this.stopReason = reason
      this.controller.abort(reason === 'caller' ? this.options.signal?.reason : new Error(reason))
    }
    const onCaller = stopOn('caller')
    const onStopped = stopOn('stopped')
    this.options.signal?.addEventListener('abort', onCaller, { once: true })
    this.client.stopSignal.addEventListener('abort', onStopped, { once: true })
    this.deadlineTimer = setTimeout(stopOn('deadline'), this.deadlineMs + this.client.deadlineGraceMs)
    if (this.options.firstByteDeadlineMs !== undefined) this.firstByteTimer = setTimeout(stopOn('first-byte'), this.options.firstByteDeadlineMs)
    this.unlink = () => {
      this.options.signal?.removeEventListener('abort', onCaller)
      this.client.stopSignal.removeEventListener('abort', onStopped)
      clearTimeout(this.deadlineTimer)
      clearTimeout(this.firstByteTimer)
    }
    // nobody reads while the caller holds the body or a payment hook runs: act here
    this.signal.addEventListener('abort', () => {
      if (!this.reading && this.pooled !== undefined && !this.settled) this.fail(this.signal.reason)
    }, { once: true })
    if (this.options.signal?.aborted === true) onCaller()
  }

  /** `next()` on the job's stream, marked as a pending read. */
  private async next (pooled: PooledStream): Promise<Frame | null> {
    this.reading = true
    try {
      return await pooled.frames.next({ signal: this.signal })
    } finally {
      this.reading = false
    }
  }

  private details (): Record<string, unknown> {
    return { peerId: this.peerId.toString(), requestId: this.requestId }
  }

  /** The error for a stopped job, by why it stopped. */
  private stoppedError (): Error {
    if (this.stopReason === 'deadline') return new DeadlineExceededError(`no answer within the deadline of ${this.deadlineMs} ms`, { ...this.details(), phase: 'total' })
    if (this.stopReason === 'first-byte') {
      return new DeadlineExceededError(`no result within the first-byte deadline of ${String(this.options.firstByteDeadlineMs)} ms`, { ...this.details(), phase: 'first-byte' })
    }
    if (this.stopReason === 'stopped') return new AiJobAbortedError('ai client stopped')
    return new AiJobAbortedError('job aborted', { cause: this.options.signal?.reason })
  }

  private async acquire (): Promise<PooledStream> {
    try {
      return await this.client.pool.acquire(this.peerId, this.signal)
    } catch (err) {
      if (this.signal.aborted) throw this.stoppedError()
      throw unreachableError(`cannot open ${this.client.protocol} to ${this.peerId.toString()}: ${(err as Error).message}`, this.details(), err)
    }
  }

  private async runOn (pooled: PooledStream): Promise<AiJobResult> {
    this.pooled = pooled
    const reused = pooled.jobs > 0
    pooled.jobs++
    this.uploadStop = false
    this.uploadOk = false
    let payment: PaymentBytes | null = null
    if (this.options.payment !== undefined) {
      let quote: AiQuote
      this.reading = true
      try {
        quote = await this.client.quoteOf(pooled, this.options.quoteMaxAgeMs ?? this.client.quoteMaxAgeMs, this.signal, this.options.payer)
      } catch (err) {
        throw this.fail(err)
      } finally {
        this.reading = false
      }
      try {
        payment = await this.options.payment(quote)
      } catch (err) {
        // our own hook failed: the stream is untouched
        if (this.failure !== undefined) throw this.failure
        this.client.pool.release(pooled)
        throw err
      }
      if (this.failure !== undefined) throw this.failure
    }
    const total = this.job.inputs.reduce((sum, input) => sum + input.data.byteLength, 0)
    if (pooled.hello !== undefined && total > pooled.hello.maxInputBytes) {
      this.client.pool.release(pooled)
      throw createJobError('BAD_REQUEST', `input of ${total} bytes exceeds the orchestrator's limit of ${pooled.hello.maxInputBytes} bytes`, this.details())
    }
    try {
      pooled.frames.write(encodeJobHeader({
        requestId: this.requestId,
        pipeline: this.job.pipeline,
        modelId: this.job.modelId,
        params: this.job.params,
        deadlineMs: this.deadlineMs,
        inputs: this.job.inputs.map(input => ({ field: input.field, filename: input.filename, contentType: input.contentType, size: input.data.byteLength })),
        payment
      }))
      this.headerSent = true
    } catch (err) {
      // a header over the control frame limit: our caller's fault, the stream is untouched
      this.client.pool.release(pooled)
      throw createJobError('JOB_ERROR_BAD_REQUEST', (err as Error).message, this.details(), { cause: err })
    }
    this.upload = this.uploadInputs(pooled)
    // the receipt check needs the job's hash: made while the orchestrator works, not after
    // its Final. An immediate runs after the frames' flush (queued by the first write).
    if (!this.job.inputs.some(i => isStreamed(i.data))) setImmediate(() => { this.sentInputHash ??= inputHash(this.job) })
    let answered = false
    while (true) {
      let frame: Frame | null
      try {
        frame = await this.next(pooled)
      } catch (err) {
        throw this.fail(err)
      }
      if (frame === null) {
        if (reused && !answered && !this.signal.aborted) {
          this.client.pool.drop(pooled, new Error('stream closed before any answer'))
          throw new StaleStreamError()
        }
        throw this.fail(new AiProtocolError('AI_PROTOCOL_ERROR_UNEXPECTED_EOF', 'orchestrator closed the stream before Final'))
      }
      answered = true
      try {
        const head = await this.onFrameBeforeHead(pooled, frame)
        if (head !== undefined) {
          this.head = head
          clearTimeout(this.firstByteTimer)
          this.client.metrics?.clientTimeToHead.observe({ pipeline: this.pipeline }, (performance.now() - this.started) / 1000)
          return {
            status: head.status,
            contentType: head.contentType,
            body: this.body(pooled),
            requestId: this.requestId,
            peerId: this.peerId.toString(),
            final: this.finalResolvers.promise
          }
        }
      } catch (err) {
        throw this.fail(err)
      }
    }
  }

  /** Handles one frame before ResultHead; returns the head when it arrives, throws on an error Final. */
  private async onFrameBeforeHead (pooled: PooledStream, frame: Frame): Promise<ResultHeadMessage | undefined> {
    switch (frame.type) {
      case FrameType.HELLO: this.client.onHello(pooled, frame); return undefined
      case FrameType.QUOTE: this.client.onQuote(pooled, frame); return undefined
      case FrameType.PROGRESS: this.progress(frame); return undefined
      case FrameType.RESULT_HEAD: return decodeResultHead(frame.payload)
      case FrameType.FINAL: {
        const final = decodeFinal(frame.payload)
        this.client.onLoad(pooled, final.load)
        if (final.code === 'OK' || final.code === 'CANCELLED') {
          throw new AiProtocolError('AI_PROTOCOL_ERROR_UNEXPECTED_FRAME', `Final ${final.code} before ResultHead`)
        }
        // the server refused early: stop uploading (InputEnd tells it where the input ends)
        this.uploadStop = true
        // we still own the stream until the upload has wound down: an abort now must not Cancel
        this.reading = true
        try {
          await this.upload
        } finally {
          this.reading = false
        }
        if (this.uploadOk) this.client.pool.release(pooled)
        else this.client.pool.drop(pooled, new Error('upload failed'))
        throw new FinalError(final)
      }
      default:
        throw new AiProtocolError('AI_PROTOCOL_ERROR_UNEXPECTED_FRAME', `${frameTypeName(frame.type) ?? frame.type} before ResultHead`)
    }
  }

  private progress (frame: Frame): void {
    const progress = decodeProgress(frame.payload)
    try {
      this.options.onProgress?.(progress)
    } catch (err) {
      this.client.log.warn({ err: (err as Error).message }, 'onProgress threw')
    }
  }

  /** Streams ResultChunks to the caller until Final. */
  private async * body (pooled: PooledStream): AsyncGenerator<Uint8Array, void, undefined> {
    let done = false
    try {
      while (true) {
        if (this.failure !== undefined) { done = true; throw this.failure }
        let frame: Frame | null
        try {
          frame = await this.next(pooled)
          if (frame === null) throw new AiProtocolError('AI_PROTOCOL_ERROR_UNEXPECTED_EOF', 'orchestrator closed the stream before Final')
        } catch (err) {
          done = true
          throw this.fail(err)
        }
        let final: FinalMessage | undefined
        try {
          switch (frame.type) {
            case FrameType.RESULT_CHUNK: break
            case FrameType.PROGRESS: this.progress(frame); continue
            case FrameType.QUOTE: this.client.onQuote(pooled, frame); continue
            case FrameType.FINAL: final = decodeFinal(frame.payload); this.client.onLoad(pooled, final.load); break
            default: throw new AiProtocolError('AI_PROTOCOL_ERROR_UNEXPECTED_FRAME', `${frameTypeName(frame.type) ?? frame.type} after ResultHead`)
          }
        } catch (err) {
          done = true
          throw this.fail(err)
        }
        if (final === undefined) {
          const chunk = frame.payload.subarray()
          this.resultHash.update(chunk)
          yield chunk
          continue
        }
        done = true
        this.client.pool.release(pooled)
        if (final.code === 'OK') {
          let signedReceipt: Receipt | undefined
          try {
            signedReceipt = await this.checkReceipt(final)
          } catch (err) {
            // the stream is sound (Final arrived) but the orchestrator's account is not
            const receiptError = err as ReceiptError
            this.client.metrics?.clientReceipts.inc({ result: receiptError.code.replace('RECEIPT_ERROR_', '') })
            const mapped = unreachableError(`orchestrator's receipt refused: ${receiptError.message}`, { ...this.details(), receipt: receiptError.code }, receiptError)
            this.failure = mapped
            this.settle('UNREACHABLE', mapped)
            throw mapped
          }
          this.settle('OK')
          this.finalResolvers.resolve({
            ...(final.units !== undefined ? { units: final.units } : {}),
            ...(final.receipt !== undefined ? { receipt: final.receipt } : {}),
            ...(signedReceipt !== undefined ? { signedReceipt } : {})
          })
          return
        }
        const err = this.fail(new FinalError(final))
        throw err
      }
    } finally {
      // the caller broke out of the loop early: tell the orchestrator to stop
      if (!done) this.abandon()
    }
  }

  /**
   * The Final's signed receipt, checked against the peer dialed, the job sent and the
   * bytes received; throws `ReceiptError`. Absent: undefined, unless receipts are required.
   */
  private async checkReceipt (final: FinalMessage): Promise<Receipt | undefined> {
    if (final.signedReceipt === undefined) {
      if (this.client.receipts === 'require') throw new ReceiptError('RECEIPT_ERROR_MISSING', 'no signed receipt in the Final')
      return undefined
    }
    const receipt = await verifyReceipt(final.signedReceipt, {
      orchestrator: this.peerId.toString(),
      expect: {
        requestId: this.requestId,
        pipeline: this.job.pipeline,
        modelId: this.job.modelId,
        inputHash: this.streamedInputHash ?? this.sentInputHash ?? inputHash(this.job),
        resultHash: this.resultHash.digest(),
        resultBytes: this.resultHash.bytes,
        ...(this.head !== undefined ? { status: this.head.status } : {}),
        ...(final.units !== undefined ? { units: final.units } : {})
      }
    })
    this.client.metrics?.clientReceipts.inc({ result: 'valid' })
    return receipt
  }

  /** The caller stopped reading the body: Cancel (as if aborted), settle as ABORTED. */
  private abandon (): void {
    if (this.settled) return
    if (!this.signal.aborted) {
      this.stopReason = 'caller'
      this.controller.abort(new Error('body abandoned'))
    }
    this.fail(this.signal.reason)
  }

  /**
   * Turns whatever ended the job into the error to throw, and leaves the stream in a
   * known state: reused after Final, cancelled and drained in the background after an
   * abort, reset otherwise.
   */
  private fail (err: unknown): Error {
    if (this.failure !== undefined) return this.failure
    const pooled = this.pooled
    let mapped: Error
    if (err instanceof FinalError) {
      mapped = jobErrorFromFinal(err.final.code as Exclude<typeof err.final.code, 'OK' | 'CANCELLED'>, err.final.message, this.details())
    } else if (this.signal.aborted) {
      mapped = this.stoppedError()
      if (pooled !== undefined && !pooled.dropped) {
        // the orchestrator is told to stop (its runner call is aborted) and the stream kept
        if ((this.stopReason === 'caller' || this.stopReason === 'first-byte') && pooled.frames.usable) this.cancel(pooled)
        else this.client.pool.drop(pooled, mapped)
      }
    } else if (err instanceof AiProtocolError) {
      this.client.metrics?.streamErrors.inc({ side: 'client', reason: err.code.replace('AI_PROTOCOL_ERROR_', '') })
      if (pooled !== undefined) this.client.pool.drop(pooled, err)
      mapped = unreachableError(`orchestrator broke the protocol: ${err.message}`, this.details(), err)
    } else {
      if (pooled?.frames.stream.status === 'reset') this.client.metrics?.streamErrors.inc({ side: 'client', reason: 'reset' })
      if (pooled !== undefined) this.client.pool.drop(pooled, err as Error)
      mapped = unreachableError(`stream to orchestrator failed: ${(err as Error)?.message ?? String(err)}`, this.details(), err)
    }
    this.failure = mapped
    this.settle(outcomeOf(mapped), mapped)
    return mapped
  }

  /** Sends Cancel and waits (in the background, bounded) for the Final that frees the stream. */
  private cancel (pooled: PooledStream): void {
    if (!this.headerSent) { this.client.pool.release(pooled); return }
    this.uploadStop = true
    this.cancelSent = true
    pooled.frames.write(encodeEmpty(FrameType.CANCEL))
    pooled.frames.flush()
    const grace = AbortSignal.timeout(this.client.cancelGraceMs)
    const answer = (async () => {
      while (true) {
        const frame = await pooled.frames.next({ signal: grace })
        if (frame === null) throw new Error('stream closed after Cancel')
        if (frame.type === FrameType.FINAL) {
          const final = decodeFinal(frame.payload)
          this.client.onLoad(pooled, final.load)
          return final
        }
      }
    })().then(
      (final) => { this.client.pool.release(pooled); return final },
      (err) => { this.client.pool.drop(pooled, err instanceof Error ? err : new Error('no Final after Cancel')); return undefined }
    )
    try {
      this.options.onCancel?.(answer)
    } catch (err) {
      this.client.log.warn({ err: (err as Error).message }, 'onCancel threw')
    }
  }

  /**
   * Input chunks of at most one data frame each, then InputEnd; waits for drain every
   * 256 KiB. A streamed input is sent as it is read (and hashed on the way, for the
   * receipt); one that fails or ends short of its declared size ends the job.
   */
  private async uploadInputs (pooled: PooledStream): Promise<void> {
    const max = FRAME_LIMITS.maxDataFrameBytes
    const hasher = this.job.inputs.some(i => isStreamed(i.data)) ? new InputHasher(this.job) : undefined
    try {
      for (const input of this.job.inputs) {
        const data = input.data
        hasher?.input(input)
        if (isStreamed(data)) {
          if (!await this.uploadStreamed(pooled, data, hasher as InputHasher)) return
          continue
        }
        for (let offset = 0; offset < data.byteLength; offset += max) {
          if (this.uploadStop) break
          const end = Math.min(offset + max, data.byteLength)
          pooled.frames.write(frameHeader(FrameType.INPUT_CHUNK, end - offset))
          // an input that came over /shoal/ai (a job relayed to a worker) is a list: send its parts, uncopied
          const slice = data instanceof Uint8Array ? data.subarray(offset, end) : data.sublist(offset, end)
          for (const part of inputParts(slice)) {
            pooled.frames.write(part)
            hasher?.update(part)
          }
          this.client.metrics?.clientInputBytes.inc(end - offset)
          if (pooled.frames.pendingBytes >= UPLOAD_FLUSH_BYTES || pooled.frames.needsDrain) {
            await pooled.frames.drained({ signal: this.signal })
          }
        }
      }
      if (!this.cancelSent) pooled.frames.write(encodeEmpty(FrameType.INPUT_END))
      this.uploadOk = !this.cancelSent
      if (hasher !== undefined && !this.uploadStop) this.streamedInputHash = hasher.digest()
    } catch {
      // the reader sees the same failure (reset, abort) and reports it
    }
  }

  /** Sends a streamed input as it is read; false when it failed or ended short (the job is aborted). */
  private async uploadStreamed (pooled: PooledStream, data: StreamedBytes, hasher: InputHasher): Promise<boolean> {
    const max = FRAME_LIMITS.maxDataFrameBytes
    let sent = 0
    try {
      for await (const chunk of data.read(this.signal)) {
        if (this.uploadStop) return true
        if (sent + chunk.byteLength > data.byteLength) throw new Error(`the input is longer than its declared ${data.byteLength} bytes`)
        for (let offset = 0; offset < chunk.byteLength; offset += max) {
          const part = chunk.subarray(offset, Math.min(offset + max, chunk.byteLength))
          pooled.frames.write(frameHeader(FrameType.INPUT_CHUNK, part.byteLength))
          pooled.frames.write(part)
          hasher.update(part)
          this.client.metrics?.clientInputBytes.inc(part.byteLength)
          if (pooled.frames.pendingBytes >= UPLOAD_FLUSH_BYTES || pooled.frames.needsDrain) await pooled.frames.drained({ signal: this.signal })
        }
        sent += chunk.byteLength
      }
      if (sent !== data.byteLength && !this.uploadStop) throw new Error(`the input ended after ${sent} of its declared ${data.byteLength} bytes`)
      return true
    } catch (err) {
      // the source failed (the HTTP client went away, or the input cannot be read again): the job cannot go on
      if (!this.signal.aborted) {
        this.stopReason = 'caller'
        this.controller.abort(err)
      }
      return false
    }
  }

  /** Once per job: timers off, metrics recorded, `final` rejected on failure. */
  private settle (outcome: AiClientOutcome, err?: Error): void {
    if (this.settled) return
    this.settled = true
    this.unlink()
    const metrics = this.client.metrics
    metrics?.clientJobs.inc({ pipeline: this.pipeline, outcome })
    metrics?.clientJobDuration.observe({ pipeline: this.pipeline }, (performance.now() - this.started) / 1000)
    if (err !== undefined) this.finalResolvers.reject(err)
  }
}

/** An error Final, carried from where it is read to `fail`. */
class FinalError extends Error {
  constructor (readonly final: FinalMessage) {
    super(final.message ?? final.code)
  }
}
