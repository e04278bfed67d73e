import { PaymentWireError } from './errors.js'
import * as pb from './pb/payment.js'
import { fixedBytes, fixedHex, parseMessage, ticketBatchMessage, ticketBatchOf, ticketParamsMessage, ticketParamsOf, uint256Bytes, uint256Of } from './wire.js'
import type { TicketBatch, TicketParams } from './ticket.js'

/**
 * What travels in the payment fields of `/shoal/ai/2.0.0` (bytes, opaque to the protocol;
 * messages of pb/payment.proto):
 * - in the orchestrator's Hello/Quote: a QuotePayment, the ticket params it issued for this gateway;
 * - in a QuoteRequest and a job header: a JobPayment, the gateway's Ethereum address, the
 *   EIP-191 signature binding it to the gateway's libp2p peer id (so nobody else can
 *   spend its credit), and (job header) the tickets;
 * - in a Final OK: a Receipt, what was charged and the credit left.
 */
export interface JobPayment { sender: string, binding: string, tickets: TicketBatch | null }

/** Wei charged for a job and the payer's credit after it (negative: a debt). */
export interface PaymentReceipt { charged: bigint, balance: bigint, units?: number }

export function encodeQuotePayment (params: TicketParams | null): Uint8Array<ArrayBuffer> {
  return pb.QuotePayment.encode(params === null ? {} : { params: ticketParamsMessage(params) })
}

export function decodeQuotePayment (bytes: Uint8Array | null): TicketParams | null {
  if (bytes === null) return null
  const m = parseMessage('quote.payment', pb.QuotePayment, bytes)
  return m.params === undefined ? null : ticketParamsOf(m.params, 'quote.payment.params')
}

export function encodeJobPayment (payment: JobPayment): Uint8Array<ArrayBuffer> {
  return pb.JobPayment.encode({
    sender: fixedBytes(payment.sender),
    binding: fixedBytes(payment.binding),
    ...(payment.tickets === null ? {} : { tickets: ticketBatchMessage(payment.tickets) })
  })
}

export function decodeJobPayment (bytes: Uint8Array | null, options: { maxTickets?: number } = {}): JobPayment | null {
  if (bytes === null) return null
  const m = parseMessage('payment', pb.JobPayment, bytes)
  const sender = fixedHex(m.sender, 20, 'payment.sender', 'an address')
  const binding = fixedHex(m.binding, 65, 'payment.binding', 'a signature')
  const tickets = m.tickets === undefined ? null : ticketBatchOf(m.tickets, options)
  if (tickets !== null && tickets.sender !== sender) throw new PaymentWireError('PAYMENT_WIRE_ERROR_INVALID', 'payment.tickets are from another sender', { path: 'payment.tickets.sender' })
  return { sender, binding, tickets }
}

export function encodeReceipt (receipt: PaymentReceipt): Uint8Array<ArrayBuffer> {
  const { balance } = receipt
  return pb.Receipt.encode({
    charged: uint256Bytes(receipt.charged),
    balance: uint256Bytes(balance > 0n ? balance : 0n),
    debt: uint256Bytes(balance < 0n ? -balance : 0n),
    units: receipt.units
  })
}

/** Strictly decodes an orchestrator's receipt; throws PaymentWireError. */
export function decodeReceipt (bytes: Uint8Array): PaymentReceipt {
  const m = parseMessage('receipt', pb.Receipt, bytes)
  const credit = uint256Of(m.balance, 'receipt.balance')
  const debt = uint256Of(m.debt, 'receipt.debt')
  if (credit > 0n && debt > 0n) throw new PaymentWireError('PAYMENT_WIRE_ERROR_INVALID', 'receipt: both a balance and a debt', { path: 'receipt.debt' })
  return {
    charged: uint256Of(m.charged, 'receipt.charged'),
    balance: credit - debt,
    ...(m.units !== undefined && Number.isSafeInteger(m.units) ? { units: m.units } : {})
  }
}
