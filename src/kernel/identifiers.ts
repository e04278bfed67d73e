/**
 * One rule per identifier, used at every boundary (gateway requests, aiModels.json, the config
 * file, announcements, the wire). A value accepted in one place is accepted everywhere, so an
 * operator cannot publish what its peers reject.
 */

/** Model ids travel in headers, logs, DHT keys and signed announcements: printable ASCII, no spaces. */
export const MODEL_ID_MAX_LENGTH = 128
export const MODEL_ID_PATTERN = '^[\\x21-\\x7e]{1,128}$'
const MODEL_ID_RE = new RegExp(MODEL_ID_PATTERN)

/** A 20-byte Ethereum address as 0x-hex, any case. */
export const ETH_ADDRESS_PATTERN = '^0x[0-9a-fA-F]{40}$'
const ETH_ADDRESS_RE = new RegExp(ETH_ADDRESS_PATTERN)

export function isModelId (value: unknown): value is string {
  return typeof value === 'string' && MODEL_ID_RE.test(value)
}

/** Why a model id is refused, in words a client or operator can act on; undefined when valid. */
export function modelIdProblem (value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string'
  if (value.length === 0) return 'must not be empty'
  if (value.length > MODEL_ID_MAX_LENGTH) return `must be at most ${MODEL_ID_MAX_LENGTH} characters (got ${value.length})`
  if (!MODEL_ID_RE.test(value)) return 'must be printable ASCII without spaces or control characters'
  return undefined
}

export function isEthAddress (value: unknown): value is string {
  return typeof value === 'string' && ETH_ADDRESS_RE.test(value)
}
