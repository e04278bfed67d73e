import type { PeerId } from '@libp2p/interface'
import { billableUnits, jobFee } from '../kernel/billing.js'
import type { InferenceJob } from '../kernel/job.js'
import type { Logger } from '../observability/logger.js'
import { decodeQuotePayment, decodeReceipt, encodeJobPayment } from '../payments/job-payment.js'
import { PaymentError, PaymentWireError, type Payment, type PaymentSender } from '../payments/index.js'
import type { AiClient, AiJobResult, AiQuote, AiRunJobOptions, FinalMessage, PaymentBytes } from '../protocols/ai/index.js'
import { createJobError, JobError, PaymentRequiredError } from './dispatch/errors.js'

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

/**
 * What a payment this gateway could not make is, in the one error model: its own limit
 * (GATEWAY_LIMIT, naming the limit), its own chain RPC or signer failing (GATEWAY_FAILURE:
 * no orchestrator is at fault, none is penalised), or ticket params the orchestrator sent
 * that cannot be used (PAYMENT_REQUIRED, the orchestrator's fault).
 */
function paymentFailure (err: unknown, signal: AbortSignal): unknown {
  // an aborted attempt (client gone, hedge lost) is the dispatcher's to report
  if (err instanceof JobError || signal.aborted) return err
  if (err instanceof PaymentError) {
    const limit = gatewayLimitOf(err)
    if (limit !== undefined) {
      // the job costs more than this gateway will risk
      return createJobError('GATEWAY_LIMIT', `this gateway's ${limit} limit refuses the payment: ${err.message}`, { limit, paymentCode: err.code, ...err.details }, { cause: err })
    }
    if (err.code === 'PAYMENT_ERROR_BROKER_UNAVAILABLE') {
      return createJobError('GATEWAY_FAILURE', `this gateway cannot read the chain: ${err.message}`, { dependency: 'chain', paymentCode: err.code }, { cause: err })
    }
    return new PaymentRequiredError(`unusable ticket params from the orchestrator: ${err.code}: ${err.message}`, { paymentCode: err.code }, { cause: err })
  }
  // anything else is this gateway's own (its signer, its store)
  return createJobError('GATEWAY_FAILURE', `this gateway could not pay: ${(err as Error)?.message ?? String(err)}`, { dependency: 'signer' }, { cause: err })
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
  const payer = (quote: AiQuote): PaymentBytes | undefined => {
    try {
      return paramsOf(quote) === null ? withoutTickets : undefined
    } catch {
      return undefined
    }
  }

  async function attempt (peerId: PeerId, job: InferenceJob, options: PaidJobOptions): Promise<{ result: AiJobResult, payment: Payment | undefined }> {
    let payment: Payment | undefined
    let cancelAnswer: Promise<FinalMessage | undefined> | undefined
    const build = async (quote: AiQuote): Promise<PaymentBytes> => {
      let params
      try {
        params = paramsOf(quote)
      } catch (err) {
        if (err instanceof PaymentWireError) throw new PaymentRequiredError(`orchestrator sent malformed ticket params: ${err.message}`)
        throw err
      }
      if (params === null) return withoutTickets
      const price = quote.prices.find(p => p.pipeline === job.pipeline && p.modelId === job.modelId)
      if (price === undefined) throw createJobError('UNSUPPORTED', `orchestrator quotes no price for ${job.pipeline} ${job.modelId}`)
      const feeWei = jobFee(billableUnits(job), {
        pricePerUnit: BigInt(price.pricePerUnit),
        pixelsPerUnit: BigInt(price.pixelsPerUnit),
        ...(price.pricePerRequest === undefined ? {} : { pricePerRequest: BigInt(price.pricePerRequest) })
      })
      try {
        payment = await sender.paymentFor({ recipient: params.recipient, params, feeWei }, { signal: options.signal })
      } catch (err) {
        if (err instanceof PaymentError && err.code === 'PAYMENT_ERROR_PARAMS_EXPIRED') {
          // send no tickets: the orchestrator asks again and the retry fetches fresh params
          return withoutTickets
        }
        throw paymentFailure(err, options.signal)
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
  function settleReceipt (payment: Payment, receipt: PaymentBytes | undefined): void {
    let decodedReceipt
    try {
      decodedReceipt = receipt === undefined ? undefined : decodeReceipt(receipt)
    } catch (err) {
      logger.info({ peer: payment.recipient, err: (err as Error).message }, 'malformed receipt: counted as nothing charged')
    }
    if (decodedReceipt === undefined) { sender.refund(payment.recipient, payment.feeWei); return }
    const { charged, balance } = decodedReceipt
    if (charged < payment.feeWei) sender.refund(payment.recipient, payment.feeWei - charged)
    sender.setCredit(payment.recipient, balance)
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
