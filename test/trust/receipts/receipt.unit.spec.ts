import { expect } from 'chai'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import {
  decodeReceipt, inputHash, ReceiptError, receiptFromHeaderValue, receiptHeaderValue, ResultHasher, signReceipt, verifyReceipt, type ReceiptFacts
} from '../../../src/trust/receipts/index.js'
import * as pb from '../../../src/trust/receipts/pb/receipt.js'

async function refusal (p: Promise<unknown>): Promise<ReceiptError> {
  try {
    await p
  } catch (err) {
    expect(err).to.be.instanceOf(ReceiptError)
    return err as ReceiptError
  }
  throw new Error('expected a ReceiptError')
}

describe('trust/receipts: signed job receipts', () => {
  let key: PrivateKey
  let peer: string
  let facts: ReceiptFacts
  const job = { pipeline: 'upscale' as const, modelId: 'upscalerjs/esrgan-slim-x2', params: { prompt: 'x', seed: 3 }, inputs: [{ field: 'image', filename: 'a.png', contentType: 'image/png', data: new Uint8Array([1, 2, 3, 4]) }] }

  before(async () => {
    key = await generateKeyPair('Ed25519')
    peer = peerIdFromPrivateKey(key).toString()
    const result = new ResultHasher()
    result.update(new TextEncoder().encode('{"images":[]}'))
    facts = {
      orchestrator: peer, gateway: '12D3KooWGateway', requestId: 'req-1', pipeline: 'upscale', modelId: job.modelId,
      inputHash: inputHash(job), resultHash: result.digest(), status: 200, contentType: 'application/json', resultBytes: result.bytes,
      units: 1024, pricePerUnit: '5', pixelsPerUnit: '1', chargedWei: '5120', startedAt: 1_700_000_000_000, finishedAt: 1_700_000_000_250
    }
  })

  it('verifies offline against the peer id alone, through the compact header form', async () => {
    const signed = await signReceipt(facts, key)
    const header = receiptHeaderValue(signed)
    expect(header).to.match(/^[A-Za-z0-9_-]+$/)
    expect(header.length).to.be.below(600)
    const receipt = await verifyReceipt(receiptFromHeaderValue(header), { orchestrator: peer, expect: { requestId: 'req-1', inputHash: facts.inputHash, units: 1024 } })
    expect(receipt.chargedWei).to.equal('5120')
    expect(receipt.orchestrator).to.equal(peer)
    expect(Buffer.from(receipt.resultHash).equals(Buffer.from(facts.resultHash))).to.equal(true)
  })

  it('the input hash covers params and every input byte, in order', () => {
    const base = Buffer.from(inputHash(job)).toString('hex')
    expect(Buffer.from(inputHash({ ...job, params: { prompt: 'x', seed: 4 } })).toString('hex')).to.not.equal(base)
    expect(Buffer.from(inputHash({ ...job, inputs: [{ ...job.inputs[0], data: new Uint8Array([1, 2, 3, 5]) }] })).toString('hex')).to.not.equal(base)
    expect(Buffer.from(inputHash({ ...job })).toString('hex')).to.equal(base)
  })

  it('refuses an altered body (BAD_SIGNATURE), another signer (WRONG_SIGNER), a mismatch and garbage', async () => {
    const signed = await signReceipt(facts, key)
    const outer = pb.SignedReceipt.decode(signed)
    const altered = pb.ReceiptBody.decode(outer.body)
    altered.chargedWei = '1'
    const forged = pb.SignedReceipt.encode({ body: pb.ReceiptBody.encode(altered), signature: outer.signature })
    expect((await refusal(verifyReceipt(forged))).code).to.equal('RECEIPT_ERROR_BAD_SIGNATURE')

    // signed by another key while naming this peer: the key inside the peer id does not match
    const other = await generateKeyPair('Ed25519')
    const impostor = await signReceipt(facts, other)
    expect((await refusal(verifyReceipt(impostor))).code).to.equal('RECEIPT_ERROR_BAD_SIGNATURE')
    const own = await signReceipt({ ...facts, orchestrator: peerIdFromPrivateKey(other).toString() }, other)
    expect((await refusal(verifyReceipt(own, { orchestrator: peer }))).code).to.equal('RECEIPT_ERROR_WRONG_SIGNER')

    expect((await refusal(verifyReceipt(signed, { expect: { resultHash: new Uint8Array(32) } }))).code).to.equal('RECEIPT_ERROR_MISMATCH')
    expect((await refusal(verifyReceipt(new Uint8Array([1, 2, 3])))).code).to.equal('RECEIPT_ERROR_MALFORMED')
    expect(() => decodeReceipt(new Uint8Array(4096))).to.throw(ReceiptError)
    expect(() => receiptFromHeaderValue('not base64!')).to.throw(ReceiptError)
  })
})
