import { ShoalError } from '../../kernel/errors.js'

/** Why a receipt was refused; bounded: these are the `reason` label of the gateway's receipt metric. */
export const RECEIPT_ERROR_CODES = [
  /** not a SignedReceipt / ReceiptBody, or a field out of range */
  'RECEIPT_ERROR_MALFORMED',
  /** the signature does not verify against the named orchestrator's key */
  'RECEIPT_ERROR_BAD_SIGNATURE',
  /** signed by (or naming) another peer than the one expected */
  'RECEIPT_ERROR_WRONG_SIGNER',
  /** a field differs from what the verifier saw (request id, model, hashes, units) */
  'RECEIPT_ERROR_MISMATCH',
  /** the orchestrator sent no receipt where one is required */
  'RECEIPT_ERROR_MISSING'
] as const

export type ReceiptErrorCode = typeof RECEIPT_ERROR_CODES[number]

export class ReceiptError extends ShoalError<ReceiptErrorCode> {
  static override readonly name = 'ReceiptError'
}
