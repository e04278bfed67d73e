/**
 * Byte codecs shared by the ticket hash, the signer and the wire form: 0x-hex strings,
 * 20-byte addresses and 256-bit big-endian integers. Strings are always lower-case.
 */
import { isEthAddress } from '../kernel/identifiers.js'

const HEX_RE = /^0x(?:[0-9a-fA-F]{2})*$/
const BYTES32_RE = /^0x[0-9a-fA-F]{64}$/

export const UINT256_MAX = (1n << 256n) - 1n
export const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000'

export function isHex (value: string): boolean {
  return HEX_RE.test(value)
}

export function isAddress (value: string): boolean {
  return isEthAddress(value)
}

export function isBytes32 (value: string): boolean {
  return BYTES32_RE.test(value)
}

/** An address in the canonical lower-case form used everywhere in payments; throws on malformed input. */
export function normalizeAddress (value: string): string {
  if (!isEthAddress(value)) throw new TypeError(`not an address: ${value}`)
  return value.toLowerCase()
}

/** 0x-hex to bytes; throws on malformed input. */
export function hexToBytes (value: string): Uint8Array {
  if (!HEX_RE.test(value)) throw new TypeError('not 0x-hex')
  return new Uint8Array(Buffer.from(value.slice(2), 'hex'))
}

export function bytesToHex (bytes: Uint8Array): string {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`
}

/** Writes `value` as a 32-byte big-endian word into `out` at `offset`. */
export function writeUint256 (out: Uint8Array, offset: number, value: bigint): void {
  if (value < 0n || value > UINT256_MAX) throw new RangeError('uint256 out of range')
  // one hex conversion is much cheaper than 32 bigint shifts
  Buffer.from(out.buffer, out.byteOffset + offset, 32).write(value.toString(16).padStart(64, '0'), 'hex')
}

export function uint256ToBytes (value: bigint): Uint8Array {
  const out = new Uint8Array(32)
  writeUint256(out, 0, value)
  return out
}

export function bytesToBigint (bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n
  return BigInt(bytesToHex(bytes))
}

/** Writes a 0x-hex string of exactly `length` bytes into `out` at `offset`. */
export function writeHex (out: Uint8Array, offset: number, value: string, length: number): void {
  if (value.length !== 2 + 2 * length) throw new TypeError(`expected ${length} bytes of 0x-hex`)
  const written = Buffer.from(out.buffer, out.byteOffset + offset, length).write(value.slice(2), 'hex')
  if (written !== length) throw new TypeError('not 0x-hex')
}
