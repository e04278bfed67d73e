import type { PeerId, Stream } from '@libp2p/interface'
import type { InferenceJob, JobInput } from '../../kernel/job.js'
import { isPipelineName } from '../../kernel/pipelines.js'
import type { Logger } from '../../observability/logger.js'
import {
  checkedQuote,
  decodeJobHeader,
  decodeQuoteRequest,
  encodeFinal,
  encodeHello,
  encodeProgress,
  encodeQuote,
  encodeResultHead,
  frameHeader,
  FrameType,
  frameTypeName,
  type AiQuote,
  type FinalMessage,
  type JobHeaderMessage,
  type ModelLoad,
  type PaymentBytes
} from './codec.js'
import { FRAME_LIMITS, WIRE_VERSION, type FinalErrorCode } from './constants.js'
import { AiProtocolError, finalCodeOf } from './errors.js'
import { raceSignal } from '../../signals/race-signal.js'
import { FrameStream, type Frame } from './frame-stream.js'
import { isRefusal, type BudgetReservation, type InputBudget } from './budget.js'
import type { AiExecutionResult, AiExecutor, AiQuoteFn, AiReceiptSigner } from './index.js'
import { inputHash, ResultHasher, signReceipt } from '../../trust/receipts/index.js'
import { pipelineLabel, type AiMetrics } from './metrics.js'
import { anySignal } from '../../signals/any-signal.js'

export interface SessionDeps {
  executor: AiExecutor
  quote: AiQuoteFn
  logger: Logger
  metrics: AiMetrics | null
  maxInputBytes: number
  idleTimeoutMs: number
  /** the node's memory budget for inputs, shared by all sessions */
  budget: InputBudget
  /** an upload with no InputChunk for this long is ended (Final DEADLINE_EXCEEDED, then a reset) */
  inputIdleTimeoutMs: number
  quoteTimeoutMs: number
  /** live slots per (pipeline, model), sent in Hello, Quote and Final; absent: no `load` fields */
  load?: () => ModelLoad[]
  /** deadlines asked for beyond this are cut to it */
  maxDeadlineMs: number
  /** aborts when the service stops */
  shutdown: AbortSignal
  /** signs a receipt into every OK Final */
  receipts?: AiReceiptSigner
}

/** Why a job's signal aborted; decides the Final code (none when the client is gone). */
class JobStop extends Error {
  constructor (readonly code: FinalErrorCode | 'GONE', message: string) {
    super(message)
  }
}

/** Result bytes written before waiting for the stream to drain (small results leave with their Final). */
const FLUSH_BYTES = 256 * 1024
/** Closing a stream we idled out: give the client this long to close its side. */
const CLOSE_GRACE_MS = 5_000
const EMPTY_QUOTE: AiQuote = { prices: [], payment: null }

/** One job on a stream, from its JobHeader to its Final. */
class ServerJob {
  readonly controller = new AbortController()
  readonly started = performance.now()
  /** epoch ms, for the signed receipt */
  readonly startedAt = Date.now()
  readonly deadline: number
  readonly total: number
  /**
   * Each input copied into one buffer of its declared size, allocated when its first
   * byte arrives. Keeping the frame payloads themselves would spread many 64 KiB
   * allocations across the C heap, which the allocator cannot give back to the system
   * after an abandoned upload; one large buffer per input is its own mapping, returned
   * whole when collected. The copy costs little beside the transfer (see bench/bulk).
   */
  buffers: Array<Buffer | undefined>
  received = 0
  finalSent = false
  /** the declared input's share of the memory budget, held until the job ends */
  reservation: BudgetReservation | undefined
  private inputIndex = 0
  private inputOffset = 0
  private readonly timer: NodeJS.Timeout

  constructor (readonly header: JobHeaderMessage, onDeadline: () => void) {
    this.deadline = Date.now() + header.deadlineMs
    this.total = header.inputs.reduce((sum, input) => sum + input.size, 0)
    this.buffers = header.inputs.map(() => undefined)
    this.timer = setTimeout(onDeadline, header.deadlineMs)
    this.timer.unref()
  }

  /** Copies a chunk's bytes into the inputs it spans; false if it goes past the declared sizes. */
  append (chunk: Frame['payload']): boolean {
    if (this.received + chunk.byteLength > this.total) return false
    let offset = 0
    while (offset < chunk.byteLength) {
      const size = this.header.inputs[this.inputIndex].size
      if (this.inputOffset === size) { this.inputIndex++; this.inputOffset = 0; continue }
      const buffer = this.buffers[this.inputIndex] ??= Buffer.allocUnsafeSlow(size)
      const n = Math.min(size - this.inputOffset, chunk.byteLength - offset)
      for (const part of chunk.sublist(offset, offset + n)) {
        buffer.set(part, this.inputOffset)
        this.inputOffset += part.byteLength
      }
      offset += n
    }
    this.received += chunk.byteLength
    return true
  }

  /** Bytes held now (after `releaseInputs`, none). */
  get held (): number {
    return this.buffers.length === 0 ? 0 : this.received
  }

  inputs (): JobInput[] {
    return this.header.inputs.map((meta, i) => ({
      field: meta.field,
      filename: meta.filename,
      contentType: meta.contentType,
      data: this.buffers[i] ?? new Uint8Array(0)
    }))
  }

  /** Drops the input bytes held and gives their budget back (the executor keeps what it already took). */
  releaseInputs (): void {
    const held = this.held
    this.buffers = []
    this.reservation?.release(held)
    this.reservation = undefined
  }

  /** Ends the deadline timer and, with a reason, aborts the executor's signal. */
  stop (reason?: JobStop): void {
    clearTimeout(this.timer)
    if (reason !== undefined && !this.controller.signal.aborted) this.controller.abort(reason)
  }
}

/**
 * Ends a result body we will not send, so its generator's `finally` runs (an executor
 * may free its runner slot there). `return()` on a generator that never started skips
 * its `finally`: start it first. The executor's signal is aborted by now, so a runner
 * body ends promptly.
 */
function disposeBody (iterator: AsyncIterator<Uint8Array>, started: boolean): void {
  void (async () => {
    if (!started) {
      const first = await iterator.next()
      if (first.done === true) return
    }
    await iterator.return?.()
  })().catch(() => {})
}

type State =
  /** between jobs: QuoteRequest, JobHeader, a stale Cancel */
  | 'idle'
  /** InputChunk until InputEnd (or Cancel) */
  | 'receiving'
  /** a Final went out early: drop input until InputEnd or Cancel */
  | 'discarding'
  /** the executor runs; only Cancel may arrive */
  | 'executing'
  /** we closed an idle stream; nothing more may arrive */
  | 'closed'

/**
 * The server end of one `/shoal/ai` stream: Hello, then any number of jobs one after
 * the other. Every frame is checked against the state; a broken rule resets this
 * stream only. The client going away (reset or EOF mid-job), Cancel, the deadline and
 * the service stopping all abort the executor's signal.
 */
export class StreamSession {
  private readonly frames: FrameStream
  private readonly log: Logger
  private state: State = 'idle'
  private job: ServerJob | undefined
  private idleTimer: NodeJS.Timeout | undefined
  /** the receive deadline between input frames, armed while receiving */
  private inputTimer: NodeJS.Timeout | undefined

  constructor (private readonly stream: Stream, private readonly peerId: PeerId, private readonly deps: SessionDeps) {
    this.log = deps.logger.child({ peer: peerId.toString(), stream: stream.id })
    this.frames = new FrameStream(stream)
    // a reset stops the job at once, even while the loop waits on `admit`
    stream.addEventListener('close', () => { this.stopJob(new JobStop('GONE', 'stream closed')) })
  }

  get busy (): boolean {
    return this.job !== undefined
  }

  /** Runs until the stream ends; never throws. */
  async run (): Promise<void> {
    const { metrics, shutdown } = this.deps
    metrics?.serverStreams.inc()
    const onShutdown = (): void => { this.shutdown() }
    shutdown.addEventListener('abort', onShutdown, { once: true })
    try {
      if (shutdown.aborted) { this.shutdown(); return }
      await this.sendHello()
      this.enterIdle()
      while (true) {
        const frame = await this.frames.next()
        if (frame === null) { this.onEof(); break }
        await this.onFrame(frame)
      }
      await this.frames.close()
    } catch (err) {
      // reset by the client, a protocol error (already reset), or shutdown
      this.stopJob(new JobStop('GONE', 'stream closed'))
      if (err instanceof AiProtocolError) {
        metrics?.streamErrors.inc({ side: 'server', reason: err.code.replace('AI_PROTOCOL_ERROR_', '') })
        this.log.debug({ code: err.code, err: err.message }, 'ai stream reset: protocol error')
      } else {
        if (this.stream.status === 'reset') metrics?.streamErrors.inc({ side: 'server', reason: 'reset' })
        this.log.debug({ err: (err as Error).message }, 'ai stream ended')
      }
      this.frames.abort(err as Error)
    } finally {
      clearTimeout(this.idleTimer)
      clearTimeout(this.inputTimer)
      // whatever ended the stream, its input is not held a moment longer
      if (this.job !== undefined) this.releaseInputs(this.job)
      shutdown.removeEventListener('abort', onShutdown)
      metrics?.serverStreams.dec()
    }
  }

  private async sendHello (): Promise<void> {
    const quote = await this.currentQuote()
    this.frames.write(encodeHello({ version: WIRE_VERSION, maxInputBytes: this.deps.maxInputBytes, prices: quote.prices, payment: quote.payment, ...this.loads() }))
  }

  /**
   * The quote hook's answer, checked as the client will check it (a bad one would get
   * every stream reset by clients); on failure, no prices and no payment parameters.
   */
  private async currentQuote (payment?: PaymentBytes): Promise<AiQuote> {
    try {
      const quote = await this.deps.quote(this.peerId, { signal: anySignal([AbortSignal.timeout(this.deps.quoteTimeoutMs), this.deps.shutdown]), ...(payment !== undefined ? { payment } : {}) })
      return checkedQuote(quote)
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'quote failed; answering without prices')
      return EMPTY_QUOTE
    }
  }

  private async onFrame (frame: Frame): Promise<void> {
    switch (this.state) {
      case 'idle':
        if (frame.type === FrameType.JOB_HEADER) { await this.onJobHeader(frame); return }
        if (frame.type === FrameType.QUOTE_REQUEST) { await this.onQuoteRequest(frame); return }
        if (frame.type === FrameType.CANCEL) return // for a job that already had its Final
        break
      case 'receiving':
        if (frame.type === FrameType.INPUT_CHUNK) { this.onInputChunk(frame); return }
        if (frame.type === FrameType.INPUT_END) { this.onInputEnd(); return }
        if (frame.type === FrameType.CANCEL) {
          // Cancel also ends the input: no InputEnd follows it
          this.finish({ code: 'CANCELLED' })
          this.endJob()
          return
        }
        break
      case 'discarding':
        if (frame.type === FrameType.INPUT_CHUNK) {
          const job = this.job
          if (job !== undefined && job.received + frame.payload.byteLength <= job.total) {
            job.received += frame.payload.byteLength
            return
          }
          this.violation('AI_PROTOCOL_ERROR_INPUT_MISMATCH', 'more input than the JobHeader declared')
        }
        if (frame.type === FrameType.INPUT_END || frame.type === FrameType.CANCEL) { this.endJob(); return }
        break
      case 'executing':
        if (frame.type === FrameType.CANCEL) { this.finish({ code: 'CANCELLED' }); return }
        break
      case 'closed':
        // a job that crossed our close on the wire: the client saw our EOF first and retries elsewhere
        return
    }
    this.violation('AI_PROTOCOL_ERROR_UNEXPECTED_FRAME', `${frameTypeName(frame.type) ?? frame.type} not allowed while ${this.state}`)
  }

  private async onQuoteRequest (frame: Frame): Promise<void> {
    const quote = await this.currentQuote(decodeQuoteRequest(frame.payload).payment)
    this.frames.write(encodeQuote({ ...quote, ...this.loads() }))
  }

  /** The load hook's answer as a frame field, bounded as the codec bounds it, optionally for one model. */
  private loads (only?: { pipeline: string, modelId: string }): { load?: ModelLoad[] } {
    if (this.deps.load === undefined) return {}
    try {
      const all = this.deps.load()
      const chosen = (only === undefined ? all : all.filter(l => l.pipeline === only.pipeline && l.modelId === only.modelId)).slice(0, FRAME_LIMITS.maxLoads)
      // slots within the codec's range, or clients would reset the stream
      const slots = (n: number): number => Number.isSafeInteger(n) ? Math.min(Math.max(n, 0), FRAME_LIMITS.maxSlots) : 0
      return { load: chosen.map(l => ({ pipeline: l.pipeline, modelId: l.modelId, capacity: slots(l.capacity), inUse: slots(l.inUse) })) }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'load hook failed')
      return {}
    }
  }

  private async onJobHeader (frame: Frame): Promise<void> {
    const header = decodeJobHeader(frame.payload)
    // the orchestrator's policy bounds how long a peer may hold a slot, not the wire limit
    if (header.deadlineMs > this.deps.maxDeadlineMs) header.deadlineMs = this.deps.maxDeadlineMs
    clearTimeout(this.idleTimer)
    const job = new ServerJob(header, () => { this.onDeadline(job) })
    this.job = job
    this.state = 'receiving'
    this.deps.metrics?.serverActiveJobs.inc()
    if (job.total > this.deps.maxInputBytes) {
      // answer first so the client learns why, then reset: it is still uploading
      this.finish({ code: 'BAD_REQUEST', message: `input of ${job.total} bytes exceeds this orchestrator's limit of ${this.deps.maxInputBytes} bytes` })
      this.violation('AI_PROTOCOL_ERROR_INPUT_TOO_LARGE', `declared input of ${job.total} bytes exceeds ${this.deps.maxInputBytes}`)
    }
    if (!isPipelineName(header.pipeline)) {
      this.finish({ code: 'UNSUPPORTED', message: `unknown pipeline ${header.pipeline}` })
      return
    }
    // memory before anything else: no byte of this input is accepted beyond the budget
    const reservation = this.deps.budget.reserve(this.peerId.toString(), job.total)
    if (isRefusal(reservation)) {
      this.deps.metrics?.serverBudgetRefusals.inc({ scope: reservation.scope })
      this.finish({
        code: 'INSUFFICIENT_CAPACITY',
        message: `input memory budget: ${job.total} bytes do not fit (${reservation.scope === 'peer' ? 'this peer' : 'this orchestrator'} holds ${reservation.used} of ${reservation.limit} bytes); retry later or elsewhere`
      })
      return
    }
    job.reservation = reservation
    this.deps.metrics?.serverBufferedInputBytes.set(this.deps.budget.usedBytes)
    const admit = this.deps.executor.admit
    if (admit === undefined) { this.armInputTimer(job); return }
    try {
      await raceSignal(Promise.resolve(admit({
        requestId: header.requestId,
        pipeline: header.pipeline,
        modelId: header.modelId,
        params: header.params,
        inputs: header.inputs,
        payment: header.payment,
        deadline: job.deadline
      }, { peerId: this.peerId, signal: job.controller.signal })), job.controller.signal)
    } catch (err) {
      if (job.finalSent) return
      this.finish(this.errorFinal(err, job))
      return
    }
    // armed once admitted: a slow admit (tickets) is our delay, not the client's
    if (!job.finalSent) this.armInputTimer(job)
  }

  private onInputChunk (frame: Frame): void {
    const job = this.job as ServerJob
    if (!job.append(frame.payload)) {
      this.violation('AI_PROTOCOL_ERROR_INPUT_MISMATCH', 'more input than the JobHeader declared')
    }
    this.deps.metrics?.serverInputBytes.inc(frame.payload.byteLength)
    if (this.inputTimer !== undefined) this.inputTimer.refresh()
  }

  private onInputEnd (): void {
    const job = this.job as ServerJob
    if (job.received !== job.total) {
      this.violation('AI_PROTOCOL_ERROR_INPUT_MISMATCH', `InputEnd after ${job.received} of ${job.total} declared input bytes`)
    }
    this.clearInputTimer()
    this.state = 'executing'
    void this.execute(job)
  }

  private async execute (job: ServerJob): Promise<void> {
    const { header, controller } = job
    const signal = controller.signal
    const inferenceJob: InferenceJob = {
      pipeline: header.pipeline as InferenceJob['pipeline'],
      modelId: header.modelId,
      params: header.params,
      inputs: job.inputs()
    }
    // hashed before the executor sees the inputs: what was received is what is attested
    const signer = this.deps.receipts
    const attest = signer === undefined ? undefined : { signer, input: inputHash(inferenceJob), result: new ResultHasher() }
    const pending = Promise.resolve().then(async () => await this.deps.executor.execute(inferenceJob, {
      signal,
      requestId: header.requestId,
      peerId: this.peerId,
      payment: header.payment,
      deadline: job.deadline,
      onProgress: (progress) => {
        if (job.finalSent) return
        this.frames.write(encodeProgress({
          stage: String(progress.stage).slice(0, FRAME_LIMITS.maxStageLength) || 'progress',
          ...(typeof progress.fraction === 'number' && progress.fraction >= 0 && progress.fraction <= 1 ? { fraction: progress.fraction } : {})
        }))
      }
    }))
    let result: AiExecutionResult
    try {
      result = await raceSignal(pending, signal)
    } catch (err) {
      // a result that arrives after we stopped waiting must still release its body
      pending.then(late => { disposeBody(late.body[Symbol.asyncIterator](), false) }, () => {})
      if (!job.finalSent) this.finish(this.errorFinal(err, job))
      return
    }
    const iterator = result.body[Symbol.asyncIterator]()
    let started = false
    try {
      if (job.finalSent) { disposeBody(iterator, false); return }
      if (!Number.isInteger(result.status) || result.status < 100 || result.status > 599) {
        throw new Error(`executor returned HTTP status ${String(result.status)}`)
      }
      this.frames.write(encodeResultHead({ status: result.status, contentType: result.contentType.slice(0, FRAME_LIMITS.maxContentTypeLength) }))
      const max = FRAME_LIMITS.maxDataFrameBytes
      while (true) {
        started = true
        const next = await raceSignal(iterator.next(), signal)
        if (next.done === true) break
        const chunk = next.value
        attest?.result.update(chunk)
        for (let offset = 0; offset < chunk.byteLength; offset += max) {
          const part = chunk.subarray(offset, Math.min(offset + max, chunk.byteLength))
          this.frames.write(frameHeader(FrameType.RESULT_CHUNK, part.byteLength))
          this.frames.write(part)
          this.deps.metrics?.serverOutputBytes.inc(part.byteLength)
          if (this.frames.pendingBytes >= FLUSH_BYTES || this.frames.needsDrain) await this.frames.drained({ signal })
        }
      }
      const completion = await raceSignal(Promise.resolve(result.complete?.() ?? {}), signal)
      const units = completion.units ?? result.units
      const validUnits = units !== undefined && Number.isFinite(units) && units >= 0 ? units : undefined
      let signedReceipt: Uint8Array<ArrayBuffer> | undefined
      if (attest !== undefined && !job.finalSent) {
        const charge = completion.charge ?? { pricePerUnit: '0', pixelsPerUnit: '1', chargedWei: '0' }
        signedReceipt = await raceSignal(signReceipt({
          orchestrator: attest.signer.peerId,
          gateway: this.peerId.toString(),
          requestId: header.requestId,
          pipeline: header.pipeline,
          modelId: header.modelId,
          inputHash: attest.input,
          resultHash: attest.result.digest(),
          status: result.status,
          contentType: result.contentType.slice(0, FRAME_LIMITS.maxContentTypeLength),
          resultBytes: attest.result.bytes,
          units: validUnits ?? 0,
          ...charge,
          startedAt: job.startedAt,
          finishedAt: Math.max(job.startedAt, Date.now())
        }, attest.signer.privateKey), signal)
        this.deps.metrics?.serverReceiptsSigned.inc()
      }
      if (!job.finalSent) {
        this.finish({
          code: 'OK',
          ...(validUnits !== undefined ? { units: validUnits } : {}),
          ...(completion.receipt !== undefined ? { receipt: completion.receipt } : {}),
          ...(signedReceipt !== undefined ? { signedReceipt } : {})
        })
      }
    } catch (err) {
      disposeBody(iterator, started)
      if (!job.finalSent) this.finish(this.errorFinal(err, job))
    }
  }

  /** The Final for an executor error, or for the reason the job's signal aborted. */
  private errorFinal (err: unknown, job: ServerJob): FinalMessage {
    const reason = job.controller.signal.reason
    if (job.controller.signal.aborted && reason instanceof JobStop && reason.code !== 'GONE') {
      return { code: reason.code, message: reason.message }
    }
    const code = finalCodeOf(err)
    if (code === 'INTERNAL') {
      this.log.warn({ err, requestId: job.header.requestId }, 'executor failed')
      return { code, message: 'internal error' }
    }
    return { code, message: String((err as Error)?.message ?? code).slice(0, FRAME_LIMITS.maxMessageLength) }
  }

  /**
   * The receive deadline between input frames: a client that stops sending mid-input
   * is answered DEADLINE_EXCEEDED and reset, and the input it sent is dropped at once.
   */
  private armInputTimer (job: ServerJob): void {
    this.clearInputTimer()
    if (this.state !== 'receiving' || this.job !== job) return
    this.inputTimer = setTimeout(() => {
      this.inputTimer = undefined
      if (this.job !== job || this.state !== 'receiving') return
      this.deps.metrics?.serverInputStalls.inc()
      this.log.debug({ requestId: job.header.requestId, received: job.received, total: job.total }, 'upload stalled')
      this.finish({ code: 'DEADLINE_EXCEEDED', message: `no input for ${this.deps.inputIdleTimeoutMs} ms (${job.received} of ${job.total} bytes received)` })
      this.frames.abort(new AiProtocolError('AI_PROTOCOL_ERROR_UNEXPECTED_EOF', 'upload stalled'))
    }, this.deps.inputIdleTimeoutMs)
    this.inputTimer.unref()
  }

  private clearInputTimer (): void {
    clearTimeout(this.inputTimer)
    this.inputTimer = undefined
  }

  private onDeadline (job: ServerJob): void {
    if (this.job !== job || job.finalSent) return
    this.finish({ code: 'DEADLINE_EXCEEDED', message: `deadline of ${job.header.deadlineMs} ms exceeded` })
  }

  /**
   * Sends the job's Final once and aborts its executor. While the input is still
   * arriving the stream drops the rest of it; otherwise it is free for the next job.
   */
  private finish (final: FinalMessage): void {
    const job = this.job
    if (job === undefined || job.finalSent) return
    job.finalSent = true
    // a job that succeeded is over: its signal stays quiet
    if (final.code === 'OK') job.stop()
    else job.stop(new JobStop(final.code, final.message ?? final.code))
    this.frames.write(encodeFinal({ ...final, ...this.loads(job.header) }))
    const pipeline = pipelineLabel(job.header.pipeline)
    this.deps.metrics?.serverJobs.inc({ pipeline, code: final.code })
    this.deps.metrics?.serverJobDuration.observe({ pipeline }, (performance.now() - job.started) / 1000)
    if (final.code !== 'OK' && final.code !== 'CANCELLED') {
      this.log.debug({ requestId: job.header.requestId, code: final.code, message: final.message }, 'job failed')
    }
    if (this.state === 'receiving') {
      // the rest of the input is dropped as it arrives: what was held goes now
      this.releaseInputs(job)
      this.clearInputTimer()
      this.state = 'discarding'
      this.armIdleTimer()
    } else {
      this.endJob()
    }
  }

  private endJob (): void {
    const job = this.job
    if (job !== undefined) {
      this.deps.metrics?.serverActiveJobs.dec()
      this.releaseInputs(job)
    }
    this.clearInputTimer()
    this.job = undefined
    this.enterIdle()
  }

  private releaseInputs (job: ServerJob): void {
    if (job.reservation === undefined && job.buffers.length === 0) return
    job.releaseInputs()
    this.deps.metrics?.serverBufferedInputBytes.set(this.deps.budget.usedBytes)
  }

  private enterIdle (): void {
    this.state = 'idle'
    this.armIdleTimer()
  }

  /** Idle: closed gracefully when it fires. Discarding: a client that never ends its input is reset. */
  private armIdleTimer (): void {
    clearTimeout(this.idleTimer)
    this.idleTimer = setTimeout(() => { this.onIdleTimeout() }, this.deps.idleTimeoutMs)
    this.idleTimer.unref()
  }

  private onIdleTimeout (): void {
    if (this.state === 'discarding') {
      this.frames.abort(new AiProtocolError('AI_PROTOCOL_ERROR_UNEXPECTED_EOF', 'input never ended after an early Final'))
      return
    }
    if (this.state !== 'idle') return
    this.state = 'closed'
    void this.frames.close()
    setTimeout(() => { this.stream.abort(new Error('client did not close an idle stream')) }, CLOSE_GRACE_MS).unref()
  }

  private onEof (): void {
    // a client must keep its write side open until Final: EOF mid-job means it went away
    if (this.job !== undefined && !this.job.finalSent) this.stopJob(new JobStop('GONE', 'client closed the stream'))
    if (this.job !== undefined) this.endJob()
    clearTimeout(this.idleTimer)
  }

  private stopJob (reason: JobStop): void {
    const job = this.job
    if (job === undefined) return
    job.finalSent = true
    job.stop(reason)
    this.endJob()
    clearTimeout(this.idleTimer)
  }

  private shutdown (): void {
    this.finish({ code: 'INTERNAL', message: 'orchestrator shutting down' })
    this.frames.abort(new Error('ai service stopped'))
  }

  private violation (code: AiProtocolError['code'], message: string): never {
    throw new AiProtocolError(code, message)
  }
}
