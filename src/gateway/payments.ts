import type { PeerId } from '@libp2p/interface'
import { billableUnits, feeFor } from '../kernel/billing.js'
import type { InferenceJob, JsonValue } from '../kernel/job.js'
import type { Logger } from '../observability/logger.js'
import { decodeQuotePayment, encodeJobPayment } from '../payments/job-payment.js'
import { PaymentError, PaymentWireError, type Payment, type PaymentSender } from '../payments/index.js'
import { PaymentRequiredError, type AiClient, type AiJobResult, type AiQuote, type AiRunJobOptions, type FinalMessage } from '../protocols/ai/index.js'
import { createJobError } from './dispatch/errors.js'

export interface JobPayerComponents {
  client: AiClient
  sender: PaymentSender
  /** the gateway's Ethereum address and its EIP-191 binding to the gateway's peer id */
  identity: { address: string, binding: string }
  logger: Logger
}

/** What a payment refused by this gateway's own limits is called (`details.limit`), by the sender's error. */
function gatewayLimitOf (err: PaymentError): string | undefined {
  switch (err.code) {
    case 'PAYMENT_ERROR_JOB_EV_OVER_CAP': return err.details?.tickets !== undefined ? 'maxTicketsPerBatch' : 'maxJobEV'
    case 'PAYMENT_ERROR_TICKET_EV_OVER_CAP': return 'maxTicketEV'
    case 'PAYMENT_ERROR_FACE_VALUE_OVER_MAX_FLOAT': return err.details?.maxFloat !== undefined ? 'maxFloat' : 'maxFaceValue'
    default: return undefined
  }
}

/** The options of one paid attempt that the payer passes on to the client. */
export type PaidJobOptions = Pick<AiRunJobOptions, 'deadlineMs' | 'firstByteDeadlineMs' | 'quoteMaxAgeMs'> & { signal: AbortSignal, requestId: string }

/**
 * Runs a job with payment: tickets for price x billable units (minus credit already at
 * the orchestrator) go in the job header, built from the ticket params in the stream's
 * quote. A stream whose quote has no ticket params for us (first contact: the
 * orchestrator does not know our address yet, or it restarted) first asks for a quote
 * naming this gateway, so the first job is paid too. When the orchestrator still answers
 * PAYMENT_REQUIRED (params expired) the quote is refreshed and the job retried once.
 * Afterwards the credit estimate follows the orchestrator's receipt, is refunded when the
 * job failed after its tickets were accepted (or was cancelled: nothing is charged), and
 * undone when they were refused. A payment this gateway's own limits refuse is a
 * `JOB_ERROR_GATEWAY_LIMIT` naming the limit: no orchestrator is to blame.
 */
export function createJobPayer (components: JobPayerComponents) {
  const { client, sender, identity, logger } = components
  // a quote is reused by every job on its stream until it is refreshed: decode its params once
  const decoded = new WeakMap<AiQuote, ReturnType<typeof decodeQuotePayment>>()
  const paramsOf = (quote: AiQuote): ReturnType<typeof decodeQuotePayment> => {
    if (!decoded.has(quote)) decoded.set(quote, decodeQuotePayment(quote.payment))
    return decoded.get(quote) ?? null
  }
  const withoutTickets = encodeJobPayment({ sender: identity.address, binding: identity.binding, tickets: null })

  /** Our address and binding, asked for when the stream's quote holds no params for us. */
  const payer = (quote: AiQuote): JsonValue | undefined => {
    try {
      return paramsOf(quote) === null ? withoutTickets : undefined
    } catch {
      return undefined
    }
  }

  async function attempt (peerId: PeerId, job: InferenceJob, options: PaidJobOptions): Promise<{ result: AiJobResult, payment: Payment | undefined }> {
    let payment: Payment | undefined
    let cancelAnswer: Promise<FinalMessage | undefined> | undefined
    const build = async (quote: AiQuote): Promise<JsonValue> => {
      let params
      try {
        params = paramsOf(quote)
      } catch (err) {
        if (err instanceof PaymentWireError) throw new PaymentRequiredError(`orchestrator sent malformed ticket params: ${err.message}`, { finalCode: 'PAYMENT_REQUIRED' })
        throw err
      }
      if (params === null) return withoutTickets
      const price = quote.prices.find(p => p.pipeline === job.pipeline && p.modelId === job.modelId)
      if (price === undefined) throw createJobError('JOB_ERROR_UNSUPPORTED', `orchestrator quotes no price for ${job.pipeline} ${job.modelId}`)
      const feeWei = feeFor(billableUnits(job), { pricePerUnit: BigInt(price.pricePerUnit), pixelsPerUnit: BigInt(price.pixelsPerUnit) })
      try {
        payment = await sender.paymentFor({ recipient: params.recipient, params, feeWei }, { signal: options.signal })
      } catch (err) {
        if (err instanceof PaymentError && err.code === 'PAYMENT_ERROR_PARAMS_EXPIRED') {
          // send no tickets: the orchestrator asks again and the retry fetches fresh params
          return withoutTickets
        }
        const limit = err instanceof PaymentError ? gatewayLimitOf(err) : undefined
        if (limit !== undefined) {
          // the job costs more than this gateway will risk: no orchestrator is at fault
          throw createJobError('JOB_ERROR_GATEWAY_LIMIT', `this gateway's ${limit} limit refuses the payment: ${(err as Error).message}`, { limit, paymentCode: (err as PaymentError).code, ...(err as PaymentError).details })
        }
        if (err instanceof PaymentError) {
          // unusable params, or the chain cannot be read
          throw createJobError('JOB_ERROR_RUNNER_FAILURE', `payment refused by this gateway: ${err.code}: ${err.message}`, { finalCode: 'PAYMENT_REQUIRED', paymentCode: err.code })
        }
        throw err
      }
      return payment.batch === null ? withoutTickets : encodeJobPayment({ sender: identity.address, binding: identity.binding, tickets: payment.batch })
    }
    try {
      const result = await client.runJob(peerId, job, { ...options, payment: build, payer, onCancel: (answer) => { cancelAnswer = answer } })
      return { result, payment }
    } catch (err) {
      if (payment !== undefined) {
        const paid = payment
        if (cancelAnswer === undefined) sender.cancel(paid)
        else void cancelAnswer.then(final => { settleCancelled(paid, final) })
      }
      throw err
    }
  }

  /**
   * A job we cancelled before its result: CANCELLED means its tickets were credited and
   * nothing charged; OK (it finished as we cancelled) carries the balance; anything else
   * (refused, or no answer) counts as not credited, the safe side for us.
   */
  function settleCancelled (payment: Payment, final: FinalMessage | undefined): void {
    if (final?.code === 'CANCELLED') sender.refund(payment.recipient, payment.feeWei)
    else if (final?.code === 'OK') settleReceipt(payment, final.receipt)
    else sender.cancel(payment)
  }

  function settle (result: AiJobResult, payment: Payment | undefined): void {
    if (payment === undefined) return
    result.final.then(({ receipt }) => { settleReceipt(payment, receipt) }, () => { sender.refund(payment.recipient, payment.feeWei) })
  }

  /**
   * The payment assumed the whole fee would be charged: give back what was not (an LLM
   * is charged for the tokens it produced, not max_tokens), then adopt the reported
   * balance if it is lower still. Without a receipt nothing was charged.
   */
  function settleReceipt (payment: Payment, receipt: JsonValue | undefined): void {
    const { charged, balance } = (receipt ?? {}) as { charged?: unknown, balance?: unknown }
    const wei = (v: unknown): bigint | undefined => typeof v === 'string' && /^-?\d+$/.test(v) ? BigInt(v) : undefined
    const chargedWei = wei(charged)
    const balanceWei = wei(balance)
    if (chargedWei === undefined && balanceWei === undefined) { sender.refund(payment.recipient, payment.feeWei); return }
    if (chargedWei !== undefined && chargedWei >= 0n && chargedWei < payment.feeWei) sender.refund(payment.recipient, payment.feeWei - chargedWei)
    if (balanceWei !== undefined) sender.setCredit(payment.recipient, balanceWei)
  }

  return {
    async runJob (peerId: PeerId, job: InferenceJob, options: PaidJobOptions): Promise<AiJobResult> {
      try {
        const { result, payment } = await attempt(peerId, job, options)
        settle(result, payment)
        return result
      } catch (err) {
        if (!(err instanceof PaymentRequiredError)) throw err
        logger.debug({ peer: peerId.toString(), job: options.requestId, reason: (err as Error).message }, 'payment required: retrying with fresh ticket params')
        const { result, payment } = await attempt(peerId, job, { ...options, quoteMaxAgeMs: 0 })
        settle(result, payment)
        return result
      }
    }
  }
}
