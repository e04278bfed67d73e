import { expect } from 'chai'
import { randomBytes } from 'node:crypto'
import { Wallet, hashMessage, recoverAddress } from 'ethers'
import { bytesToHex, hexToBytes } from '../../src/payments/hex.js'
import { addressFromPrivateKey, createSignatureVerifier, createTicketSigner, personalMessageDigest } from '../../src/identity/ethereum.js'

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n

describe('payments: signer (tiny-secp256k1 + noble keccak)', () => {
  const verifier = createSignatureVerifier()

  it('derives the same address as ethers', () => {
    for (let i = 0; i < 10; i++) {
      const w = Wallet.createRandom()
      expect(addressFromPrivateKey(w.privateKey)).to.equal(w.address.toLowerCase())
      expect(createTicketSigner(w.privateKey).address).to.equal(w.address.toLowerCase())
    }
  })

  it('signs byte-identically to ethers signMessageSync over the 32-byte hash', () => {
    for (let k = 0; k < 5; k++) {
      const w = Wallet.createRandom()
      const signer = createTicketSigner(w.privateKey)
      for (let i = 0; i < 40; i++) {
        const hash = new Uint8Array(randomBytes(32))
        expect(bytesToHex(signer.sign(hash))).to.equal(w.signMessageSync(hash))
      }
    }
  })

  it('uses the EIP-191 digest ethers uses', () => {
    const hash = new Uint8Array(randomBytes(32))
    expect(bytesToHex(personalMessageDigest(hash))).to.equal(hashMessage(hash))
  })

  it('recovers the signer like ethers, and verifies only the signer', () => {
    const w = Wallet.createRandom()
    const signer = createTicketSigner(w.privateKey)
    const other = Wallet.createRandom().address
    for (let i = 0; i < 20; i++) {
      const hash = new Uint8Array(randomBytes(32))
      const sig = signer.sign(hash)
      expect(verifier.recover(hash, sig)).to.equal(recoverAddress(hashMessage(hash), bytesToHex(sig)).toLowerCase())
      expect(verifier.verify(w.address, hash, sig)).to.equal(true)
      expect(verifier.verify(other, hash, sig)).to.equal(false)
      expect(verifier.verify(w.address, new Uint8Array(randomBytes(32)), sig)).to.equal(false)
    }
  })

  it('refuses high-s copies, bad v, wrong lengths and garbage', () => {
    const w = Wallet.createRandom()
    const hash = new Uint8Array(randomBytes(32))
    const sig = createTicketSigner(w.privateKey).sign(hash)
    const s = BigInt(bytesToHex(sig.subarray(32, 64)))
    const highS = new Uint8Array(sig)
    highS.set(hexToBytes(`0x${(N - s).toString(16).padStart(64, '0')}`), 32)
    highS[64] = sig[64] === 27 ? 28 : 27
    expect(verifier.recover(hash, highS)).to.equal(null)
    const badV = new Uint8Array(sig)
    badV[64] = 0
    expect(verifier.recover(hash, badV)).to.equal(null)
    expect(verifier.recover(hash, sig.subarray(0, 64))).to.equal(null)
    expect(verifier.recover(hash, new Uint8Array(65).fill(0xff))).to.equal(null)
    expect(verifier.verify(w.address, hash, new Uint8Array(65))).to.equal(false)
  })

  it('refuses invalid private keys', () => {
    expect(() => createTicketSigner('0x00')).to.throw()
    expect(() => createTicketSigner(`0x${'00'.repeat(32)}`)).to.throw()
    expect(() => createTicketSigner(`0x${N.toString(16)}`)).to.throw()
  })
})
