import type { PeerId } from '@libp2p/interface'
import { verifyEthBinding } from '../identity/binding.js'
import { billableUnits, deliveredUnits, isMetered, jobFee } from '../kernel/billing.js'
import type { InferenceJob } from '../kernel/job.js'
import { pipelineDefinition, type PipelineName } from '../kernel/pipelines.js'
import type { Logger } from '../observability/logger.js'
import { decodeJobPayment, encodeQuotePayment, encodeReceipt, type JobPayment } from '../payments/job-payment.js'
import { PaymentError, PaymentWireError, TicketError, type PaymentRecipient } from '../payments/index.js'
import type { AiExecuteContext, AiExecutionResult, AiExecutor, AiJobAdmission, AiJobCharge, AiJobCompletion, AiQuoteFn, PaymentBytes } from '../protocols/ai/index.js'
import { OrchestratorJobError } from './errors.js'
import type { OrchestratorMetrics, PaymentRefusal } from './metrics.js'
import { quotePrices, type PriceTable, type WeiPrice } from './offers.js'
import { modelKey } from '../kernel/model-key.js'

export interface PaidExecutorComponents {
  executor: AiExecutor
  recipient: PaymentRecipient
  prices: PriceTable
  logger: Logger
  metrics: OrchestratorMetrics | null
}

/** A lower bound of a job's billable units from its header: what the credit must cover before the input is accepted. */
export function admissionUnits (header: Pick<AiJobAdmission, 'pipeline' | 'params' | 'inputs'>): bigint {
  const inputBytes = header.inputs.reduce((sum, input) => sum + input.size, 0)
  return pipelineDefinition(header.pipeline as PipelineName).admissionUnits({ params: header.params, inputBytes })
}

/** The most LLM output kept to count delivered tokens. */
const MAX_METERED_BYTES = 8 * 1024 * 1024

export interface PaidExecutor extends AiExecutor {
  /** the quote sent on every stream: prices, and ticket params for a gateway whose address is known */
  quote: AiQuoteFn
}

/**
 * Payments around the job executor, on the same stream as the job:
 * - admit (before any input is uploaded): the job header must carry the gateway's
 *   Ethereum address bound to its peer id; its tickets are validated and credited (and
 *   winners stored durably) here; the credit must cover the price of the declared
 *   input (`admissionUnits`), so no peer has bytes held on credit that cannot pay them;
 * - execute: the balance must cover price x billable units of this job;
 * - complete: the balance is debited price x units really delivered (an LLM's tokens
 *   produced, not max_tokens), plus the price per request when there is one (custom
 *   capabilities); leftover credit stays for the next job. A failed job or a runner
 *   error is not charged.
 * Refusals answer PAYMENT_REQUIRED and are counted by reason.
 */
export function createPaidExecutor (components: PaidExecutorComponents): PaidExecutor {
  const { executor, recipient, prices, logger, metrics } = components
  /** peer id -> Ethereum address, once its binding signature has verified */
  const bindings = new Map<string, string>()

  function refuse (reason: PaymentRefusal, message: string): never {
    metrics?.paymentRefusals.inc({ reason })
    logger.info({ reason, detail: message }, 'job refused: payment')
    throw new OrchestratorJobError('PAYMENT_REQUIRED', message, { reason })
  }

  // admit and execute see the same header object: validate its payment once
  const checked = new WeakMap<object, JobPayment>()

  function paymentOf (peerId: PeerId, value: PaymentBytes | null): JobPayment {
    const cached = value !== null ? checked.get(value) : undefined
    if (cached !== undefined && bindings.get(peerId.toString()) === cached.sender) return cached
    let payment: JobPayment | null
    try {
      payment = decodeJobPayment(value)
    } catch (err) {
      if (err instanceof PaymentWireError) refuse('malformed', `malformed payment: ${err.message}`)
      throw err
    }
    if (payment === null) refuse('no_payment', 'this orchestrator is paid with tickets: the job carries no payment')
    const peer = peerId.toString()
    if (bindings.get(peer) !== payment.sender) {
      if (!verifyEthBinding(peer, payment.sender, payment.binding)) refuse('bad_binding', `the payment address ${payment.sender} is not bound to peer ${peer}`)
      bindings.set(peer, payment.sender)
      if (bindings.size > 100_000) bindings.delete(bindings.keys().next().value as string)
    }
    if (value !== null) checked.set(value, payment)
    return payment
  }

  /** the price and charge as the signed receipt states them */
  function chargeOf (price: WeiPrice, charged: bigint): AiJobCharge {
    return { pricePerUnit: price.pricePerUnit.toString(), pixelsPerUnit: price.pixelsPerUnit.toString(), chargedWei: charged.toString() }
  }

  function priceOf (job: { pipeline: string, modelId: string }): WeiPrice {
    // the handler admits known pipeline names only
    const price = prices.get(modelKey({ pipeline: job.pipeline as PipelineName, modelId: job.modelId }))
    if (price === undefined) throw new OrchestratorJobError('UNSUPPORTED', `${job.pipeline} ${job.modelId} has no price here`)
    return price
  }

  /**
   * Learns a gateway's address from a QuoteRequest that names it (`{sender, binding}`, as
   * in a job header) so that its first job can already carry tickets. A payer that does
   * not verify is ignored: the quote then has no params, as before.
   */
  function learnPayer (peerId: PeerId, value: PaymentBytes): void {
    const peer = peerId.toString()
    try {
      const payer = decodeJobPayment(value, { maxTickets: 0 })
      if (payer === null || bindings.get(peer) === payer.sender) return
      if (!verifyEthBinding(peer, payer.sender, payer.binding)) {
        metrics?.paymentRefusals.inc({ reason: 'bad_binding' })
        logger.info({ peer, sender: payer.sender }, 'quote request names a payer not bound to this peer')
        return
      }
      bindings.set(peer, payer.sender)
      if (bindings.size > 100_000) bindings.delete(bindings.keys().next().value as string)
    } catch (err) {
      if (!(err instanceof PaymentWireError)) throw err
      metrics?.paymentRefusals.inc({ reason: 'malformed' })
      logger.info({ peer, err: err.message }, 'quote request names a malformed payer')
    }
  }

  return {
    async quote (peerId, { signal, payment }) {
      if (payment !== undefined) learnPayer(peerId, payment)
      const quoted = quotePrices(prices)
      const sender = bindings.get(peerId.toString())
      if (sender === undefined) return { prices: quoted, payment: encodeQuotePayment(null) }
      try {
        return { prices: quoted, payment: encodeQuotePayment(await recipient.ticketParams(sender, { signal })) }
      } catch (err) {
        metrics?.paymentRefusals.inc({ reason: 'params_unavailable' })
        logger.info({ peer: peerId.toString(), sender, err: (err as Error).message }, 'no ticket params for this gateway')
        return { prices: quoted, payment: encodeQuotePayment(null) }
      }
    },

    async admit (header: AiJobAdmission, options) {
      await executor.admit?.(header, options)
      priceOf(header)
      const payment = paymentOf(options.peerId, header.payment)
      if (payment.tickets !== null) {
        try {
          const received = await recipient.receive(payment.tickets, { signal: options.signal })
          logger.debug({ peer: options.peerId.toString(), job: header.requestId, ...received, credited: received.credited.toString(), balance: received.balance.toString() }, 'tickets received')
        } catch (err) {
          if (err instanceof TicketError || err instanceof PaymentError) refuse('ticket_refused', `${err.code}: ${err.message}`)
          throw err
        }
      }
      const balance = recipient.balance(payment.sender)
      if (balance <= 0n) refuse('insufficient_balance', `no credit for ${payment.sender}: send tickets with the job`)
      const units = admissionUnits(header)
      const need = jobFee(units, priceOf(header))
      if (balance < need) refuse('insufficient_balance', `balance ${balance.toString()} wei does not cover ${need.toString()} wei for the declared input (at least ${units.toString()} units${priceOf(header).pricePerRequest === undefined ? '' : ' and the price per request'})`)
    },

    async execute (job: InferenceJob, context: AiExecuteContext): Promise<AiExecutionResult> {
      const payment = paymentOf(context.peerId, context.payment)
      const price = priceOf(job)
      const units = billableUnits(job)
      const fee = jobFee(units, price)
      try {
        recipient.requireBalance(payment.sender, fee)
      } catch (err) {
        if (err instanceof PaymentError) refuse('insufficient_balance', `balance ${recipient.balance(payment.sender).toString()} wei does not cover ${fee.toString()} wei (${units.toString()} units)`)
        throw err
      }
      const result = await executor.execute(job, context)
      const metered: Uint8Array[] = []
      let meteredBytes = 0
      const meter = isMetered(job)
      async function * tee (): AsyncGenerator<Uint8Array> {
        for await (const chunk of result.body) {
          if (meter && meteredBytes + chunk.byteLength <= MAX_METERED_BYTES) { metered.push(chunk); meteredBytes += chunk.byteLength }
          yield chunk
        }
      }
      return {
        ...result,
        body: meter ? tee() : result.body,
        complete: async (): Promise<AiJobCompletion> => {
          const inner = await result.complete?.()
          if (result.status < 200 || result.status >= 300) {
            return { ...inner, receipt: encodeReceipt({ charged: 0n, balance: recipient.balance(payment.sender) }), charge: chargeOf(price, 0n) }
          }
          // compute time (custom capabilities) as the executor measured it, never more than was prepaid
          const timed = pipelineDefinition(job.pipeline).measured === true && inner?.units !== undefined
          const delivered = meter ? deliveredUnits(job, result.contentType, Buffer.concat(metered)) : timed ? BigInt(inner.units ?? 0) : undefined
          const actual = delivered === undefined ? units : timed && delivered > units ? units : delivered
          const charged = jobFee(actual, price)
          const balance = recipient.debit(payment.sender, charged)
          metrics?.jobsCharged.inc()
          return { units: Number(actual), receipt: encodeReceipt({ charged, balance, units: Number(actual) }), charge: chargeOf(price, charged) }
        }
      }
    }
  }
}
