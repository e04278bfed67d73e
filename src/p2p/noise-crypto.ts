import { createCipheriv } from 'node:crypto'
import type { ICryptoInterface } from '@chainsafe/libp2p-noise'
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import { Uint8ArrayList } from 'uint8arraylist'

/** noise types its lists with the uint8arraylist 2.x it bundles; lists of either version are recognised by a shared `Symbol.for`. */
type NoiseCiphertext = ReturnType<ICryptoInterface['chaCha20Poly1305Encrypt']>

/** noise's own cut-over: below it the WebAssembly ChaCha20-Poly1305 beats a node:crypto cipher object. */
const NODE_CRYPTO_MIN_BYTES = 1200

/**
 * noise's default crypto (node:crypto's ChaCha20-Poly1305 for large messages, WebAssembly
 * for small ones), except that a large message's ciphertext and tag are handed on as a
 * list, not joined: noise's default copies every ciphertext once more (`Buffer.concat`)
 * only to append the 16-byte tag. The socket writes the parts in one `writev`. The cipher
 * is node:crypto's, unchanged; see bench/bulk.
 */
export const shoalNoiseCrypto: ICryptoInterface = {
  ...defaultCrypto,
  chaCha20Poly1305Encrypt (plaintext, nonce, ad, k) {
    if (plaintext.byteLength < NODE_CRYPTO_MIN_BYTES) return defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k)
    const cipher = createCipheriv('chacha20-poly1305', k, nonce, { authTagLength: 16 })
    cipher.setAAD(ad, { plaintextLength: plaintext.byteLength })
    const out = new Uint8ArrayList()
    if (plaintext instanceof Uint8Array) out.append(cipher.update(plaintext))
    else for (const part of plaintext) out.append(cipher.update(part))
    // a stream cipher: final() yields no bytes, only the tag
    const rest = cipher.final()
    if (rest.byteLength > 0) out.append(rest)
    out.append(cipher.getAuthTag())
    return out as unknown as NoiseCiphertext
  }
}
