import { randomBytes } from 'node:crypto'
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import { expect } from 'chai'
import { Uint8ArrayList } from 'uint8arraylist'
import { shoalNoiseCrypto } from '../../src/p2p/noise-crypto.js'

const bytes = (data: Uint8Array | { subarray: () => Uint8Array }): Buffer => Buffer.from(data instanceof Uint8Array ? data : data.subarray())

describe('p2p/noise-crypto', () => {
  const key = randomBytes(32)
  const nonce = randomBytes(12)
  const ad = randomBytes(32)

  // sizes around noise's WebAssembly/node:crypto cut-over (1200) and a full noise message (65519)
  for (const size of [0, 1, 1199, 1200, 4096, 65519]) {
    it(`encrypts ${size} bytes exactly as noise's default crypto, and either decrypts the other's`, () => {
      const plaintext = randomBytes(size)
      const ours = bytes(shoalNoiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, key))
      const theirs = bytes(defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, key))
      expect(ours.equals(theirs)).to.equal(true)
      expect(ours.byteLength).to.equal(size + 16)
      expect(bytes(defaultCrypto.chaCha20Poly1305Decrypt(ours, nonce, ad, key)).equals(plaintext)).to.equal(true)
      expect(bytes(shoalNoiseCrypto.chaCha20Poly1305Decrypt(Buffer.from(theirs), nonce, ad, key)).equals(plaintext)).to.equal(true)
    })
  }

  it('encrypts a plaintext given as a list of parts like the same bytes in one buffer', () => {
    const plaintext = randomBytes(40_000)
    const list = new Uint8ArrayList(plaintext.subarray(0, 3), plaintext.subarray(3, 30_000), plaintext.subarray(30_000))
    const fromList = bytes(shoalNoiseCrypto.chaCha20Poly1305Encrypt(list as never, nonce, ad, key))
    expect(fromList.equals(bytes(defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, key)))).to.equal(true)
  })

  it('a ciphertext with a flipped bit does not decrypt', () => {
    const ciphertext = bytes(shoalNoiseCrypto.chaCha20Poly1305Encrypt(randomBytes(5000), nonce, ad, key))
    ciphertext[100] ^= 1
    expect(() => defaultCrypto.chaCha20Poly1305Decrypt(ciphertext, nonce, ad, key)).to.throw()
  })
})
