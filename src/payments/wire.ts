import { PaymentWireError } from './errors.js'
import { bytesToHex, hexToBytes, UINT256_MAX } from './hex.js'
import type { SignedTicket, TicketBatch, TicketParams } from './ticket.js'

/**
 * The JSON form of ticket params and ticket batches carried inside `/shoal/ai/1.0.0`
 * (orchestrator -> gateway: params; gateway -> orchestrator: a batch in the job header).
 * Integers are decimal strings (no sign, no leading zeros, at most 2^256 - 1), bytes are
 * 0x-hex of an exact length; addresses and hashes are lower-cased on decode. Decoders
 * accept only that: anything else from a peer throws PaymentWireError with `details.path`.
 * Unknown keys are ignored, so fields can be added without a new protocol version.
 */
export interface TicketParamsWire {
  recipient: string
  faceValue: string
  winProb: string
  recipientRandHash: string
  seed: string
  expirationBlock: string
  chainId: string
  broker: string
}

export interface SignedTicketWire {
  senderNonce: string
  signature: string
}

export interface TicketBatchWire {
  params: TicketParamsWire
  sender: string
  tickets: SignedTicketWire[]
}

/** Most tickets a decoded batch may hold (a recipient may set a lower limit). */
export const MAX_WIRE_TICKETS = 1000

const DECIMAL_RE = /^(?:0|[1-9][0-9]{0,77})$/
const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/
const BYTES32_RE = /^0x[0-9a-fA-F]{64}$/
const SIGNATURE_RE = /^0x[0-9a-fA-F]{130}$/

function fail (path: string, message: string): never {
  throw new PaymentWireError('PAYMENT_WIRE_ERROR_INVALID', `${path}: ${message}`, { path })
}

function record (value: unknown, path: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(path, 'expected an object')
  return value as Record<string, unknown>
}

function uint256 (obj: Record<string, unknown>, key: string, path: string): bigint {
  const v = obj[key]
  if (typeof v !== 'string' || !DECIMAL_RE.test(v)) fail(`${path}.${key}`, 'expected a decimal string')
  const n = BigInt(v)
  if (n > UINT256_MAX) fail(`${path}.${key}`, 'larger than 2^256 - 1')
  return n
}

function matching (obj: Record<string, unknown>, key: string, path: string, re: RegExp, what: string): string {
  const v = obj[key]
  if (typeof v !== 'string' || !re.test(v)) fail(`${path}.${key}`, `expected ${what}`)
  return v.toLowerCase()
}

export function encodeTicketParams (params: TicketParams): TicketParamsWire {
  return {
    recipient: params.recipient,
    faceValue: params.faceValue.toString(),
    winProb: params.winProb.toString(),
    recipientRandHash: params.recipientRandHash,
    seed: params.seed,
    expirationBlock: params.expirationBlock.toString(),
    chainId: params.chainId.toString(),
    broker: params.broker
  }
}

/** Strictly decodes ticket params from a peer; throws PaymentWireError. */
export function decodeTicketParams (value: unknown, path = 'params'): TicketParams {
  const o = record(value, path)
  return {
    recipient: matching(o, 'recipient', path, ADDRESS_RE, 'a 20-byte 0x address'),
    faceValue: uint256(o, 'faceValue', path),
    winProb: uint256(o, 'winProb', path),
    recipientRandHash: matching(o, 'recipientRandHash', path, BYTES32_RE, '32 bytes of 0x-hex'),
    seed: matching(o, 'seed', path, BYTES32_RE, '32 bytes of 0x-hex'),
    expirationBlock: uint256(o, 'expirationBlock', path),
    chainId: uint256(o, 'chainId', path),
    broker: matching(o, 'broker', path, ADDRESS_RE, 'a 20-byte 0x address')
  }
}

export function encodeTicketBatch (batch: TicketBatch): TicketBatchWire {
  return {
    params: encodeTicketParams(batch.params),
    sender: batch.sender,
    tickets: batch.tickets.map(t => ({ senderNonce: t.senderNonce.toString(), signature: bytesToHex(t.signature) }))
  }
}

/** Strictly decodes a ticket batch from a peer; throws PaymentWireError. */
export function decodeTicketBatch (value: unknown, options: { maxTickets?: number } = {}): TicketBatch {
  const maxTickets = options.maxTickets ?? MAX_WIRE_TICKETS
  const o = record(value, 'batch')
  const params = decodeTicketParams(o.params, 'batch.params')
  const sender = matching(o, 'sender', 'batch', ADDRESS_RE, 'a 20-byte 0x address')
  const list = o.tickets
  if (!Array.isArray(list)) fail('batch.tickets', 'expected an array')
  if (list.length === 0) fail('batch.tickets', 'expected at least one ticket')
  if (list.length > maxTickets) fail('batch.tickets', `at most ${maxTickets} tickets`)
  const tickets: SignedTicket[] = list.map((item, i) => {
    const path = `batch.tickets[${i}]`
    const t = record(item, path)
    return {
      senderNonce: uint256(t, 'senderNonce', path),
      signature: hexToBytes(matching(t, 'signature', path, SIGNATURE_RE, '65 bytes of 0x-hex'))
    }
  })
  return { params, sender, tickets }
}
