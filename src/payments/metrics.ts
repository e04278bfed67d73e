import { Counter, Gauge, type Registry } from 'prom-client'

/** Outcomes of one redemption attempt (bounded label). */
export type RedemptionResult =
  | 'redeemed' // mined and paid
  | 'already_used' // someone redeemed it before us
  | 'refused' // the contract refused for good (not winning, bad signature, window passed, ...)
  | 'expired' // its redeem window passed before we could submit it
  | 'retry' // transient failure: RPC down, tx dropped, sender unfunded for now
  | 'skipped_gas' // face value would not cover the gas: waits for cheaper gas

/** Outcomes of a ticket-params request from a sender (bounded label). */
export type ParamsResult = 'issued' | 'refused'

/**
 * Payment metrics. Labels are bounded: `result` of a received ticket is `accepted` or a
 * TicketErrorCode, redemption results come from RedemptionResult. Wei amounts are
 * counters of wei as floats (exact up to 2^53 wei per increment).
 */
export function createPaymentMetrics (register: Registry) {
  const registers = [register]
  return {
    ticketsReceived: new Counter({
      name: 'shoal_payments_tickets_received_total',
      help: 'Tickets received by a recipient, by result (accepted or a TICKET_ERROR_* code)',
      labelNames: ['result'] as const,
      registers
    }),
    evCredited: new Counter({
      name: 'shoal_payments_ev_credited_wei_total',
      help: 'Expected value of accepted tickets credited to senders, in wei',
      registers
    }),
    debited: new Counter({
      name: 'shoal_payments_debited_wei_total',
      help: 'Work charged to senders\' balances, in wei',
      registers
    }),
    insufficientBalance: new Counter({
      name: 'shoal_payments_insufficient_balance_total',
      help: 'Work refused because the sender\'s balance was short',
      registers
    }),
    winningTickets: new Counter({
      name: 'shoal_payments_winning_tickets_total',
      help: 'Winning tickets received and stored for redemption',
      registers
    }),
    winningFaceValue: new Counter({
      name: 'shoal_payments_winning_face_value_wei_total',
      help: 'Face value of winning tickets stored for redemption, in wei',
      registers
    }),
    paramsIssued: new Counter({
      name: 'shoal_payments_ticket_params_total',
      help: 'Ticket params requests by result (issued, refused)',
      labelNames: ['result'] as const,
      registers
    }),
    redemptions: new Counter({
      name: 'shoal_payments_redemptions_total',
      help: 'Redemption attempts by result',
      labelNames: ['result'] as const,
      registers
    }),
    redeemedWei: new Counter({
      name: 'shoal_payments_redeemed_wei_total',
      help: 'Wei received from redeemed tickets',
      registers
    }),
    pendingWinners: new Gauge({
      name: 'shoal_payments_pending_winning_tickets',
      help: 'Winning tickets stored and not yet redeemed, expired or refused',
      registers
    }),
    ticketsSent: new Counter({
      name: 'shoal_payments_tickets_sent_total',
      help: 'Tickets signed and sent by this node as a sender',
      registers
    }),
    evSent: new Counter({
      name: 'shoal_payments_ev_sent_wei_total',
      help: 'Expected value of tickets sent, in wei',
      registers
    }),
    paymentsRefused: new Counter({
      name: 'shoal_payments_sender_refused_total',
      help: 'Payments the sender refused to make, by PAYMENT_ERROR_* code',
      labelNames: ['code'] as const,
      registers
    })
  }
}

export type PaymentMetrics = ReturnType<typeof createPaymentMetrics>

/** bigint wei to a metric increment */
export function weiToMetric (wei: bigint): number {
  return Number(wei)
}
