/**
 * Signatures by a node's libp2p key, and their check against a peer id (an Ed25519 or
 * secp256k1 peer id holds its public key), for what is signed per job or per message:
 * receipts in every Final, announcements on gossip.
 *
 * @libp2p/crypto builds a Node key object from JWK on every Ed25519 sign and verify, and
 * a peer id is parsed from its text on every check; here both are made once per key
 * (measured on a busy 2-core box: a sign 210 -> 90 µs, a check with its peer-id parse
 * 390 -> 250 µs). Other key types go through libp2p as they are.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto'
import type { PrivateKey, PublicKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { ShoalError } from '../kernel/errors.js'

/** A peer id that cannot check a signature: not a peer id, or one without its public key. */
export class PeerKeyError extends ShoalError<'PEER_KEY_ERROR_NOT_A_PEER_ID' | 'PEER_KEY_ERROR_NO_PUBLIC_KEY'> {
  static override readonly name = 'PeerKeyError'
}

/** Peer ids whose keys are kept: far more orchestrators than a gateway talks to in a while. */
const MAX_CACHED_PEERS = 4096

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')

const privateKeys = new WeakMap<PrivateKey, KeyObject>()

/** Ed25519 private key bytes are the 32-byte seed then the 32-byte public key. */
function ed25519PrivateKey (key: PrivateKey): KeyObject {
  let object = privateKeys.get(key)
  if (object === undefined) {
    object = createPrivateKey({ format: 'jwk', key: { kty: 'OKP', crv: 'Ed25519', d: b64(key.raw.subarray(0, 32)), x: b64(key.publicKey.raw) } })
    privateKeys.set(key, object)
  }
  return object
}

/** Signs `data` with a libp2p private key. */
export async function signWithPeerKey (key: PrivateKey, data: Uint8Array): Promise<Uint8Array> {
  if (key.type === 'Ed25519') return sign(null, data, ed25519PrivateKey(key))
  return await key.sign(data)
}

type Checker = (data: Uint8Array, signature: Uint8Array) => boolean | Promise<boolean>

/** key checkers by peer id text, oldest first (evicted in that order) */
const checkers = new Map<string, Checker>()

function checkerFor (publicKey: PublicKey): Checker {
  if (publicKey.type !== 'Ed25519') return (data, signature) => publicKey.verify(data, signature)
  const object = createPublicKey({ format: 'jwk', key: { kty: 'OKP', crv: 'Ed25519', x: b64(publicKey.raw) } })
  return (data, signature) => signature.byteLength === 64 && verify(null, data, object, signature)
}

/**
 * Whether `signature` over `data` is by the key of the peer id `peerId`. Throws
 * `PeerKeyError` when `peerId` is not a peer id or does not hold its public key (RSA).
 */
export async function verifyByPeerId (peerId: string, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  let check = checkers.get(peerId)
  if (check === undefined) {
    let publicKey: PublicKey | undefined
    try {
      publicKey = peerIdFromString(peerId).publicKey
    } catch {
      throw new PeerKeyError('PEER_KEY_ERROR_NOT_A_PEER_ID', `not a peer id: ${peerId.slice(0, 80)}`)
    }
    if (publicKey === undefined) throw new PeerKeyError('PEER_KEY_ERROR_NO_PUBLIC_KEY', `the peer id ${peerId} does not hold its public key (not Ed25519 or secp256k1)`)
    check = checkerFor(publicKey)
    if (checkers.size >= MAX_CACHED_PEERS) checkers.delete(checkers.keys().next().value as string)
    checkers.set(peerId, check)
  }
  return await check(data, signature)
}
