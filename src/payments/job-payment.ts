import type { JsonValue } from '../kernel/job.js'
import { PaymentWireError } from './errors.js'
import { decodeTicketBatch, decodeTicketParams, encodeTicketBatch, encodeTicketParams, type TicketBatchWire, type TicketParamsWire } from './wire.js'
import type { TicketBatch, TicketParams } from './ticket.js'

/**
 * What travels in the `payment` fields of `/shoal/ai` (opaque to the protocol):
 * - in the orchestrator's Hello/Quote: the ticket params it issued for this gateway;
 * - in a job header: the gateway's Ethereum address, the EIP-191 signature binding it to
 *   the gateway's libp2p peer id (so nobody else can spend its credit), and the tickets.
 */
export interface QuotePaymentWire { params: TicketParamsWire | null }
export interface JobPaymentWire { sender: string, binding: string, tickets: TicketBatchWire | null }

export interface JobPayment { sender: string, binding: string, tickets: TicketBatch | null }

function record (value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new PaymentWireError('PAYMENT_WIRE_ERROR_INVALID', `${path} must be an object`, { path })
  return value as Record<string, unknown>
}

export function encodeQuotePayment (params: TicketParams | null): JsonValue {
  return { params: params === null ? null : encodeTicketParams(params) } as unknown as JsonValue
}

export function decodeQuotePayment (value: JsonValue | null): TicketParams | null {
  if (value === null) return null
  const o = record(value, 'quote.payment')
  return o.params === null || o.params === undefined ? null : decodeTicketParams(o.params, 'quote.payment.params')
}

export function encodeJobPayment (payment: JobPayment): JsonValue {
  return { sender: payment.sender, binding: payment.binding, tickets: payment.tickets === null ? null : encodeTicketBatch(payment.tickets) } as unknown as JsonValue
}

export function decodeJobPayment (value: JsonValue | null, options: { maxTickets?: number } = {}): JobPayment | null {
  if (value === null) return null
  const o = record(value, 'payment')
  for (const key of Object.keys(o)) if (!['sender', 'binding', 'tickets'].includes(key)) throw new PaymentWireError('PAYMENT_WIRE_ERROR_INVALID', `payment.${key} is not a field`, { path: `payment.${key}` })
  if (typeof o.sender !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(o.sender)) throw new PaymentWireError('PAYMENT_WIRE_ERROR_INVALID', 'payment.sender must be a 20-byte 0x address', { path: 'payment.sender' })
  if (typeof o.binding !== 'string' || !/^0x[0-9a-fA-F]{130}$/.test(o.binding)) throw new PaymentWireError('PAYMENT_WIRE_ERROR_INVALID', 'payment.binding must be a 65-byte 0x signature', { path: 'payment.binding' })
  const tickets = o.tickets === null || o.tickets === undefined ? null : decodeTicketBatch(o.tickets, options)
  if (tickets !== null && tickets.sender.toLowerCase() !== o.sender.toLowerCase()) throw new PaymentWireError('PAYMENT_WIRE_ERROR_INVALID', 'payment.tickets are from another sender', { path: 'payment.tickets.sender' })
  return { sender: o.sender.toLowerCase(), binding: o.binding, tickets }
}
