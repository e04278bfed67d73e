import { cachedBroker, type AbortOptions, type Broker } from './broker.js'
import { systemClock, type Clock } from './clock.js'
import { PaymentError } from './errors.js'
import { normalizeAddress } from './hex.js'
import { weiToMetric, type PaymentMetrics } from './metrics.js'
import { defaultSenderCaps, defaultSenderOptions, type SenderCaps, type SenderOptions } from './options.js'
import { createSender, type Sender } from './sender.js'
import { createTicketSigner, type TicketSigner } from '../identity/ethereum.js'
import type { TicketBatch, TicketParams } from './ticket.js'

/** What to pay one job with. */
export interface PaymentRequest {
  /** the orchestrator's Ethereum address (as it announced it) */
  recipient: string
  /** its current ticket params (from the stream) */
  params: TicketParams
  /** what the job is expected to cost: price per unit x units, in wei */
  feeWei: bigint
}

/** Tickets for one job, or none when earlier credit covers it. */
export interface Payment {
  recipient: string
  /** null when the credit already at the recipient covers the fee */
  batch: TicketBatch | null
  /** EV of the batch (0 without one) */
  evWei: bigint
  feeWei: bigint
  /** this sender's estimate of its credit at the recipient after the job */
  creditAfter: bigint
}

/**
 * The gateway's payments: how many tickets a job needs given the credit already sent to
 * the orchestrator (tickets = ceil((fee - credit) / ticket EV), as the reference), never
 * beyond the caps (per ticket, per job, max float).
 *
 * Credit bookkeeping: `paymentFor` assumes the job will be charged `feeWei`. If the
 * orchestrator refused the batch (nothing credited), call `cancel(payment)`; if it accepted
 * the tickets but charged less than the fee (or nothing, when the job failed), call
 * `refund(recipient, unchargedWei)`. When the orchestrator reports its balance for us,
 * `setCredit` adopts it (never above our own estimate).
 */
export interface PaymentSender {
  readonly address: string
  /** Throws PaymentError (see Sender.validateTicketParams, and PAYMENT_ERROR_JOB_EV_OVER_CAP). */
  paymentFor: (request: PaymentRequest, options?: AbortOptions) => Promise<Payment>
  /** undoes a payment the recipient did not accept */
  cancel: (payment: Payment) => void
  /** gives back credit for work that was paid for but not charged */
  refund: (recipient: string, wei: bigint) => void
  /** this sender's estimate of its credit at `recipient` */
  credit: (recipient: string) => bigint
  /** adopts the recipient's reported balance when it is lower than our estimate */
  setCredit: (recipient: string, wei: bigint) => void
  /** what this sender sent `recipient` since it started: tickets, their expected value, jobs paid (undefined: nothing) */
  sent: (recipient: string) => RecipientPayments | undefined
  /** the largest face value this sender accepts from `recipient` now */
  maxFloat: (recipient: string, options?: AbortOptions) => Promise<bigint>
  /** the underlying ticket maker */
  readonly sender: Sender
}

/** What a sender sent one recipient since it started. */
export interface RecipientPayments {
  /** tickets sent */
  tickets: number
  /** their expected value, in wei */
  evWei: bigint
  /** jobs paid, by tickets or by credit already there */
  jobs: number
  /** what those jobs were expected to cost, in wei */
  feesWei: bigint
}

export interface PaymentSenderInit {
  /** 0x-hex secp256k1 key that signs tickets (the account holding the deposit) */
  privateKey?: string
  /** or an existing signer */
  signer?: TicketSigner
  /** the chain broker; wrapped in a short-lived read cache */
  broker: Broker
  caps?: Partial<SenderCaps>
  options?: Partial<SenderOptions>
  clock?: Clock
  metrics?: PaymentMetrics | null
}

export function createPaymentSender (init: PaymentSenderInit): PaymentSender {
  const signer = init.signer ?? (init.privateKey !== undefined ? createTicketSigner(init.privateKey) : undefined)
  if (signer === undefined) throw new TypeError('createPaymentSender needs a privateKey or a signer')
  const caps: SenderCaps = { ...defaultSenderCaps, ...init.caps }
  const options: SenderOptions = { ...defaultSenderOptions, ...init.options }
  const clock = init.clock ?? systemClock
  const metrics = init.metrics ?? null
  const broker = cachedBroker(init.broker, clock, { blockTtlMs: options.blockTtlMs, senderTtlMs: options.senderInfoTtlMs })
  const sender = createSender({ signer, broker, caps, options })
  const credits = new Map<string, bigint>()
  // as bounded as the credits: the least recently paid recipient goes first
  const sent = new Map<string, RecipientPayments>()
  const record = (recipient: string, tickets: bigint, evWei: bigint, feeWei: bigint): void => {
    const was = sent.get(recipient) ?? { tickets: 0, evWei: 0n, jobs: 0, feesWei: 0n }
    sent.delete(recipient)
    if (sent.size >= options.maxRecipients) sent.delete(sent.keys().next().value as string)
    sent.set(recipient, { tickets: was.tickets + Number(tickets), evWei: was.evWei + evWei, jobs: was.jobs + 1, feesWei: was.feesWei + feeWei })
  }

  const getCredit = (recipient: string): bigint => credits.get(recipient) ?? 0n
  const setCreditRaw = (recipient: string, wei: bigint): void => {
    credits.delete(recipient)
    if (credits.size >= options.maxRecipients) credits.delete(credits.keys().next().value as string)
    credits.set(recipient, wei)
  }
  const refused = (err: unknown): never => {
    if (err instanceof PaymentError) metrics?.paymentsRefused.inc({ code: err.code })
    throw err
  }

  return {
    address: signer.address,
    sender,

    async paymentFor (request, opts) {
      const recipient = normalizeAddress(request.recipient)
      if (request.feeWei < 0n) throw new RangeError('feeWei must not be negative')
      if (request.feeWei <= getCredit(recipient)) {
        const creditAfter = getCredit(recipient) - request.feeWei
        setCreditRaw(recipient, creditAfter)
        record(recipient, 0n, 0n, request.feeWei)
        return { recipient, batch: null, evWei: 0n, feeWei: request.feeWei, creditAfter }
      }
      let ev: bigint
      try {
        ({ ev } = await sender.validateTicketParams(request.params, recipient, opts))
      } catch (err) {
        if (err instanceof PaymentError || opts?.signal?.aborted === true) return refused(err)
        return refused(new PaymentError('PAYMENT_ERROR_BROKER_UNAVAILABLE', `cannot read the broker: ${(err as Error).message}`, undefined, { cause: err }))
      }
      // the credit may have moved while we read the chain: decide on the current value
      const need = request.feeWei - getCredit(recipient)
      if (need <= 0n) {
        const creditAfter = getCredit(recipient) - request.feeWei
        setCreditRaw(recipient, creditAfter)
        record(recipient, 0n, 0n, request.feeWei)
        return { recipient, batch: null, evWei: 0n, feeWei: request.feeWei, creditAfter }
      }
      const count = (need + ev - 1n) / ev
      const evWei = count * ev
      if (count > BigInt(caps.maxTicketsPerBatch)) {
        return refused(new PaymentError('PAYMENT_ERROR_JOB_EV_OVER_CAP', `the job needs ${count} tickets; at most ${caps.maxTicketsPerBatch} are sent at once`, { tickets: count.toString() }))
      }
      if (caps.maxJobEV !== undefined && evWei > caps.maxJobEV) {
        return refused(new PaymentError('PAYMENT_ERROR_JOB_EV_OVER_CAP', `the job needs ${evWei} wei of tickets; the cap is ${caps.maxJobEV}`, { evWei: evWei.toString() }))
      }
      const batch = sender.createTicketBatch(request.params, Number(count))
      const creditAfter = getCredit(recipient) + evWei - request.feeWei
      setCreditRaw(recipient, creditAfter)
      record(recipient, count, evWei, request.feeWei)
      metrics?.ticketsSent.inc(Number(count))
      metrics?.evSent.inc(weiToMetric(evWei))
      return { recipient, batch, evWei, feeWei: request.feeWei, creditAfter }
    },

    cancel (payment) {
      setCreditRaw(payment.recipient, getCredit(payment.recipient) - payment.evWei + payment.feeWei)
    },

    refund (recipient, wei) {
      if (wei < 0n) throw new RangeError('refund must not be negative')
      const r = normalizeAddress(recipient)
      setCreditRaw(r, getCredit(r) + wei)
    },

    credit: (recipient) => getCredit(normalizeAddress(recipient)),

    sent: (recipient) => {
      const s = sent.get(normalizeAddress(recipient))
      return s === undefined ? undefined : { ...s }
    },

    setCredit (recipient, wei) {
      const r = normalizeAddress(recipient)
      if (wei < getCredit(r)) setCreditRaw(r, wei)
    },

    maxFloat: async (recipient, opts) => await sender.maxFloat(normalizeAddress(recipient), opts)
  }
}
