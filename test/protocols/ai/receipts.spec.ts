import { expect } from 'chai'
import { createHash } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { Registry } from 'prom-client'
import { JobError } from '../../../src/kernel/job-outcome.js'
import { createAiClient, createAiMetrics, createAiProtocol, type AiClient, type AiExecutor, type AiProtocol, type AiReceiptSigner } from '../../../src/protocols/ai/index.js'
import { ReceiptError } from '../../../src/trust/receipts/index.js'
import { bodyOf, createNode, metricValue, noopJob, readAll } from './helpers.js'

const executor: AiExecutor = {
  execute: async () => ({
    status: 200,
    contentType: 'application/json',
    body: bodyOf('{"images":', '[]}'),
    complete: () => ({ units: 7, charge: { pricePerUnit: '3', pixelsPerUnit: '1', chargedWei: '21' } })
  })
}

interface Setup { server: Libp2p, client: Libp2p, ai: AiProtocol, aiClient: AiClient, registry: Registry, serverKey: PrivateKey, stop: () => Promise<void> }

async function setup (signer: (serverKey: PrivateKey) => Promise<AiReceiptSigner | undefined>, receipts: 'require' | 'verify' = 'require'): Promise<Setup> {
  const serverKey = await generateKeyPair('Ed25519')
  const [server, client] = await Promise.all([createNode({ privateKey: serverKey }), createNode()])
  const s = await signer(serverKey)
  const ai = createAiProtocol({ registrar: server, executor, ...(s !== undefined ? { receipts: s } : {}) })
  await ai.start()
  await client.dial(server.getMultiaddrs()[0])
  const registry = new Registry()
  const aiClient = createAiClient({ dialProtocol: client.dialProtocol.bind(client), metrics: createAiMetrics(registry), receipts })
  return { server, client, ai, aiClient, registry, serverKey, stop: async () => { await aiClient.stop(); await ai.stop(); await Promise.all([client.stop(), server.stop()]) } }
}

async function failure (p: Promise<unknown>): Promise<JobError> {
  try {
    await p
  } catch (err) {
    expect(err).to.be.instanceOf(JobError)
    return err as JobError
  }
  throw new Error('expected the body to fail')
}

describe('protocols/ai: signed receipts in the Final', () => {
  it('an orchestrator signs each OK Final; the client checks it against the peer dialed, the job and the bytes', async () => {
    const t = await setup(async key => ({ peerId: peerIdFromPrivateKey(key).toString(), privateKey: key }))
    try {
      const res = await t.aiClient.runJob(t.server.peerId, noopJob('receipt'), { requestId: 'receipt-1' })
      const body = await readAll(res.body)
      const final = await res.final
      const receipt = final.signedReceipt
      expect(receipt).to.not.equal(undefined)
      expect(receipt?.orchestrator).to.equal(t.server.peerId.toString())
      expect(receipt?.gateway).to.equal(t.client.peerId.toString())
      expect(receipt?.requestId).to.equal('receipt-1')
      expect(receipt?.units).to.equal(7)
      expect(receipt?.chargedWei).to.equal('21')
      expect(receipt?.resultBytes).to.equal(body.byteLength)
      expect(Buffer.from(receipt?.resultHash ?? []).toString('hex')).to.equal(createHash('sha256').update(body).digest('hex'))
      expect(receipt?.finishedAt).to.be.at.least(receipt?.startedAt ?? Infinity)
      expect(await metricValue(t.registry, 'shoal_ai_client_receipts_total', { result: 'valid' })).to.equal(1)
    } finally {
      await t.stop()
    }
  })

  it('a receipt signed by another key for this peer id is refused: the body fails and the next job still works', async () => {
    const t = await setup(async key => ({ peerId: peerIdFromPrivateKey(key).toString(), privateKey: await generateKeyPair('Ed25519') }))
    try {
      const res = await t.aiClient.runJob(t.server.peerId, noopJob('forged'))
      const err = await failure(readAll(res.body))
      expect(err.outcome).to.equal('UNREACHABLE')
      expect(err.cause).to.be.instanceOf(ReceiptError)
      expect((err.cause as ReceiptError).code).to.equal('RECEIPT_ERROR_BAD_SIGNATURE')
      await failure(res.final)
      expect(await metricValue(t.registry, 'shoal_ai_client_receipts_total', { result: 'BAD_SIGNATURE' })).to.equal(1)
      // the stream itself was sound: the pool reuses it
      const again = await t.aiClient.runJob(t.server.peerId, noopJob('again'))
      await failure(readAll(again.body))
      expect(t.aiClient.streamCount(t.server.peerId).open).to.equal(1)
    } finally {
      await t.stop()
    }
  })

  it('a receipt naming another orchestrator is refused (WRONG_SIGNER); none at all is refused when required', async () => {
    const other = await generateKeyPair('Ed25519')
    const t = await setup(async () => ({ peerId: peerIdFromPrivateKey(other).toString(), privateKey: other }))
    try {
      const res = await t.aiClient.runJob(t.server.peerId, noopJob('other'))
      expect(((await failure(readAll(res.body))).cause as ReceiptError).code).to.equal('RECEIPT_ERROR_WRONG_SIGNER')
    } finally {
      await t.stop()
    }
    const none = await setup(async () => undefined)
    try {
      const res = await none.aiClient.runJob(none.server.peerId, noopJob('none'))
      expect(((await failure(readAll(res.body))).cause as ReceiptError).code).to.equal('RECEIPT_ERROR_MISSING')
    } finally {
      await none.stop()
    }
    const lenient = await setup(async () => undefined, 'verify')
    try {
      const res = await lenient.aiClient.runJob(lenient.server.peerId, noopJob('lenient'))
      await readAll(res.body)
      expect((await res.final).signedReceipt).to.equal(undefined)
    } finally {
      await lenient.stop()
    }
  })
})
