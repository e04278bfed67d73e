import { ShoalError } from '../kernel/errors.js'

/**
 * Why a ticket (or a batch of tickets) was refused by a recipient. The set is bounded:
 * these codes are the `result` label of `shoal_payments_tickets_received_total`.
 */
export const TICKET_ERROR_CODES = [
  /** the ticket names another recipient, or the params were not issued by this recipient */
  'TICKET_ERROR_WRONG_RECIPIENT',
  /** the ticket is bound to another chain id or broker contract */
  'TICKET_ERROR_WRONG_DOMAIN',
  /** the sender address is zero or malformed */
  'TICKET_ERROR_INVALID_SENDER',
  /** recipientRandHash does not match the one recomputed from the seed and params (forged or altered params) */
  'TICKET_ERROR_RECIPIENT_RAND_HASH',
  /** the signature does not recover to the sender (or is malleable / malformed) */
  'TICKET_ERROR_BAD_SIGNATURE',
  /** the sender nonce was already used with this recipientRandHash */
  'TICKET_ERROR_NONCE_REPLAYED',
  /** too many nonces for one recipientRandHash: the sender must ask for fresh params */
  'TICKET_ERROR_TOO_MANY_NONCES',
  /** the ticket params' expiration block has passed */
  'TICKET_ERROR_PARAMS_EXPIRED',
  /** faceValue or winProb is zero, or the batch is malformed */
  'TICKET_ERROR_INVALID_PARAMS',
  /** the sender has no deposit or reserve, or not enough to cover the face value */
  'TICKET_ERROR_SENDER_UNFUNDED',
  /** the sender has started to unlock its funds */
  'TICKET_ERROR_SENDER_UNLOCKING'
] as const

export type TicketErrorCode = typeof TICKET_ERROR_CODES[number]

/** A ticket refused by the recipient; `details` may carry `{ senderNonce, credited, winners }`. */
export class TicketError extends ShoalError<TicketErrorCode> {
  static override readonly name = 'TicketError'
}

export type PaymentErrorCode =
  /** the sender's credit at the recipient does not cover the work asked for */
  | 'PAYMENT_ERROR_INSUFFICIENT_BALANCE'
  /** the recipient asked for a face value over the sender's max float (or its maxFaceValue cap) */
  | 'PAYMENT_ERROR_FACE_VALUE_OVER_MAX_FLOAT'
  /** one ticket's expected value exceeds the sender's per-ticket cap */
  | 'PAYMENT_ERROR_TICKET_EV_OVER_CAP'
  /** the tickets needed for one job exceed the sender's per-job cap */
  | 'PAYMENT_ERROR_JOB_EV_OVER_CAP'
  /** ticket params are expired (sender side): ask the recipient for fresh ones */
  | 'PAYMENT_ERROR_PARAMS_EXPIRED'
  /** ticket params are unusable: other recipient, chain or broker, zero face value or win probability */
  | 'PAYMENT_ERROR_PARAMS_INVALID'
  /** the sender's funds cannot back a ticket worth redeeming (recipient side, when issuing params) */
  | 'PAYMENT_ERROR_SENDER_MAX_FLOAT_TOO_LOW'
  /** the broker (chain) could not be read */
  | 'PAYMENT_ERROR_BROKER_UNAVAILABLE'

/** A payment refused or impossible, on the sender or the recipient side. */
export class PaymentError extends ShoalError<PaymentErrorCode> {
  static override readonly name = 'PaymentError'
}

export type PaymentWireErrorCode = 'PAYMENT_WIRE_ERROR_INVALID'

/** Bytes from a peer that are not a valid ticket-params or ticket-batch message; `details.path` names the field. */
export class PaymentWireError extends ShoalError<PaymentWireErrorCode> {
  static override readonly name = 'PaymentWireError'
}

export type ChainErrorCode =
  | 'CHAIN_ERROR_COMPILE'
  | 'CHAIN_ERROR_ANVIL'
  | 'CHAIN_ERROR_RPC'
  | 'CHAIN_ERROR_REVERTED'
  | 'CHAIN_ERROR_CONFIG'

/** A chain operation failed; for reverts `details.reason` is the contract's custom error name. */
export class ChainError extends ShoalError<ChainErrorCode> {
  static override readonly name = 'ChainError'
}
