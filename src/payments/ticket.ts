import { keccak_256 as keccak256 } from '@noble/hashes/sha3.js'
import { bytesToBigint, bytesToHex, UINT256_MAX, uint256ToBytes, writeHex, writeUint256 } from './hex.js'

/**
 * Ticket fields, exactly as `contracts/TicketBroker.sol` takes them (`struct Ticket`).
 * Addresses and hashes are lower-case 0x-hex strings; integers are bigints.
 */
export interface Ticket {
  recipient: string
  sender: string
  faceValue: bigint
  winProb: bigint
  senderNonce: bigint
  /** keccak256 of the recipient's secret 32-byte recipientRand (its commitment) */
  recipientRandHash: string
  /** last block in which the recipient accepts tickets made with these params */
  expirationBlock: bigint
}

/** The chain and contract a ticket is bound to (part of its hash, so it cannot be replayed elsewhere). */
export interface TicketDomain {
  chainId: bigint
  /** TicketBroker address, lower-case 0x-hex */
  broker: string
}

/**
 * What a recipient gives a sender so it can make tickets: everything but the sender and
 * its nonce. `seed` lets the recipient recompute recipientRand without keeping state.
 */
export interface TicketParams {
  recipient: string
  faceValue: bigint
  winProb: bigint
  recipientRandHash: string
  /** 32 random bytes, 0x-hex */
  seed: string
  expirationBlock: bigint
  chainId: bigint
  broker: string
}

/** One ticket of a batch: the sender's nonce and its 65-byte EIP-191 signature (r ‖ s ‖ v). */
export interface SignedTicket {
  senderNonce: bigint
  signature: Uint8Array
}

/** Tickets a sender sends with one job: shared params, the sender, and one nonce + signature per ticket. */
export interface TicketBatch {
  params: TicketParams
  sender: string
  tickets: SignedTicket[]
}

/** 2^256 - 1: a ticket with this winProb always wins (up to a 2^-256 chance). */
export const MAX_WIN_PROB = UINT256_MAX

/** Bytes hashed for a ticket: 20+20+32*5+32+20 (see `getTicketHash` in the contract). */
export const TICKET_HASH_INPUT_LENGTH = 252

/** The ticket a batch entry stands for. */
export function ticketOf (params: TicketParams, sender: string, senderNonce: bigint): Ticket {
  return {
    recipient: params.recipient,
    sender,
    faceValue: params.faceValue,
    winProb: params.winProb,
    senderNonce,
    recipientRandHash: params.recipientRandHash,
    expirationBlock: params.expirationBlock
  }
}

export function domainOf (params: Pick<TicketParams, 'chainId' | 'broker'>): TicketDomain {
  return { chainId: params.chainId, broker: params.broker }
}

/**
 * keccak256(recipient ‖ sender ‖ faceValue ‖ winProb ‖ senderNonce ‖ recipientRandHash ‖
 * expirationBlock ‖ chainId ‖ broker), tightly packed: the hash the sender signs and
 * `TicketBroker.getTicketHash` computes.
 */
export function ticketHash (ticket: Ticket, domain: TicketDomain): Uint8Array {
  const buf = new Uint8Array(TICKET_HASH_INPUT_LENGTH)
  writeHex(buf, 0, ticket.recipient, 20)
  writeHex(buf, 20, ticket.sender, 20)
  writeUint256(buf, 40, ticket.faceValue)
  writeUint256(buf, 72, ticket.winProb)
  writeUint256(buf, 104, ticket.senderNonce)
  writeHex(buf, 136, ticket.recipientRandHash, 32)
  writeUint256(buf, 168, ticket.expirationBlock)
  writeUint256(buf, 200, domain.chainId)
  writeHex(buf, 232, domain.broker, 20)
  return keccak256(buf)
}

export function ticketHashHex (ticket: Ticket, domain: TicketDomain): string {
  return bytesToHex(ticketHash(ticket, domain))
}

/** keccak256 of recipientRand as a 32-byte big-endian word: the commitment carried in the params. */
export function recipientRandHash (recipientRand: bigint): string {
  return bytesToHex(keccak256(uint256ToBytes(recipientRand)))
}

/** A ticket wins when keccak256(signature ‖ recipientRand) < winProb, as 256-bit integers. */
export function isWinningTicket (signature: Uint8Array, recipientRand: bigint, winProb: bigint): boolean {
  const buf = new Uint8Array(signature.length + 32)
  buf.set(signature, 0)
  writeUint256(buf, signature.length, recipientRand)
  return bytesToBigint(keccak256(buf)) < winProb
}

/** Expected value of a ticket: faceValue x winProb / (2^256 - 1), rounded down. */
export function ticketEV (faceValue: bigint, winProb: bigint): bigint {
  return faceValue * winProb / MAX_WIN_PROB
}

/**
 * The winProb that gives a ticket of `faceValue` the expected value `ev`:
 * ev x (2^256 - 1) / faceValue, rounded up so that the EV is not below `ev` by more
 * than rounding, and capped at MAX_WIN_PROB.
 */
export function winProbFor (ev: bigint, faceValue: bigint): bigint {
  if (faceValue <= 0n) throw new RangeError('faceValue must be positive')
  if (ev >= faceValue) return MAX_WIN_PROB
  const p = (ev * MAX_WIN_PROB + faceValue - 1n) / faceValue
  return p > MAX_WIN_PROB ? MAX_WIN_PROB : p
}
