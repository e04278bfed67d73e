import type { PeerId } from '@libp2p/interface'
import { billableUnits, feeFor } from '../inference/billing.js'
import type { InferenceJob, JsonValue } from '../inference/job.js'
import type { Logger } from '../observability/logger.js'
import { decodeQuotePayment, encodeJobPayment } from '../payments/job-payment.js'
import { PaymentError, PaymentWireError, type Payment, type PaymentSender } from '../payments/index.js'
import type { AiClient, AiJobResult, AiQuote } from '../protocols/ai/index.js'
import { createJobError, JobError } from './dispatch/errors.js'

export interface JobPayerComponents {
  client: AiClient
  sender: PaymentSender
  /** the gateway's Ethereum address and its EIP-191 binding to the gateway's peer id */
  identity: { address: string, binding: string }
  logger: Logger
}

function isPaymentRequired (err: unknown): boolean {
  return err instanceof JobError && (err.details as { finalCode?: string } | undefined)?.finalCode === 'PAYMENT_REQUIRED'
}

/**
 * Runs a job with payment: tickets for price x billable units (minus credit already at
 * the orchestrator) go in the job header, built from the ticket params in the stream's
 * quote. When the orchestrator answers PAYMENT_REQUIRED (first contact, params expired,
 * it restarted) the quote is refreshed and the job retried once. Afterwards the credit
 * estimate follows the orchestrator's receipt, or is refunded when the job failed.
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

  async function attempt (peerId: PeerId, job: InferenceJob, options: { signal: AbortSignal, requestId: string, deadlineMs?: number, quoteMaxAgeMs?: number }): Promise<{ result: AiJobResult, payment: Payment | undefined }> {
    let payment: Payment | undefined
    const build = async (quote: AiQuote): Promise<JsonValue> => {
      let params
      try {
        params = paramsOf(quote)
      } catch (err) {
        if (err instanceof PaymentWireError) throw createJobError('JOB_ERROR_RUNNER_FAILURE', `orchestrator sent malformed ticket params: ${err.message}`, { finalCode: 'PAYMENT_REQUIRED' })
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
        if (err instanceof PaymentError) {
          // the orchestrator asks for more than this gateway will risk (face value over max float, caps)
          throw createJobError('JOB_ERROR_RUNNER_FAILURE', `payment refused by this gateway: ${err.code}: ${err.message}`, { finalCode: 'PAYMENT_REQUIRED', paymentCode: err.code })
        }
        throw err
      }
      return payment.batch === null ? withoutTickets : encodeJobPayment({ sender: identity.address, binding: identity.binding, tickets: payment.batch })
    }
    try {
      const result = await client.runJob(peerId, job, { ...options, payment: build })
      return { result, payment }
    } catch (err) {
      if (payment !== undefined) sender.cancel(payment)
      throw err
    }
  }

  function settle (result: AiJobResult, payment: Payment | undefined): void {
    if (payment === undefined) return
    result.final.then(({ receipt }) => {
      const balance = (receipt as { balance?: unknown } | undefined)?.balance
      if (typeof balance === 'string' && /^-?\d+$/.test(balance)) sender.setCredit(payment.recipient, BigInt(balance))
      else sender.refund(payment.recipient, payment.feeWei)
    }, () => { sender.refund(payment.recipient, payment.feeWei) })
  }

  return {
    async runJob (peerId: PeerId, job: InferenceJob, options: { signal: AbortSignal, requestId: string, deadlineMs?: number }): Promise<AiJobResult> {
      try {
        const { result, payment } = await attempt(peerId, job, options)
        settle(result, payment)
        return result
      } catch (err) {
        if (!isPaymentRequired(err) || (err as JobError).details?.paymentCode !== undefined) throw err
        logger.debug({ peer: peerId.toString(), job: options.requestId, reason: (err as Error).message }, 'payment required: retrying with fresh ticket params')
        const { result, payment } = await attempt(peerId, job, { ...options, quoteMaxAgeMs: 0 })
        settle(result, payment)
        return result
      }
    }
  }
}
