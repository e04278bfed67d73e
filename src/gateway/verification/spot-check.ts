import type { InferenceJob } from '../../kernel/job.js'
import { JobError } from '../../kernel/job-outcome.js'
import type { Logger } from '../../observability/logger.js'
import { receiptJson, ReceiptError, type Receipt } from '../../trust/receipts/index.js'
import type { DispatchResult, SendJob } from '../dispatch/index.js'
import { compareAnswers, type Answer, type Verdict } from './compare.js'
import type { VerificationMetrics } from './metrics.js'
import { defaultVerificationOptions, type VerificationOptions } from './options.js'
import { isAttested, type AttestedResponse, type ReceiptStore } from './receipts.js'
import type { Reputation } from './reputation.js'
import { anySignal } from '../../signals/any-signal.js'

/** An orchestrator that could check a job, and who runs it (its announcement's Ethereum address). */
export interface CheckCandidate { peerId: string, operator: string }

export type FaultKind = 'bad_receipt' | 'wrong_answer'

export interface VerifierInit {
  options?: Partial<VerificationOptions>
  /** how check jobs are sent: the gateway's own send, so they are paid like any job */
  send: SendJob
  /** orchestrators serving the (pipeline, model) now */
  candidates: (pipeline: InferenceJob['pipeline'], modelId: string) => CheckCandidate[]
  /** the operator of a peer (its Ethereum address); unknown: the peer is its own operator */
  operatorOf: (peerId: string) => string | undefined
  receipts: ReceiptStore
  reputation: Reputation
  logger: Logger
  metrics: VerificationMetrics | null
  /** an orchestrator's receipt was refused, or a referee confirmed its answer wrong: selection counts it as a failure */
  onFault?: (peerId: string, job: InferenceJob, kind: FaultKind) => void
  random?: () => number
}

export interface Verifier {
  /**
   * Watches a dispatch result's body on its way to the client: its receipt is kept once
   * the body ends; a refused receipt is a fault of its orchestrator; on a sampled job the
   * answer is kept (bounded) and the job re-run on an orchestrator of another operator.
   */
  watch: (job: InferenceJob, result: DispatchResult, requestId: string) => DispatchResult
  /** checks running now */
  readonly running: number
  /** resolves once no check is running (tests, benchmarks, shutdown) */
  idle: () => Promise<void>
  stop: () => void
}

interface Run { peerId: string, operator: string, answer: Answer, receipt: Receipt | undefined }

/**
 * Spot-check verification (issue 15). A share `sampleRate` of successful jobs is re-run,
 * after the client has its answer, on a second orchestrator of another operator, and
 * the two answers are compared (compare.ts). When they disagree a referee of a third
 * operator decides: whoever the referee disagrees with, while agreeing with the other,
 * has a confirmed fault; after `excludeAfterFaults` of them it gets no more work for
 * `exclusionMs` (reputation.ts). With no third operator, or a referee agreeing with
 * neither, the disagreement stays unresolved and nobody is penalised. Each disagreement
 * is logged with the receipts of all answers as evidence. Check jobs are sent like any
 * job (paid, receipts checked) and counted apart in the metrics.
 */
export function createVerifier (init: VerifierInit): Verifier {
  const options: VerificationOptions = { ...defaultVerificationOptions, ...init.options, compareModes: { ...defaultVerificationOptions.compareModes, ...init.options?.compareModes } }
  const { logger, metrics, reputation, receipts } = init
  const random = init.random ?? Math.random
  const controller = new AbortController()
  let running = 0
  let waiters: Array<() => void> = []

  function fault (peerId: string, job: InferenceJob, kind: FaultKind): void {
    metrics?.faults.inc({ pipeline: job.pipeline, kind })
    if (kind === 'wrong_answer' && reputation.fault(peerId)) {
      logger.warn({ peer: peerId, pipeline: job.pipeline, modelId: job.modelId, faults: reputation.get(peerId)?.faults }, 'orchestrator excluded: wrong answers confirmed by spot checks')
      metrics?.excluded.inc()
    }
    try {
      init.onFault?.(peerId, job, kind)
    } catch (err) {
      logger.warn({ err, peer: peerId }, 'onFault listener threw')
    }
  }

  function pick<T> (list: T[]): T | undefined {
    return list[Math.min(list.length - 1, Math.floor(random() * list.length))]
  }

  /** Runs the job on one orchestrator for a check; undefined when it fails. */
  async function runOn (c: CheckCandidate, job: InferenceJob, requestId: string, role: 'check' | 'referee'): Promise<Run | undefined> {
    metrics?.checkJobs.inc({ pipeline: job.pipeline, role })
    const signal = anySignal([controller.signal, AbortSignal.timeout(options.checkTimeoutMs)])
    try {
      const response = await init.send(c.peerId, job, { signal, requestId: `${requestId}~${role}` })
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of response.body) {
        size += chunk.byteLength
        if (size > options.maxResultBytes) throw new Error(`check result larger than ${options.maxResultBytes} bytes`)
        chunks.push(Buffer.from(chunk))
      }
      const receipt = isAttested(response) ? await response.receipt : undefined
      if (receipt !== undefined) {
        receipts.add(receipt, requestId)
        metrics?.checkUnits.inc({ pipeline: job.pipeline }, receipt.units)
        metrics?.checkWei.inc({ pipeline: job.pipeline }, Number(receipt.chargedWei))
      }
      return { peerId: c.peerId, operator: c.operator, answer: { status: response.status, contentType: response.contentType, body: Buffer.concat(chunks) }, receipt }
    } catch (err) {
      if (isReceiptRefusal(err)) fault(c.peerId, job, 'bad_receipt')
      logger.info({ requestId, peer: c.peerId, role, err: (err as Error).message }, 'spot check job failed')
      return undefined
    }
  }

  const thresholds = { imageThreshold: options.imageThreshold, textThreshold: options.textThreshold }
  const evidence = (run: Run): Record<string, unknown> => ({ peer: run.peerId, operator: run.operator, ...(run.receipt !== undefined ? { receipt: receiptJson(run.receipt) } : {}), bytes: run.answer.body.byteLength })

  async function check (job: InferenceJob, primary: Run, requestId: string): Promise<void> {
    const { pipeline, modelId } = job
    const mode = options.compareModes[pipeline] ?? 'bytes'
    const done = (result: string): void => { metrics?.checks.inc({ pipeline, result }) }
    const pool = init.candidates(pipeline, modelId).filter(c => c.peerId !== primary.peerId && c.operator !== primary.operator && !reputation.excluded(c.peerId))
    const checker = pick(pool)
    if (checker === undefined) { done('skipped'); return }
    const second = await runOn(checker, job, requestId, 'check')
    if (second === undefined) { done('failed'); return }
    const verdict = await compareAnswers(mode, primary.answer, second.answer, thresholds)
    if (verdict.result === 'inconclusive') {
      logger.info({ requestId, pipeline, modelId, reason: verdict.reason }, 'spot check inconclusive')
      done('inconclusive')
      return
    }
    if (verdict.result === 'agree') {
      reputation.agree(primary.peerId)
      reputation.agree(second.peerId)
      done('agree')
      return
    }
    // two operators disagree: a third decides who is wrong
    const referee = pick(pool.filter(c => c.peerId !== second.peerId && c.operator !== second.operator))
    const third = referee === undefined ? undefined : await runOn(referee, job, requestId, 'referee')
    let withPrimary: Verdict | undefined
    let withSecond: Verdict | undefined
    if (third !== undefined) {
      withPrimary = await compareAnswers(mode, third.answer, primary.answer, thresholds)
      withSecond = await compareAnswers(mode, third.answer, second.answer, thresholds)
    }
    let wrong: Run | undefined
    if (third !== undefined && withPrimary?.result === 'agree' && withSecond?.result === 'disagree') wrong = second
    if (third !== undefined && withSecond?.result === 'agree' && withPrimary?.result === 'disagree') wrong = primary
    logger.warn({
      requestId,
      pipeline,
      modelId,
      method: verdict.method,
      similarity: verdict.similarity,
      wrong: wrong?.peerId ?? null,
      primary: evidence(primary),
      check: evidence(second),
      ...(third !== undefined ? { referee: evidence(third), refereeSimilarity: { primary: simOf(withPrimary), check: simOf(withSecond) } } : {})
    }, wrong === undefined ? 'spot check disagreement, unresolved' : 'spot check disagreement: wrong answer confirmed by a referee')
    if (wrong === undefined) { done('unresolved'); return }
    for (const run of [primary, second, third]) if (run !== undefined && run !== wrong) reputation.agree(run.peerId)
    fault(wrong.peerId, job, 'wrong_answer')
    done('disagree')
  }

  function settle (): void {
    running--
    if (running === 0) { const w = waiters; waiters = []; for (const wake of w) wake() }
  }

  return {
    watch (job, result, requestId) {
      const original = result.response
      if (!isAttested(original)) return result
      const response = original
      const peerId = result.orchestrator
      const sampled = options.sampleRate > 0 && options.compareModes[job.pipeline] !== 'none' && response.status >= 200 && response.status < 300 &&
        random() < options.sampleRate && running < options.maxConcurrent && !controller.signal.aborted
      let kept: Buffer[] | undefined = sampled ? [] : undefined
      let size = 0
      async function * body (): AsyncGenerator<Uint8Array> {
        let complete = false
        try {
          for await (const chunk of response.body) {
            if (kept !== undefined) {
              size += chunk.byteLength
              if (size > options.maxResultBytes) kept = undefined
              else kept.push(Buffer.from(chunk))
            }
            yield chunk
          }
          complete = true
        } catch (err) {
          if (isReceiptRefusal(err)) {
            metrics?.receipts.inc({ result: receiptCodeOf(err).replace('RECEIPT_ERROR_', '') })
            fault(peerId, job, 'bad_receipt')
          }
          throw err
        } finally {
          if (complete) void afterBody()
        }
      }
      async function afterBody (): Promise<void> {
        const receipt = await response.receipt
        if (receipt === undefined) return
        receipts.add(receipt)
        metrics?.receipts.inc({ result: 'kept' })
        metrics?.primaryUnits.inc({ pipeline: job.pipeline }, receipt.units)
        if (kept === undefined) {
          if (sampled) metrics?.checks.inc({ pipeline: job.pipeline, result: 'skipped' })
          return
        }
        running++
        const primary: Run = { peerId, operator: init.operatorOf(peerId) ?? peerId, answer: { status: response.status, contentType: response.contentType, body: Buffer.concat(kept) }, receipt }
        kept = undefined
        check(job, primary, requestId).catch(err => { logger.warn({ err, requestId }, 'spot check failed') }).finally(settle)
      }
      // everything else the answer carries (its receipt, its Final) passes through
      const watched: AttestedResponse = { ...response, body: body() }
      return { ...result, response: watched }
    },
    get running () { return running },
    async idle () {
      if (running === 0) return
      await new Promise<void>(resolve => { waiters.push(resolve) })
    },
    stop () { controller.abort() }
  }
}

function simOf (v: Verdict | undefined): number | null {
  return v === undefined || v.result === 'inconclusive' ? null : Number(v.similarity.toFixed(4))
}

/** A job that failed because its orchestrator's receipt was refused (the /shoal/ai client's error). */
export function isReceiptRefusal (err: unknown): boolean {
  return err instanceof JobError && err.cause instanceof ReceiptError
}

function receiptCodeOf (err: unknown): string {
  return err instanceof JobError && err.cause instanceof ReceiptError ? err.cause.code : 'RECEIPT_ERROR_MALFORMED'
}
