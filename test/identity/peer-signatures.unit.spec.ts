import { expect } from 'chai'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { PeerKeyError, signWithPeerKey, verifyByPeerId } from '../../src/identity/peer-signatures.js'

describe('identity: signatures by libp2p keys, checked by peer id', () => {
  const data = new TextEncoder().encode('a receipt body')

  for (const type of ['Ed25519', 'secp256k1'] as const) {
    it(`${type}: what it signs libp2p verifies, and what libp2p signs it verifies; a changed byte or signature fails`, async () => {
      const key = await generateKeyPair(type)
      const id = peerIdFromPrivateKey(key).toString()
      const ours = await signWithPeerKey(key, data)
      // twice: the second time from the cached key objects
      for (let i = 0; i < 2; i++) {
        expect(await key.publicKey.verify(data, ours)).to.equal(true)
        expect(await verifyByPeerId(id, data, ours)).to.equal(true)
        expect(await verifyByPeerId(id, data, await key.sign(data))).to.equal(true)
      }
      const changed = data.slice()
      changed[0] ^= 1
      expect(await verifyByPeerId(id, changed, ours)).to.equal(false)
      const badSignature = ours.slice()
      badSignature[5] ^= 1
      expect(await verifyByPeerId(id, data, badSignature)).to.equal(false)
    })
  }

  it('a signature by another key does not verify for a peer id', async () => {
    const [a, b] = [await generateKeyPair('Ed25519'), await generateKeyPair('Ed25519')]
    expect(await verifyByPeerId(peerIdFromPrivateKey(a).toString(), data, await signWithPeerKey(b, data))).to.equal(false)
  })

  it('an Ed25519 signature of the wrong length is false, not an error', async () => {
    const key = await generateKeyPair('Ed25519')
    const signature = await signWithPeerKey(key, data)
    expect(await verifyByPeerId(peerIdFromPrivateKey(key).toString(), data, signature.subarray(0, 63))).to.equal(false)
  })

  it('refuses what is not a peer id, and a peer id without its public key (RSA)', async () => {
    const err = await verifyByPeerId('not-a-peer-id', data, new Uint8Array(64)).catch((e: unknown) => e)
    expect(err).to.be.instanceOf(PeerKeyError).with.property('code', 'PEER_KEY_ERROR_NOT_A_PEER_ID')
    const rsa = peerIdFromPrivateKey(await generateKeyPair('RSA', 1024)).toString()
    const noKey = await verifyByPeerId(rsa, data, new Uint8Array(64)).catch((e: unknown) => e)
    expect(noKey).to.be.instanceOf(PeerKeyError).with.property('code', 'PEER_KEY_ERROR_NO_PUBLIC_KEY')
  })
})
