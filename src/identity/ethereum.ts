import { keccak_256 as keccak256 } from '@noble/hashes/sha3.js'
import * as secp from 'tiny-secp256k1'
import { randomBytes } from 'node:crypto'

/**
 * A node's Ethereum identity: its secp256k1 key, signing and recovery. Tickets, the
 * peer-id binding in announcements and the key file all go through here.
 *
 * Signing and recovery sit on the hot path of tickets: libsecp256k1 (WASM, via
 * tiny-secp256k1) and keccak from @noble/hashes. Signatures are byte-identical to
 * ethers' `Wallet.signMessageSync(hashBytes)`: RFC 6979 nonces, low-s, r ‖ s ‖ v with
 * v in {27, 28}. See bench/tickets for the speed against ethers.
 */

/** Signs 32-byte ticket hashes with the EIP-191 personal-message prefix. */
export interface TicketSigner {
  /** lower-case 0x address of the key */
  readonly address: string
  /** 65-byte r ‖ s ‖ v signature of the personal-message digest of `hash` */
  sign: (hash: Uint8Array) => Uint8Array
}

/** Recovers who signed a ticket hash. */
export interface SignatureVerifier {
  /** lower-case 0x address that signed `hash` (EIP-191), or null for a malformed or malleable signature */
  recover: (hash: Uint8Array, signature: Uint8Array) => string | null
  /** true when `signature` over `hash` was made by `address` */
  verify: (address: string, hash: Uint8Array, signature: Uint8Array) => boolean
}

const PREFIX = new TextEncoder().encode('\x19Ethereum Signed Message:\n32')
// secp256k1 group order / 2; signatures with a larger s are refused (the contract does too)
const HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n

/** keccak256("\x19Ethereum Signed Message:\n32" ‖ hash): what is actually signed. */
export function personalMessageDigest (hash: Uint8Array): Uint8Array {
  if (hash.length !== 32) throw new TypeError('ticket hash must be 32 bytes')
  const buf = new Uint8Array(PREFIX.length + 32)
  buf.set(PREFIX, 0)
  buf.set(hash, PREFIX.length)
  return keccak256(buf)
}

function hexToBytes (value: string): Uint8Array {
  const digits = value.startsWith('0x') ? value.slice(2) : value
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(digits)) throw new TypeError('not hex')
  return new Uint8Array(Buffer.from(digits, 'hex'))
}

function bytesToHex (bytes: Uint8Array): string {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`
}

function privateKeyBytes (privateKey: string | Uint8Array): Uint8Array {
  const d = typeof privateKey === 'string' ? hexToBytes(privateKey) : privateKey
  if (d.length !== 32 || !secp.isPrivate(d)) throw new TypeError('not a secp256k1 private key')
  return d
}

function addressOfPublicKey (uncompressed: Uint8Array): string {
  return bytesToHex(keccak256(uncompressed.subarray(1)).subarray(12))
}

/** The Ethereum address (lower-case) of a private key. */
export function addressFromPrivateKey (privateKey: string | Uint8Array): string {
  const pub = secp.pointFromScalar(privateKeyBytes(privateKey), false)
  if (pub === null) throw new TypeError('not a secp256k1 private key')
  return addressOfPublicKey(pub)
}

export function createTicketSigner (privateKey: string | Uint8Array): TicketSigner {
  const d = new Uint8Array(privateKeyBytes(privateKey))
  const address = addressFromPrivateKey(d)
  return {
    address,
    sign (hash) {
      const { signature, recoveryId } = secp.signRecoverable(personalMessageDigest(hash), d)
      const out = new Uint8Array(65)
      out.set(signature, 0)
      out[64] = 27 + (recoveryId & 1)
      return out
    }
  }
}

/** Recovery with libsecp256k1; refuses malformed, high-s and v outside {27, 28}, as the contract does. */
export function createSignatureVerifier (): SignatureVerifier {
  const recover = (hash: Uint8Array, signature: Uint8Array): string | null => {
    if (signature.length !== 65) return null
    const v = signature[64]
    if (v !== 27 && v !== 28) return null
    const sig = signature.subarray(0, 64)
    const s = BigInt(bytesToHex(sig.subarray(32)))
    if (s === 0n || s > HALF_ORDER) return null
    try {
      const pub = secp.recover(personalMessageDigest(hash), sig, v === 27 ? 0 : 1, false)
      return pub === null ? null : addressOfPublicKey(pub)
    } catch {
      return null
    }
  }
  return {
    recover,
    verify (address, hash, signature) {
      return recover(hash, signature) === address.toLowerCase()
    }
  }
}

/** A private key as key files hold it: 0x and 64 hex digits, a valid secp256k1 scalar. */
export function isEthereumPrivateKey (text: string): boolean {
  if (!/^0x[0-9a-fA-F]{64}$/.test(text)) return false
  return secp.isPrivate(hexToBytes(text))
}

/** A fresh private key (0x-hex); rejection sampling skips the (astronomically rare) invalid scalars. */
export function generateEthereumPrivateKey (): string {
  for (;;) {
    const d = new Uint8Array(randomBytes(32))
    if (secp.isPrivate(d)) return bytesToHex(d)
  }
}
