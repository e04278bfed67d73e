import { expect } from 'chai'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import sharp from 'sharp'
import { Registry } from 'prom-client'
import type { InferenceJob } from '../../../src/kernel/job.js'
import { silentLogger } from '../../../src/observability/logger.js'
import type { SendJob } from '../../../src/gateway/dispatch/index.js'
import {
  compareAnswers, createReceiptStore, createReputation, createVerificationMetrics, createVerifier, textOf, type AttestedResponse
} from '../../../src/gateway/verification/index.js'
import { inputHash, ResultHasher, signReceipt, verifyReceipt } from '../../../src/trust/receipts/index.js'
import { metricValue } from '../../helpers/metrics.js'

/** A textured test picture (a gradient with stripes): a blank one of its size shares no structure with it. */
async function picture (width: number, height: number, shift = 0): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3
      raw[i] = (x * 255 / width + shift) & 0xff
      raw[i + 1] = ((y >> 3) % 2) * 200
      raw[i + 2] = ((x + y) * 3) & 0xff
    }
  }
  return await sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer()
}

const imageJson = (png: Buffer): Buffer => Buffer.from(JSON.stringify({ images: [{ url: `data:image/png;base64,${png.toString('base64')}`, seed: 1, nsfw: false }] }))
const answer = (body: Buffer, contentType = 'application/json'): { status: number, contentType: string, body: Buffer } => ({ status: 200, contentType, body })
const thresholds = { imageThreshold: 0.9, textThreshold: 0.8 }

describe('gateway/verification: comparing answers', () => {
  it('images: a blank image of the right size disagrees with the real one; a slightly different encoding agrees', async () => {
    const real = await picture(96, 64)
    const blank = await sharp({ create: { width: 96, height: 64, channels: 3, background: { r: 128, g: 100, b: 90 } } }).png().toBuffer()
    const near = await sharp(await picture(96, 64, 2)).jpeg({ quality: 90 }).toBuffer()
    const vsBlank = await compareAnswers('image', answer(imageJson(real)), answer(imageJson(blank)), thresholds)
    expect(vsBlank.result).to.equal('disagree')
    const vsNear = await compareAnswers('image', answer(imageJson(real)), answer(imageJson(near)), thresholds)
    expect(vsNear.result).to.equal('agree')
    const smaller = await picture(48, 32)
    expect((await compareAnswers('image', answer(imageJson(real)), answer(imageJson(smaller)), thresholds)).result).to.equal('disagree')
    expect((await compareAnswers('image', answer(Buffer.from('{"x":1}')), answer(imageJson(real)), thresholds)).result).to.equal('inconclusive')
  })

  it('text: token agreement of LLM answers, streamed or not; bytes mode refuses any difference', async () => {
    const json = (content: string): Buffer => Buffer.from(JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content } }] }))
    const sse = Buffer.from('data: {"choices":[{"delta":{"content":"echo:"}}]}\n\ndata: {"choices":[{"delta":{"content":" the cat sat"}}]}\n\ndata: [DONE]\n\n')
    expect(textOf(answer(sse, 'text/event-stream'))).to.equal('echo: the cat sat')
    expect((await compareAnswers('text', answer(json('echo: the cat sat')), answer(sse, 'text/event-stream'), thresholds)).result).to.equal('agree')
    expect((await compareAnswers('text', answer(json('echo: the cat sat')), answer(json('lorem ipsum dolor sit')), thresholds)).result).to.equal('disagree')
    expect((await compareAnswers('bytes', answer(Buffer.from('a')), answer(Buffer.from('b')), thresholds)).result).to.equal('disagree')
    expect((await compareAnswers('bytes', answer(Buffer.from('a')), answer(Buffer.from('a')), thresholds)).result).to.equal('agree')
  })
})

describe('gateway/verification: spot checks with a referee', () => {
  const job: InferenceJob = { pipeline: 'text-to-image', modelId: 'test/model', params: { prompt: 'p', seed: 1 }, inputs: [] }
  let keys: PrivateKey[]
  let peers: string[]
  let good: Buffer
  let bad: Buffer

  before(async () => {
    keys = await Promise.all([0, 1, 2, 3].map(async () => await generateKeyPair('Ed25519')))
    peers = keys.map(k => peerIdFromPrivateKey(k).toString())
    good = imageJson(await picture(64, 64))
    bad = imageJson(await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 0, g: 0, b: 0 } } }).png().toBuffer())
  })

  /** A send to orchestrator i: peer 3 cheats. Every answer carries a real signed receipt. */
  function fakeSend (calls: string[]): SendJob {
    return async (peerId, j, options) => {
      calls.push(peerId)
      const i = peers.indexOf(peerId)
      const body = i === 3 ? bad : good
      const hasher = new ResultHasher()
      hasher.update(body)
      const signed = await signReceipt({
        orchestrator: peerId, gateway: 'gw', requestId: options.requestId, pipeline: j.pipeline, modelId: j.modelId, inputHash: inputHash(j), resultHash: hasher.digest(),
        status: 200, contentType: 'application/json', resultBytes: body.byteLength, units: 10, pricePerUnit: '2', pixelsPerUnit: '1', chargedWei: '20', startedAt: 1, finishedAt: 2
      }, keys[i] as PrivateKey)
      const response: AttestedResponse = { status: 200, contentType: 'application/json', body: (async function * () { yield body })(), receipt: verifyReceipt(signed) }
      return response
    }
  }

  async function relay (verifier: ReturnType<typeof createVerifier>, send: SendJob, peer: string, requestId: string): Promise<void> {
    const response = await send(peer, job, { signal: AbortSignal.timeout(5000), requestId })
    const watched = verifier.watch(job, { response, orchestrator: peer, attempts: [] }, requestId)
    for await (const chunk of watched.response.body) expect(chunk.byteLength).to.be.above(0)
    await new Promise(resolve => setImmediate(resolve))
    await verifier.idle()
  }

  it('a cheater caught on its own job is excluded after a referee confirms; honest peers gain agreements; costs are counted', async () => {
    const calls: string[] = []
    const send = fakeSend(calls)
    const registry = new Registry()
    const reputation = createReputation({ excludeAfterFaults: 1, exclusionMs: 60_000 })
    const faults: string[] = []
    const receipts = createReceiptStore()
    const verifier = createVerifier({
      options: { sampleRate: 1 },
      send,
      // operators: peers 0 and 1 share one (never check each other)
      candidates: () => peers.map((peerId, i) => ({ peerId, operator: i <= 1 ? 'op-a' : `op-${i}` })),
      operatorOf: (peer) => { const i = peers.indexOf(peer); return i <= 1 ? 'op-a' : `op-${i}` },
      receipts,
      reputation,
      logger: silentLogger(),
      metrics: createVerificationMetrics(registry),
      onFault: (peer) => { faults.push(peer) },
      random: (() => { let n = 0; return () => [0.1, 0.3, 0.6, 0.9][n++ % 4] ?? 0 })()
    })
    await relay(verifier, send, peers[3] as string, 'job-cheat')
    expect(reputation.excluded(peers[3] as string)).to.equal(true)
    expect(reputation.score(peers[3] as string)).to.equal(0)
    expect(faults).to.deep.equal([peers[3]])
    // the check and the referee never ran on the cheater's own operator, and each was one job
    expect(calls.length).to.equal(3)
    expect(receipts.get('job-cheat').length).to.equal(3)
    expect(await metricValue(registry, 'shoal_gateway_spot_checks_total', { pipeline: 'text-to-image', result: 'disagree' })).to.equal(1)
    expect(await metricValue(registry, 'shoal_gateway_spot_check_jobs_total', { pipeline: 'text-to-image', role: 'check' })).to.equal(1)
    expect(await metricValue(registry, 'shoal_gateway_spot_check_jobs_total', { pipeline: 'text-to-image', role: 'referee' })).to.equal(1)
    expect(await metricValue(registry, 'shoal_gateway_spot_check_charged_wei_total', { pipeline: 'text-to-image' })).to.equal(40)

    // an honest job checked by an honest peer of another operator: agreement, no referee
    calls.length = 0
    await relay(verifier, send, peers[0] as string, 'job-honest')
    expect(calls.length).to.equal(2)
    expect(calls[1]).to.not.equal(peers[1])
    expect(calls[1]).to.not.equal(peers[3]) // excluded peers check nothing
    expect(reputation.get(peers[0] as string)?.agreements).to.be.at.least(1)
    expect(await metricValue(registry, 'shoal_gateway_spot_checks_total', { pipeline: 'text-to-image', result: 'agree' })).to.equal(1)
  })

  it('with sample rate 0 nothing is re-run; the receipt is still kept', async () => {
    const calls: string[] = []
    const send = fakeSend(calls)
    const receipts = createReceiptStore()
    const verifier = createVerifier({
      options: { sampleRate: 0 }, send, candidates: () => peers.map(peerId => ({ peerId, operator: peerId })), operatorOf: () => undefined,
      receipts, reputation: createReputation({ excludeAfterFaults: 1, exclusionMs: 1000 }), logger: silentLogger(), metrics: null
    })
    await relay(verifier, send, peers[3] as string, 'job-unchecked')
    expect(calls.length).to.equal(1)
    expect(receipts.get('job-unchecked').length).to.equal(1)
  })
})
