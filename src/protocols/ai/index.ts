/**
 * @packageDocumentation
 *
 * `/shoal/ai/2.0.0`: how a gateway sends an inference job to an orchestrator and gets
 * the result back, over persistent libp2p streams (noise + yamux). See README.md in
 * this folder for the wire format.
 *
 * @example Orchestrator side
 * ```ts
 * const ai = createAiProtocol({ registrar: node, executor, quote, logger, metrics })
 * await ai.start()
 * ```
 *
 * @example Gateway side
 * ```ts
 * const client = createAiClient({ dialProtocol: node.dialProtocol.bind(node), logger, metrics })
 * const res = await client.runJob(peerId, job, { signal, requestId, deadlineMs: 30_000 })
 * for await (const chunk of res.body) reply.raw.write(chunk)
 * const { units, receipt } = await res.final
 * ```
 */
import type { AbortOptions, PeerId, PrivateKey, Startable, Stream, StreamHandler, StreamHandlerOptions } from '@libp2p/interface'
import type { InferenceJob, RunnerResponse } from '../../kernel/job.js'
import type { Logger } from '../../observability/logger.js'
import { AiClient as AiClientImpl } from './client.js'
import type { AiQuote, FinalMessage, JobHeaderMessage, ModelLoad, PaymentBytes, ProgressMessage } from './codec.js'
import type { AiMetrics } from './metrics.js'
import type { Receipt } from '../../trust/receipts/index.js'
import { AiProtocolService } from './protocol.js'

export { AI_PROTOCOL, PROTOCOL_NAME, PROTOCOL_VERSION, FINAL_CODES, type FinalCode, type FinalErrorCode } from './constants.js'
export type { AiPrice, AiQuote, PaymentBytes, HelloMessage, InputMeta, JobHeaderMessage, ModelLoad, ProgressMessage, FinalMessage, QuoteRequestMessage } from './codec.js'
export { AiProtocolError, AiJobAbortedError, type AiProtocolErrorCode } from './errors.js'
export { PaymentRequiredError, OrchestratorInternalError } from '../../kernel/job-outcome.js'
export { createAiMetrics, type AiMetrics } from './metrics.js'

// ---------------------------------------------------------------------------
// server (orchestrator)

/** What the handler passes to the executor with each job. */
export interface AiExecuteContext {
  /** aborts when the client cancels or goes away, the deadline passes, or the service stops */
  signal: AbortSignal
  requestId: string
  /** the gateway that sent the job */
  peerId: PeerId
  /** the payment the client attached (an encoded payments JobPayment), or null */
  payment: PaymentBytes | null
  /** epoch ms by which the job must be finished */
  deadline: number
  /** sends a Progress frame to the client */
  onProgress: (progress: ProgressMessage) => void
}

/** Known once the whole body has been sent (e.g. LLM tokens streamed). */
export interface AiJobCompletion {
  units?: number
  receipt?: PaymentBytes
  /** the price and what was charged, for the signed receipt (absent: unpriced, '0') */
  charge?: AiJobCharge
}

/** What a job cost, as the signed receipt states it (decimal wei). */
export interface AiJobCharge {
  pricePerUnit: string
  pixelsPerUnit: string
  chargedWei: string
}

/** The orchestrator's identity for signing receipts: its libp2p key and peer id. */
export interface AiReceiptSigner {
  peerId: string
  privateKey: PrivateKey
}

/**
 * What an executor returns: the runner's response, streamed to the client. The handler
 * reads `body` to its end, or, when the job ends early (Cancel, deadline, client gone,
 * shutdown), starts it if needed and calls `return()` on its iterator: a generator's
 * `finally` always runs, so it is the place to free a runner slot.
 */
export interface AiExecutionResult extends RunnerResponse {
  /** units of work done, if known before the body is sent */
  units?: number
  /** called after the last body byte has been sent; its values go into Final (and win over `units`) */
  complete?: () => AiJobCompletion | Promise<AiJobCompletion>
}

/** The header of a job whose inputs have not arrived yet, for `AiExecutor.admit`. */
export type AiJobAdmission = Omit<JobHeaderMessage, 'deadlineMs'> & { deadline: number }

/**
 * Runs jobs on the orchestrator (capacity, runners, payments). Errors may carry a
 * `code` that is a Final code (`INSUFFICIENT_CAPACITY`) or the same with a `JOB_ERROR_`
 * prefix; anything else is reported as INTERNAL without its message.
 */
export interface AiExecutor {
  /**
   * Optional early check on the header alone (served model, capacity, payment), before
   * any input byte is accepted: a throw answers at once, so a 200 MB input is never
   * uploaded to an orchestrator that would refuse it.
   */
  admit?: (header: AiJobAdmission, options: { peerId: PeerId, signal: AbortSignal }) => void | Promise<void>
  execute: (job: InferenceJob, context: AiExecuteContext) => Promise<AiExecutionResult>
}

/**
 * Prices and payment parameters for a gateway, sent in Hello and Quote frames. `payment`
 * is what the gateway's QuoteRequest said about who will pay (opaque), if anything.
 */
export type AiQuoteFn = (peerId: PeerId, options: { signal: AbortSignal, payment?: PaymentBytes }) => AiQuote | Promise<AiQuote>

export interface AiServerLimits {
  /** the most input bytes (all inputs of a job together) @default 256 MiB */
  maxInputBytes?: number
  /**
   * input bytes held in memory at once for all peers together: a JobHeader whose declared
   * input does not fit is answered INSUFFICIENT_CAPACITY before any byte is accepted @default 512 MiB
   */
  maxBufferedInputBytes?: number
  /** the same for one peer (all its streams together) @default 128 MiB */
  maxBufferedInputBytesPerPeer?: number
  /** an upload with no input frame for this long is answered DEADLINE_EXCEEDED and reset @default 30_000 */
  inputIdleTimeoutMs?: number
  /** inbound streams per connection, i.e. concurrent jobs per gateway @default 256 */
  maxInboundStreams?: number
  /** close a stream idle this long (must exceed the clients' pool idle timeout) @default 300_000 */
  idleTimeoutMs?: number
  /** wait this long for `quote()` when a stream opens @default 2_000 */
  quoteTimeoutMs?: number
  /** a job asking for a longer deadline gets this one (the wire allows a day) @default 600_000 */
  maxDeadlineMs?: number
}

export interface AiProtocolInit {
  executor: AiExecutor
  /** @default no prices, no payment parameters */
  quote?: AiQuoteFn
  logger?: Logger
  metrics?: AiMetrics | null
  limits?: AiServerLimits
  /**
   * Live slots per (pipeline, model), sent in every Hello and Quote, and for the job's
   * model in every Final, so connected gateways see free slots without gossip
   * @default none: frames carry no `load`
   */
  load?: () => ModelLoad[]
  /**
   * Signs a receipt (src/trust/receipts) into every OK Final: request id, model, hashes
   * of the input and the result, units, price, charge and timings
   * @default none: Finals carry no signed receipt
   */
  receipts?: AiReceiptSigner
  /** @default AI_PROTOCOL ('/shoal/ai/2.0.0') */
  protocol?: string
}

/** The part of libp2p's registrar the handler needs; a `Libp2p` node satisfies it. */
export interface AiRegistrar {
  handle: (protocol: string, handler: StreamHandler, options?: StreamHandlerOptions) => Promise<void>
  unhandle: (protocol: string, options?: AbortOptions) => Promise<void>
}

export interface AiProtocolComponents {
  registrar: AiRegistrar
}

/** The orchestrator side: registers the handler on `start()`, removes it and ends all jobs on `stop()`. */
export interface AiProtocol extends Startable {
  readonly protocol: string
  /** jobs between JobHeader and Final now */
  readonly activeJobs: number
  /** inbound streams open now */
  readonly openStreams: number
}

/** libp2p service factory: `services: { ai: aiProtocol({ executor, quote }) }`. */
export function aiProtocol (init: AiProtocolInit): (components: AiProtocolComponents) => AiProtocol {
  return (components) => new AiProtocolService(components, init)
}

/** The same service built outside libp2p's service map, e.g. `createAiProtocol({ registrar: node, executor })`. */
export function createAiProtocol (init: AiProtocolInit & AiProtocolComponents): AiProtocol {
  return new AiProtocolService({ registrar: init.registrar }, init)
}

// ---------------------------------------------------------------------------
// client (gateway)

/** Opens a stream to a peer for a protocol; `Libp2p.dialProtocol` and `ConnectionManager.openStream` both fit. */
export type AiDialProtocol = (peer: PeerId, protocol: string, options: AbortOptions & { maxOutboundStreams?: number, runOnLimitedConnection?: boolean }) => Promise<Stream>

export interface AiClientInit {
  logger?: Logger
  metrics?: AiMetrics | null
  /** streams open at once to one peer (busy and idle); more concurrent jobs wait @default 64 */
  maxStreamsPerPeer?: number
  /** idle streams kept per peer for reuse @default 64 */
  maxIdleStreamsPerPeer?: number
  /** close a pooled stream idle this long @default 60_000 */
  idleTimeoutMs?: number
  /** dial plus protocol negotiation @default 10_000 */
  openTimeoutMs?: number
  /** for jobs that pass no `deadlineMs` @default 600_000 */
  defaultDeadlineMs?: number
  /** wait this long past the deadline for the server's answer before resetting @default 2_000 */
  deadlineGraceMs?: number
  /** after Cancel, wait this long for Final before resetting the stream @default 1_000 */
  cancelGraceMs?: number
  /** refresh a stream's quote this old or older before a paid job (0: always ask) @default 10_000 */
  quoteMaxAgeMs?: number
  /** called with an orchestrator's live slots whenever a Hello, Quote or Final carries them */
  onLoad?: (peerId: string, loads: ModelLoad[]) => void
  /**
   * 'require': an OK Final without a valid signed receipt fails the job (the body throws
   * `BadReceiptError`); 'verify': one that is present must be valid @default 'verify'
   */
  receipts?: 'require' | 'verify'
  /** @default AI_PROTOCOL ('/shoal/ai/2.0.0') */
  protocol?: string
}

export interface AiClientComponents {
  connectionManager: { openStream: AiDialProtocol }
}

export interface AiRunJobOptions extends AbortOptions {
  /** @default a random UUID */
  requestId?: string
  /** the job's budget in ms, enforced by both sides @default AiClientInit.defaultDeadlineMs */
  deadlineMs?: number
  /**
   * The ResultHead must arrive this many ms after the job starts, or the client sends
   * Cancel and rejects with DeadlineExceededError (`details.phase: 'first-byte'`)
   * @default none: only `deadlineMs`
   */
  firstByteDeadlineMs?: number
  /** use the stream's quote only if younger than this (0: always ask for a fresh one) @default AiClientInit.quoteMaxAgeMs */
  quoteMaxAgeMs?: number
  /** builds the job's payment from the orchestrator's current quote; omitted: no payment, no quote wait */
  payment?: (quote: AiQuote) => PaymentBytes | null | Promise<PaymentBytes | null>
  /**
   * Called with the stream's quote before `payment`: a value (who will pay, opaque) is sent
   * in a QuoteRequest and the answer used instead, at most once per stream. For a quote
   * that cannot pay this job yet, e.g. no ticket params because the orchestrator has not
   * seen this gateway: then even the first job goes out paid.
   */
  payer?: (quote: AiQuote) => PaymentBytes | undefined
  /**
   * Called when the client sends Cancel for this job (the caller aborted, or the
   * first-byte deadline passed), before `runJob` rejects or the body throws, with the
   * Final that answered the Cancel: CANCELLED means the orchestrator had admitted the job
   * (and credited its payment) and charged nothing; undefined when no Final came within
   * `cancelGraceMs`. For payment accounting.
   */
  onCancel?: (answer: Promise<FinalMessage | undefined>) => void
  onProgress?: (progress: ProgressMessage) => void
}

/** The outcome after the body: for payment accounting. */
export interface AiJobFinal {
  units?: number
  receipt?: PaymentBytes
  /** the orchestrator's signed receipt, checked against the peer id dialed, the job sent and the bytes received */
  signedReceipt?: Receipt
}

/**
 * The orchestrator's response. `body` streams ResultChunks as they arrive and throws
 * the typed error if the job fails after its head; `final` settles after the body has
 * been read to its end (it never rejects unhandled). Read or break out of the body:
 * the stream returns to the pool only after Final.
 */
export interface AiJobResult extends RunnerResponse {
  requestId: string
  /** the orchestrator's peer id */
  peerId: string
  final: Promise<AiJobFinal>
}

export interface AiClient extends Startable {
  readonly protocol: string
  /**
   * Sends a job and resolves at its ResultHead. Rejects with a `JobError`
   * (src/kernel/job-outcome.ts) mapped from the Final code, `UnreachableError`
   * when the peer cannot be reached, resets the stream or breaks the protocol, or
   * `AiJobAbortedError` when `signal` aborts (the orchestrator is told to cancel).
   */
  runJob: (peerId: PeerId, job: InferenceJob, options?: AiRunJobOptions) => Promise<AiJobResult>
  /** The orchestrator's current prices and payment parameters (from a pooled stream). */
  getQuote: (peerId: PeerId, options?: AbortOptions & { maxAgeMs?: number }) => Promise<AiQuote & { maxInputBytes?: number }>
  /** Streams open to a peer (busy and idle), for tests and diagnostics. */
  streamCount: (peerId: PeerId) => { open: number, idle: number }
}

/** libp2p service factory: `services: { aiClient: aiClient({ logger }) }`. */
export function aiClient (init: AiClientInit = {}): (components: AiClientComponents) => AiClient {
  return (components) => new AiClientImpl(components.connectionManager.openStream.bind(components.connectionManager), init)
}

/** A client outside libp2p's service map: `createAiClient({ dialProtocol: node.dialProtocol.bind(node) })`. It needs no `start()`. */
export function createAiClient (init: AiClientInit & { dialProtocol: AiDialProtocol }): AiClient {
  return new AiClientImpl(init.dialProtocol, init)
}
