import { PaymentWireError } from './errors.js'
import { bytesToBigint, bytesToHex } from './hex.js'
import * as pb from './pb/payment.js'
import type { SignedTicket, TicketBatch, TicketParams } from './ticket.js'

/**
 * The protobuf form (pb/payment.proto) of ticket params and ticket batches carried inside
 * `/shoal/ai/2.0.0` (orchestrator -> gateway: params; gateway -> orchestrator: a batch
 * in the job header). Integers are big-endian bytes without leading zeros (0 is empty),
 * at most 32 bytes; addresses are 20 bytes, hashes 32, signatures 65. Decoders accept
 * only that: anything else from a peer throws PaymentWireError with `details.path`.
 * Unknown fields are skipped, as protobuf does.
 */

/** Most tickets a decoded batch may hold (a recipient may set a lower limit). */
export const MAX_WIRE_TICKETS = 1000

function fail (path: string, message: string): never {
  throw new PaymentWireError('PAYMENT_WIRE_ERROR_INVALID', `${path}: ${message}`, { path })
}

/** protons decoding: truncated or mistyped bytes, or more tickets than the proto's limit. */
export function parseMessage<T> (path: string, codec: { decode: (buf: Uint8Array) => T }, bytes: Uint8Array): T {
  try {
    return codec.decode(bytes)
  } catch (err) {
    fail(path, `not a valid protobuf message: ${(err as Error).message}`)
  }
}

/** A uint256 as minimal big-endian bytes (0 is empty). */
export function uint256Bytes (value: bigint): Uint8Array<ArrayBuffer> {
  if (value === 0n) return new Uint8Array(0)
  const hex = value.toString(16)
  return new Uint8Array(Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex'))
}

export function uint256Of (bytes: Uint8Array, path: string): bigint {
  if (bytes.byteLength > 32) fail(path, 'larger than 2^256 - 1')
  if (bytes.byteLength > 0 && bytes[0] === 0) fail(path, 'has leading zero bytes')
  return bytesToBigint(bytes)
}

/** Fixed-length bytes (address 20, hash 32, signature 65) from 0x-hex, lower-cased on decode. */
export function fixedBytes (hex: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(hex.slice(2), 'hex'))
}

export function fixedHex (bytes: Uint8Array, length: number, path: string, what: string): string {
  if (bytes.byteLength !== length) fail(path, `expected ${what} (${length} bytes)`)
  return bytesToHex(bytes)
}

export function ticketParamsMessage (params: TicketParams): pb.TicketParams {
  return {
    recipient: fixedBytes(params.recipient),
    faceValue: uint256Bytes(params.faceValue),
    winProb: uint256Bytes(params.winProb),
    recipientRandHash: fixedBytes(params.recipientRandHash),
    seed: fixedBytes(params.seed),
    expirationBlock: uint256Bytes(params.expirationBlock),
    chainId: uint256Bytes(params.chainId),
    broker: fixedBytes(params.broker)
  }
}

export function ticketParamsOf (m: pb.TicketParams, path = 'params'): TicketParams {
  return {
    recipient: fixedHex(m.recipient, 20, `${path}.recipient`, 'an address'),
    faceValue: uint256Of(m.faceValue, `${path}.faceValue`),
    winProb: uint256Of(m.winProb, `${path}.winProb`),
    recipientRandHash: fixedHex(m.recipientRandHash, 32, `${path}.recipientRandHash`, 'a hash'),
    seed: fixedHex(m.seed, 32, `${path}.seed`, 'a seed'),
    expirationBlock: uint256Of(m.expirationBlock, `${path}.expirationBlock`),
    chainId: uint256Of(m.chainId, `${path}.chainId`),
    broker: fixedHex(m.broker, 20, `${path}.broker`, 'an address')
  }
}

export function ticketBatchMessage (batch: TicketBatch): pb.TicketBatch {
  return {
    params: ticketParamsMessage(batch.params),
    sender: fixedBytes(batch.sender),
    tickets: batch.tickets.map(t => ({ senderNonce: uint256Bytes(t.senderNonce), signature: new Uint8Array(t.signature) }))
  }
}

export function ticketBatchOf (m: pb.TicketBatch, options: { maxTickets?: number } = {}): TicketBatch {
  const maxTickets = options.maxTickets ?? MAX_WIRE_TICKETS
  if (m.params === undefined) fail('batch.params', 'missing')
  const params = ticketParamsOf(m.params, 'batch.params')
  const sender = fixedHex(m.sender, 20, 'batch.sender', 'an address')
  if (m.tickets.length === 0) fail('batch.tickets', 'expected at least one ticket')
  if (m.tickets.length > maxTickets) fail('batch.tickets', `at most ${maxTickets} tickets`)
  const tickets: SignedTicket[] = m.tickets.map((t, i) => {
    if (t.signature.byteLength !== 65) fail(`batch.tickets[${i}].signature`, 'expected a signature (65 bytes)')
    return { senderNonce: uint256Of(t.senderNonce, `batch.tickets[${i}].senderNonce`), signature: t.signature }
  })
  return { params, sender, tickets }
}

export function encodeTicketParams (params: TicketParams): Uint8Array<ArrayBuffer> {
  return pb.TicketParams.encode(ticketParamsMessage(params))
}

/** Strictly decodes ticket params from a peer; throws PaymentWireError. */
export function decodeTicketParams (bytes: Uint8Array, path = 'params'): TicketParams {
  return ticketParamsOf(parseMessage(path, pb.TicketParams, bytes), path)
}

export function encodeTicketBatch (batch: TicketBatch): Uint8Array<ArrayBuffer> {
  return pb.TicketBatch.encode(ticketBatchMessage(batch))
}

/** Strictly decodes a ticket batch from a peer; throws PaymentWireError. */
export function decodeTicketBatch (bytes: Uint8Array, options: { maxTickets?: number } = {}): TicketBatch {
  return ticketBatchOf(parseMessage('batch', pb.TicketBatch, bytes), options)
}
