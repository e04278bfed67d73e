/**
 * bench/trust: the figures of issue 15's closing note.
 *
 * 1. Detection. Five orchestrators, one of them answering text-to-image with a blank
 *    PNG of the right size, behind the gateway's real selection (adaptive strategy and
 *    retrying dispatcher) and real verifier (spot checks, referee, reputation), in one
 *    process; every answer carries a real signed receipt, checked as the /shoal/ai
 *    client checks it. For each sample rate p, several runs: gateway jobs until the
 *    cheater is excluded, and how many of them it served, against the expectations:
 *    a cheater is caught when a check touches it, either its own job sampled (1/5 of
 *    jobs, then p) or as the checker of an honest job (4/5 x p x 1/4), so 2.5/p jobs in
 *    all, of which it served 1/(2p); checking only its own jobs would take 1/p of them.
 *    The extra compute: check and referee jobs per job relayed (about p).
 * 2. Receipts: sign (orchestrator) and verify (gateway) per job on one core, with the
 *    hashing of a typical job's input and result, against copying the same bytes (a
 *    baseline from the same run).
 *
 *   npx tsx bench/trust/index.ts [runs=20] [rates=0.05,0.1,0.2]
 */
import { loadavg } from 'node:os'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import sharp from 'sharp'
import { createDispatcher, type SendJob } from '../../src/gateway/dispatch/index.js'
import { createAdaptiveStrategy, type Candidate } from '../../src/gateway/selection/index.js'
import { createReceiptStore, createReputation, createVerifier, type AttestedResponse } from '../../src/gateway/verification/index.js'
import type { InferenceJob } from '../../src/kernel/job.js'
import { silentLogger } from '../../src/observability/logger.js'
import { inputHash, ResultHasher, signReceipt, verifyReceipt, type ReceiptFacts } from '../../src/trust/receipts/index.js'

const RUNS = Number(process.argv[2] ?? 20)
const RATES = (process.argv[3] ?? '0.05,0.1,0.2').split(',').map(Number)
const ORCHESTRATORS = 5
const MAX_JOBS = 5_000
/** every run goes on to this many jobs after detection, so the extra compute is measured in the steady state too */
const STREAM_JOBS = 300
const MODEL = 'bench/t2i'

interface Node { key: PrivateKey, peerId: string, cheat: boolean }

const pictures = new Map<string, Buffer>()
/** the honest answer for a prompt: a textured 64x64 PNG (the same on every honest node) */
async function honest (prompt: string): Promise<Buffer> {
  let png = pictures.get(prompt)
  if (png === undefined) {
    const raw = Buffer.alloc(64 * 64 * 3)
    let h = 0
    for (const c of prompt) h = (h * 31 + c.charCodeAt(0)) & 0xff
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 7 + h + ((i >> 7) % 2) * 120) & 0xff
    png = await sharp(raw, { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer()
    pictures.set(prompt, png)
    if (pictures.size > 64) pictures.delete(pictures.keys().next().value as string)
  }
  return png
}
const blank = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 0, g: 0, b: 0 } } }).png().toBuffer()
const imageJson = (png: Buffer): Buffer => Buffer.from(JSON.stringify({ images: [{ url: `data:image/png;base64,${png.toString('base64')}`, seed: 1, nsfw: false }] }))

async function oneRun (p: number, run: number): Promise<{ jobs: number, cheaterJobs: number, checkJobs: number, streamJobs: number, cheaterAfter: number, detected: boolean }> {
  const nodes: Node[] = await Promise.all(Array.from({ length: ORCHESTRATORS }, async (_, i) => {
    const key = await generateKeyPair('Ed25519')
    return { key, peerId: peerIdFromPrivateKey(key).toString(), cheat: i === run % ORCHESTRATORS }
  }))
  const cheater = nodes.find(n => n.cheat) as Node
  let checkJobs = 0
  let cheaterJobs = 0
  // the orchestrators: answer, sign a receipt; the gateway side verifies it as the /shoal/ai client does
  const send: SendJob = async (peerId, job, options) => {
    const node = nodes.find(n => n.peerId === peerId) as Node
    if (options.requestId.includes('~')) checkJobs++
    // its own jobs, and checks it was asked to run: all work it got
    if (node.cheat && !options.requestId.includes('~')) cheaterJobs++
    const body = imageJson(node.cheat ? blank : await honest(String(job.params.prompt)))
    const result = new ResultHasher()
    result.update(body)
    const facts: ReceiptFacts = {
      orchestrator: peerId, gateway: 'bench-gateway', requestId: options.requestId, pipeline: job.pipeline, modelId: job.modelId,
      inputHash: inputHash(job), resultHash: result.digest(), status: 200, contentType: 'application/json', resultBytes: body.byteLength,
      units: 4096, pricePerUnit: '1', pixelsPerUnit: '1', chargedWei: '4096', startedAt: Date.now(), finishedAt: Date.now()
    }
    const signed = await signReceipt(facts, node.key)
    const seen = new ResultHasher()
    seen.update(body)
    const response: AttestedResponse = {
      status: 200,
      contentType: 'application/json',
      body: (async function * () { yield body })(),
      receipt: verifyReceipt(signed, { orchestrator: peerId, expect: { requestId: options.requestId, inputHash: inputHash(job), resultHash: seen.digest() } })
    }
    return response
  }
  const reputation = createReputation({ excludeAfterFaults: 1, exclusionMs: 3_600_000 })
  const strategy = createAdaptiveStrategy({}, { trust: (peer, now) => reputation.score(peer, now) })
  const candidates = (): Candidate[] => nodes.map(n => ({ peerId: n.peerId, pipeline: 'text-to-image', modelId: MODEL, warm: true, capacity: 4, inUse: 0, pricePerUnit: 1n, pixelsPerUnit: 1n }))
  // a virtual clock: every orchestrator answers in the same time, so selection is not about latency here
  let clock = 0
  const dispatcher = createDispatcher({ candidates, strategy, send, logger: silentLogger(), metrics: null, now: () => (clock += 10) })
  const verifier = createVerifier({
    options: { sampleRate: p, maxConcurrent: 1 },
    send,
    candidates: () => nodes.map(n => ({ peerId: n.peerId, operator: n.peerId })),
    operatorOf: (peer) => peer,
    receipts: createReceiptStore(1000),
    reputation,
    logger: silentLogger(),
    metrics: null,
    onFault: (peer, job) => { strategy.record(peer, job, { kind: 'failure' }, clock) }
  })
  let detectedAt = 0
  let cheaterAtDetection = 0
  for (let j = 1; j <= MAX_JOBS; j++) {
    const job: InferenceJob = { pipeline: 'text-to-image', modelId: MODEL, params: { prompt: `job ${j % 50}`, seed: j }, inputs: [] }
    const requestId = `r${run}-${j}`
    const result = verifier.watch(job, await dispatcher.dispatch(job, { signal: AbortSignal.timeout(10_000), requestId }), requestId)
    for await (const chunk of result.response.body) void chunk
    await new Promise(resolve => setImmediate(resolve))
    await verifier.idle()
    if (detectedAt === 0 && reputation.excluded(cheater.peerId)) { detectedAt = j; cheaterAtDetection = cheaterJobs }
    if (detectedAt > 0 && j >= STREAM_JOBS) return { jobs: detectedAt, cheaterJobs: cheaterAtDetection, checkJobs, streamJobs: j, cheaterAfter: cheaterJobs - cheaterAtDetection, detected: true }
  }
  return { jobs: MAX_JOBS, cheaterJobs, checkJobs, streamJobs: MAX_JOBS, cheaterAfter: 0, detected: false }
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)] ?? NaN }
const f = (x: number, d = 1): string => x.toFixed(d).padStart(7)

process.stdout.write(`bench/trust  load average ${loadavg().map(l => l.toFixed(2)).join(' ')}  runs ${RUNS} per rate, ${ORCHESTRATORS} orchestrators, 1 cheater (blank image of the right size)\n\n`)
process.stdout.write('detection: jobs until the cheater is excluded\n')
process.stdout.write('      p   jobs mean  median  expect 2.5/p | cheater served mean  median  expect 1/(2p)  own-jobs-only 1/p | extra compute (checks/job)\n')
for (const p of RATES) {
  const runs = []
  for (let r = 0; r < RUNS; r++) runs.push(await oneRun(p, r))
  const jobs = runs.map(r => r.jobs)
  const served = runs.map(r => r.cheaterJobs)
  const extra = runs.reduce((a, r) => a + r.checkJobs, 0) / runs.reduce((a, r) => a + r.streamJobs, 0)
  const after = runs.reduce((a, r) => a + r.cheaterAfter, 0)
  const missed = runs.filter(r => !r.detected).length
  process.stdout.write(`  ${p.toFixed(2)}  ${f(mean(jobs))}  ${f(median(jobs), 0)}  ${f(2.5 / p)}     | ${f(mean(served))}        ${f(median(served), 0)}  ${f(1 / (2 * p))}        ${f(1 / p)}         | ${extra.toFixed(3)} (p = ${p}; over ${STREAM_JOBS}+ jobs a run; cheater served ${after} after exclusion)${missed > 0 ? `  ${missed} runs not detected within ${MAX_JOBS}` : ''}\n`)
}

// ---------------------------------------------------------------- receipt cost
process.stdout.write('\nreceipts, one core (an upscale-sized job: 256 KiB input, 1 MiB result)\n')
const key = await generateKeyPair('Ed25519')
const peer = peerIdFromPrivateKey(key).toString()
const input = new Uint8Array(256 * 1024).map((_, i) => i & 0xff)
const output = new Uint8Array(1024 * 1024).map((_, i) => (i * 3) & 0xff)
const job: InferenceJob = { pipeline: 'upscale', modelId: 'upscalerjs/esrgan-slim-x2', params: { prompt: 'x' }, inputs: [{ field: 'image', filename: 'in.png', contentType: 'image/png', data: input }] }
const facts = (): ReceiptFacts => {
  const h = new ResultHasher()
  h.update(output)
  return { orchestrator: peer, gateway: 'g', requestId: 'bench', pipeline: 'upscale', modelId: job.modelId, inputHash: inputHash(job), resultHash: h.digest(), status: 200, contentType: 'application/json', resultBytes: output.byteLength, units: 1, pricePerUnit: '1', pixelsPerUnit: '1', chargedWei: '1', startedAt: 1, finishedAt: 2 }
}
const fixed = facts()
const signedOnce = await signReceipt(fixed, key)

async function timeIt (label: string, fn: () => Promise<unknown> | unknown, seconds = 1.5): Promise<number> {
  for (let i = 0; i < 20; i++) await fn()
  const start = performance.now()
  let n = 0
  while (performance.now() - start < seconds * 1000) { await fn(); n++ }
  const us = (performance.now() - start) * 1000 / n
  process.stdout.write(`  ${label.padEnd(58)} ${us.toFixed(1).padStart(9)} µs  ${Math.round(1e6 / us).toLocaleString('en-US').padStart(9)} /s\n`)
  return us
}
const copyUs = await timeIt('baseline: copy the input and result bytes once', () => { input.slice(); output.slice() })
const hashUs = await timeIt('hash input + result (SHA-256, both sides do it)', () => facts())
const signUs = await timeIt('sign: encode body + Ed25519 sign (orchestrator)', async () => await signReceipt(fixed, key))
const verifyUs = await timeIt('verify: decode + peer id key + Ed25519 verify (gateway)', async () => await verifyReceipt(signedOnce, { orchestrator: peer }))
process.stdout.write(`  per job: orchestrator ${(hashUs + signUs).toFixed(0)} µs, gateway ${(hashUs + verifyUs).toFixed(0)} µs; hashing = ${(hashUs / copyUs).toFixed(1)}x a copy of the same bytes; signature alone ${signUs.toFixed(0)} + ${verifyUs.toFixed(0)} µs\n`)
process.stdout.write(`  receipt: ${signedOnce.byteLength} bytes, ${Buffer.from(signedOnce).toString('base64url').length} characters in x-shoal-receipt\n`)
process.stdout.write(`load average after: ${loadavg().map(l => l.toFixed(2)).join(' ')}\n`)
