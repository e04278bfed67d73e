/**
 * @packageDocumentation
 *
 * Signed job receipts (see README.md in src/trust): signed by orchestrators in the
 * `/shoal/ai` Final, checked by gateways and by `shoal receipt verify`.
 */
export { RECEIPT_ERROR_CODES, ReceiptError, type ReceiptErrorCode } from './errors.js'
export {
  RECEIPT_LIMITS, RECEIPT_VERSION, InputHasher, ResultHasher, decodeReceipt, inputHash, receiptFromHeaderValue, receiptHeaderValue, receiptJson,
  signReceipt, verifyReceipt, type Receipt, type ReceiptFacts, type VerifyReceiptOptions
} from './receipt.js'
