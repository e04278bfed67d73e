import { createHash, randomBytes } from 'node:crypto'
import type { Stream } from '@libp2p/interface'
import { expect } from 'chai'
import { createJobError, type FailedOutcome } from '../../../src/kernel/job-outcome.js'
import { inputParts, wholeInput, type InferenceJob, type JobInput } from '../../../src/kernel/job.js'
import { encodeEmpty, encodeJobHeader, frameHeader, FrameType } from '../../../src/protocols/ai/codec.js'
import {
  AI_PROTOCOL,
  type AiExecuteContext,
  type AiExecutionResult,
  type AiJobAdmission
} from '../../../src/protocols/ai/index.js'
import { bodyOf, createPair, metricValue, noopJob, readAll, waitFor, type Pair } from './helpers.js'

type Behaviour = (job: InferenceJob, ctx: AiExecuteContext) => Promise<AiExecutionResult>

function sha256 (data: JobInput['data']): string {
  const hash = createHash('sha256')
  for (const part of inputParts(data)) hash.update(part)
  return hash.digest('hex')
}

/** An executor's typed error: a job outcome of the one error model. */
function coded (outcome: FailedOutcome, message: string): Error {
  return createJobError(outcome, message)
}

/** Resolves when `signal` aborts. */
async function aborted (signal: AbortSignal): Promise<void> {
  if (signal.aborted) return
  await new Promise<void>(resolve => { signal.addEventListener('abort', () => { resolve() }, { once: true }) })
}

async function closedWith (stream: Stream): Promise<string> {
  if (stream.status !== 'open') return stream.status
  await new Promise<void>(resolve => { stream.addEventListener('close', () => { resolve() }, { once: true }) })
  return stream.status
}

const QUOTE_PAYMENT = new Uint8Array([0x0a, 0x02, 0x01, 0x02])
const TICKETS = new Uint8Array([0x0a, 0x01, 0x07])
const RECEIPT = new Uint8Array([0x0a, 0x01, 0x09])

describe('protocols/ai over two libp2p nodes', function () {
  this.timeout(30_000)
  let pair: Pair
  let behaviour: Behaviour
  let admit: ((header: AiJobAdmission) => void | Promise<void>) | undefined
  const seen: Array<{ job: InferenceJob, ctx: AiExecuteContext }> = []

  before(async () => {
    pair = await createPair({
      executor: {
        admit: async (header) => { await admit?.(header) },
        execute: async (job, ctx) => {
          seen.push({ job, ctx })
          return await behaviour(job, ctx)
        }
      },
      quote: () => ({ prices: [{ pipeline: 'upscale', modelId: 'esrgan', pricePerUnit: '1000', pixelsPerUnit: '1' }], payment: QUOTE_PAYMENT }),
      limits: { maxInputBytes: 32 * 1024 * 1024 }
    })
  })
  after(async () => { await pair.stop() })
  beforeEach(() => {
    seen.length = 0
    admit = undefined
    behaviour = async (job) => ({ status: 200, contentType: 'text/plain', body: bodyOf(`echo ${String(job.params.prompt)}`), units: 1 })
  })

  it('runs a job with a small input: fields, payment, result and Final reach each side', async () => {
    behaviour = async (job) => ({
      status: 201,
      contentType: 'application/json',
      body: bodyOf(JSON.stringify({ got: Buffer.from(wholeInput(job.inputs[0].data).subarray()).toString() })),
      complete: () => ({ units: 65536, receipt: RECEIPT })
    })
    const job: InferenceJob = {
      pipeline: 'upscale',
      modelId: 'esrgan',
      params: { seed: 3 },
      inputs: [{ field: 'image', filename: 'a.png', contentType: 'image/png', data: new TextEncoder().encode('PNGDATA') }]
    }
    let quoted: unknown
    const res = await pair.aiClient.runJob(pair.server.peerId, job, {
      requestId: 'req-small',
      deadlineMs: 5_000,
      payment: (quote) => { quoted = quote; return TICKETS }
    })
    expect(res.status).to.equal(201)
    expect(res.contentType).to.equal('application/json')
    expect(res.requestId).to.equal('req-small')
    expect(res.peerId).to.equal(pair.server.peerId.toString())
    expect(JSON.parse(Buffer.from(await readAll(res.body)).toString())).to.deep.equal({ got: 'PNGDATA' })
    expect(await res.final).to.deep.equal({ units: 65536, receipt: RECEIPT })
    expect(quoted).to.deep.equal({ prices: [{ pipeline: 'upscale', modelId: 'esrgan', pricePerUnit: '1000', pixelsPerUnit: '1' }], payment: QUOTE_PAYMENT })
    const { job: got, ctx } = seen[0]
    expect(got.pipeline).to.equal('upscale')
    expect(got.modelId).to.equal('esrgan')
    expect(got.params).to.deep.equal({ seed: 3 })
    expect(got.inputs.map(i => [i.field, i.filename, i.contentType])).to.deep.equal([['image', 'a.png', 'image/png']])
    expect(ctx.requestId).to.equal('req-small')
    expect(ctx.peerId.toString()).to.equal(pair.client.peerId.toString())
    expect(ctx.payment).to.deep.equal(TICKETS)
    expect(ctx.deadline).to.be.within(Date.now() - 1_000, Date.now() + 5_000)
    expect(await pair.aiClient.getQuote(pair.server.peerId)).to.have.property('maxInputBytes', 32 * 1024 * 1024)
  })

  it('moves a multi-MB input across many bounded frames, intact and in order', async () => {
    const a = randomBytes(5 * 1024 * 1024 + 17)
    const b = randomBytes(3 * 1024 * 1024 + 5)
    behaviour = async (job) => ({
      status: 200,
      contentType: 'text/plain',
      body: bodyOf(job.inputs.map(i => `${i.field}:${i.data.byteLength}:${sha256(i.data)}`).join('\n'))
    })
    const before = await metricValue(pair.serverRegistry, 'shoal_ai_server_input_bytes_total')
    const res = await pair.aiClient.runJob(pair.server.peerId, {
      pipeline: 'image-to-video',
      modelId: 'm',
      params: {},
      inputs: [
        { field: 'image', filename: 'a', contentType: 'application/octet-stream', data: a },
        { field: 'mask', filename: 'b', contentType: 'application/octet-stream', data: b }
      ]
    })
    const text = Buffer.from(await readAll(res.body)).toString()
    expect(text.split('\n')).to.deep.equal([
      `image:${a.byteLength}:${createHash('sha256').update(a).digest('hex')}`,
      `mask:${b.byteLength}:${createHash('sha256').update(b).digest('hex')}`
    ])
    // the server refuses any data frame over 256 KiB, so 8 MiB arriving means >= 32 frames
    expect(await metricValue(pair.serverRegistry, 'shoal_ai_server_input_bytes_total') - before).to.equal(a.byteLength + b.byteLength)
  })

  it('gathers each input into one buffer of its declared size: byte-exact, split where a chunk spans inputs', async () => {
    const a = randomBytes(150 * 1024 + 3)
    const b = randomBytes(70 * 1024 + 1)
    const all = Buffer.concat([a, b])
    const declared = [['image', a.byteLength], ['empty', 0], ['mask', b.byteLength], ['last', 0]] as const
    const raw = await pair.client.dialProtocol(pair.server.peerId, AI_PROTOCOL)
    raw.send(encodeJobHeader({
      requestId: 'r-parts',
      pipeline: 'upscale',
      modelId: 'm',
      params: {},
      deadlineMs: 10_000,
      inputs: declared.map(([field, size]) => ({ field, filename: field, contentType: 'application/octet-stream', size })),
      payment: null
    }))
    // 64 KiB chunks: the third (128..192 KiB) holds the end of `image`, all of `empty` and the start of `mask`
    const CHUNK = 64 * 1024
    for (let offset = 0; offset < all.byteLength; offset += CHUNK) {
      const chunk = all.subarray(offset, Math.min(offset + CHUNK, all.byteLength))
      raw.send(frameHeader(FrameType.INPUT_CHUNK, chunk.byteLength))
      raw.send(chunk)
    }
    raw.send(encodeEmpty(FrameType.INPUT_END))
    await waitFor(() => seen.length === 1, 5_000, 'the job to run')
    raw.abort(new Error('done'))
    const inputs = seen[0].job.inputs
    expect(inputs.map(i => [i.field, i.data.byteLength])).to.deep.equal(declared)
    expect(inputs.map(i => Buffer.from(wholeInput(i.data).subarray()))).to.deep.equal([a, Buffer.alloc(0), b, Buffer.alloc(0)])
    // `image` spans three frames and `mask` two: each is still one contiguous buffer
    // (many frame-sized allocations would stay in the C heap after an abandoned upload)
    for (const i of inputs) expect(i.data).to.be.instanceOf(Uint8Array)
    for (const i of inputs) expect([...inputParts(i.data)]).to.have.length(1)
  })

  it('streams result chunks to the caller in order before Final, as the executor yields them', async () => {
    const gate: Array<PromiseWithResolvers<void>> = Array.from({ length: 3 }, () => Promise.withResolvers<void>())
    const progress: unknown[] = []
    behaviour = async (_job, ctx) => {
      ctx.onProgress({ stage: 'loading', fraction: 0.25 })
      return {
        status: 200,
        contentType: 'text/event-stream',
        body: (async function * () {
          for (let i = 0; i < 3; i++) {
            await gate[i].promise
            yield new TextEncoder().encode(`data: token${i}\n\n`)
          }
        })()
      }
    }
    const res = await pair.aiClient.runJob(pair.server.peerId, { ...noopJob(), pipeline: 'llm' }, { onProgress: (p) => progress.push(p) })
    expect(progress).to.deep.equal([{ stage: 'loading', fraction: 0.25 }])
    let finalSettled = false
    void res.final.then(() => { finalSettled = true })
    const it = res.body[Symbol.asyncIterator]()
    for (let i = 0; i < 3; i++) {
      gate[i].resolve()
      const next = await it.next()
      expect(Buffer.from(next.value as Uint8Array).toString()).to.equal(`data: token${i}\n\n`)
      expect(finalSettled).to.equal(false)
    }
    expect((await it.next()).done).to.equal(true)
    await res.final
    expect(finalSettled).to.equal(true)
  })

  it('splits a large result chunk into bounded frames', async () => {
    const big = randomBytes(1024 * 1024 + 3)
    behaviour = async () => ({ status: 200, contentType: 'application/octet-stream', body: bodyOf(big) })
    const res = await pair.aiClient.runJob(pair.server.peerId, noopJob())
    const parts: Uint8Array[] = []
    for await (const part of res.body) parts.push(part)
    expect(parts.length).to.be.at.least(5)
    for (const part of parts) expect(part.byteLength).to.be.at.most(256 * 1024)
    expect(Buffer.concat(parts).equals(big)).to.equal(true)
  })

  describe('a malformed or oversized frame resets only its own stream', () => {
    const cases: Array<[string, Uint8Array[]]> = [
      ['an unknown frame type', [new Uint8Array([1, 0x7f])]],
      ['a length prefix longer than 4 bytes', [new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x01])]],
      ['a control frame over 1 MiB', [frameHeader(FrameType.JOB_HEADER, 2 * 1024 * 1024)]],
      ['a data frame over 256 KiB', [frameHeader(FrameType.INPUT_CHUNK, 256 * 1024 + 1)]],
      ['a JobHeader that is not protobuf', [frameHeader(FrameType.JOB_HEADER, 3), new Uint8Array([0x0a, 0x7b, 0x7b])]],
      ['a JobHeader with a field out of range', [encodeJobHeader({ requestId: 'r', pipeline: 'llm', modelId: 'm', params: {}, deadlineMs: 0, inputs: [], payment: null })]],
      ['an InputChunk between jobs', [frameHeader(FrameType.INPUT_CHUNK, 1), new Uint8Array([1])]],
      ['an empty frame (no type byte)', [new Uint8Array([0])]],
      ['a Cancel with a payload', [frameHeader(FrameType.CANCEL, 1), new Uint8Array([1])]],
      ['more input than the header declared', [
        encodeJobHeader({ requestId: 'r', pipeline: 'upscale', modelId: 'm', params: {}, deadlineMs: 1000, inputs: [{ field: 'image', filename: 'x', contentType: 'x', size: 2 }], payment: null }),
        frameHeader(FrameType.INPUT_CHUNK, 3), new Uint8Array([1, 2, 3])
      ]],
      ['InputEnd before the declared input', [
        encodeJobHeader({ requestId: 'r', pipeline: 'upscale', modelId: 'm', params: {}, deadlineMs: 1000, inputs: [{ field: 'image', filename: 'x', contentType: 'x', size: 2 }], payment: null }),
        encodeEmpty(FrameType.INPUT_END)
      ]]
    ]
    for (const [what, bytes] of cases) {
      it(`${what}`, async () => {
        // a job in flight on another stream of the same connection
        const release = Promise.withResolvers<void>()
        behaviour = async () => {
          await release.promise
          return { status: 200, contentType: 'text/plain', body: bodyOf('still fine') }
        }
        const connection = pair.client.getConnections(pair.server.peerId)[0]
        const pending = pair.aiClient.runJob(pair.server.peerId, noopJob())
        await waitFor(() => seen.length === 1, 5_000, 'the job to start')
        const raw = await pair.client.dialProtocol(pair.server.peerId, AI_PROTOCOL)
        for (const b of bytes) raw.send(b)
        expect(await closedWith(raw)).to.equal('reset')
        release.resolve()
        const res = await pending
        expect(Buffer.from(await readAll(res.body)).toString()).to.equal('still fine')
        const after = pair.client.getConnections(pair.server.peerId)
        expect(after.map(c => c.id)).to.deep.equal([connection.id])
        expect(after[0].status).to.equal('open')
      })
    }

    it('counts the resets by reason', async () => {
      expect(await metricValue(pair.serverRegistry, 'shoal_ai_stream_errors_total', { side: 'server', reason: 'UNKNOWN_FRAME' })).to.be.at.least(1)
      expect(await metricValue(pair.serverRegistry, 'shoal_ai_stream_errors_total', { side: 'server', reason: 'FRAME_TOO_LARGE' })).to.be.at.least(3)
      expect(await metricValue(pair.serverRegistry, 'shoal_ai_stream_errors_total', { side: 'server', reason: 'INPUT_MISMATCH' })).to.be.at.least(2)
    })
  })

  it('cancels the executor when the caller aborts, and reuses the stream afterwards', async () => {
    behaviour = async (_job, ctx) => {
      await aborted(ctx.signal)
      throw new Error('stopped')
    }
    const controller = new AbortController()
    const pending = pair.aiClient.runJob(pair.server.peerId, noopJob(), { signal: controller.signal })
    await waitFor(() => seen.length === 1, 5_000, 'the job to start')
    const opened = await metricValue(pair.clientRegistry, 'shoal_ai_client_stream_acquisitions_total', { kind: 'opened' })
    controller.abort()
    const err = await pending.catch(e => e)
    expect(err).to.have.property('name', 'AiJobAbortedError')
    await aborted(seen[0].ctx.signal)
    expect(seen[0].ctx.signal.aborted).to.equal(true)
    expect(await metricValue(pair.serverRegistry, 'shoal_ai_server_jobs_total', { code: 'CANCELLED' })).to.be.at.least(1)
    // the Final for the cancelled job frees the stream: the next job needs no new one
    await waitFor(() => pair.aiClient.streamCount(pair.server.peerId).idle >= 1, 5_000, 'the stream to come back')
    behaviour = async () => ({ status: 200, contentType: 'text/plain', body: bodyOf('next') })
    const res = await pair.aiClient.runJob(pair.server.peerId, noopJob())
    expect(Buffer.from(await readAll(res.body)).toString()).to.equal('next')
    expect(await metricValue(pair.clientRegistry, 'shoal_ai_client_stream_acquisitions_total', { kind: 'opened' })).to.equal(opened)
  })

  it('cancels the executor when the caller stops reading the body', async () => {
    let produced = 0
    behaviour = async (_job, ctx) => ({
      status: 200,
      contentType: 'text/plain',
      body: (async function * () {
        while (!ctx.signal.aborted) {
          produced++
          yield new Uint8Array(1024)
          await new Promise(resolve => setTimeout(resolve, 5))
        }
      })()
    })
    const res = await pair.aiClient.runJob(pair.server.peerId, noopJob())
    for await (const _ of res.body) break // eslint-disable-line no-unreachable-loop
    await aborted(seen[0].ctx.signal)
    const err = await res.final.catch(e => e)
    expect(err).to.have.property('name', 'AiJobAbortedError')
    const count = produced
    await new Promise(resolve => setTimeout(resolve, 50))
    expect(produced).to.be.at.most(count + 1)
  })

  it('ends a result body it will not send, so its finally (the runner slot) always runs', async () => {
    const released: string[] = []
    const slotBody = (name: string, signal: AbortSignal): AsyncIterable<Uint8Array> => (async function * () {
      try {
        while (!signal.aborted) {
          yield new Uint8Array(8)
          await new Promise(resolve => setTimeout(resolve, 5))
        }
      } finally {
        released.push(name)
      }
    })()
    // 1. the result arrives only after the caller aborted: the body was never started
    behaviour = async (_job, ctx) => {
      await aborted(ctx.signal)
      return { status: 200, contentType: 'x', body: slotBody('late', ctx.signal) }
    }
    const controller = new AbortController()
    const pending = pair.aiClient.runJob(pair.server.peerId, noopJob(), { signal: controller.signal })
    await waitFor(() => seen.length === 1, 5_000, 'the job to start')
    controller.abort()
    expect(await pending.catch(e => e)).to.have.property('name', 'AiJobAbortedError')
    await waitFor(() => released.includes('late'), 5_000, 'the late body to be ended')
    // 2. the caller stops reading in the middle of the body
    behaviour = async (_job, ctx) => ({ status: 200, contentType: 'x', body: slotBody('mid-stream', ctx.signal) })
    const res = await pair.aiClient.runJob(pair.server.peerId, noopJob())
    for await (const _ of res.body) break // eslint-disable-line no-unreachable-loop
    await waitFor(() => released.includes('mid-stream'), 5_000, 'the abandoned body to be ended')
    // 3. the deadline passes before the body is read
    behaviour = async (_job, ctx) => {
      await new Promise(resolve => setTimeout(resolve, 400))
      return { status: 200, contentType: 'x', body: slotBody('deadline', ctx.signal) }
    }
    expect(await pair.aiClient.runJob(pair.server.peerId, noopJob(), { deadlineMs: 200 }).catch(e => e)).to.have.property('code', 'JOB_ERROR_DEADLINE_EXCEEDED')
    await waitFor(() => released.includes('deadline'), 5_000, 'the body after the deadline to be ended')
  })

  it('cancels the executor while the input is still uploading', async () => {
    let admitted = 0
    admit = async () => { admitted++ }
    const controller = new AbortController()
    const pending = pair.aiClient.runJob(pair.server.peerId, {
      pipeline: 'upscale',
      modelId: 'm',
      params: {},
      inputs: [{ field: 'image', filename: 'x', contentType: 'x', data: new Uint8Array(24 * 1024 * 1024) }]
    }, { signal: controller.signal })
    await waitFor(() => admitted === 1, 5_000, 'the header to arrive')
    controller.abort()
    expect(await pending.catch(e => e)).to.have.property('name', 'AiJobAbortedError')
    expect(seen).to.have.length(0)
    // the stream is drained of the partial upload and comes back for the next job
    const res = await pair.aiClient.runJob(pair.server.peerId, noopJob('after'))
    expect(Buffer.from(await readAll(res.body)).toString()).to.equal('echo after')
  })

  it('aborts the executor when the client goes away (stream reset)', async () => {
    const { createPair: create } = await import('./helpers.js')
    let ctxSeen: AiExecuteContext | undefined
    const other = await create({
      executor: {
        execute: async (_job, ctx) => {
          ctxSeen = ctx
          await aborted(ctx.signal)
          throw new Error('gone')
        }
      }
    })
    try {
      const pending = other.aiClient.runJob(other.server.peerId, noopJob()).catch(e => e)
      await waitFor(() => ctxSeen !== undefined, 5_000, 'the job to start')
      await other.aiClient.stop() // resets its streams
      expect(await pending).to.have.property('name', 'AiJobAbortedError')
      await aborted((ctxSeen as AiExecuteContext).signal)
      await waitFor(() => other.ai.activeJobs === 0, 5_000, 'the job to end')
    } finally {
      await other.stop()
    }
  })

  it('enforces the deadline on the server: DEADLINE_EXCEEDED, executor aborted', async () => {
    behaviour = async (_job, ctx) => {
      await aborted(ctx.signal)
      return await new Promise(() => {}) // an executor that ignores its signal
    }
    const started = Date.now()
    const err = await pair.aiClient.runJob(pair.server.peerId, noopJob(), { deadlineMs: 300 }).catch(e => e)
    expect(err).to.have.property('name', 'DeadlineExceededError')
    expect(err).to.have.property('code', 'JOB_ERROR_DEADLINE_EXCEEDED')
    expect(Date.now() - started).to.be.within(250, 2_000)
    expect(seen[0].ctx.signal.aborted).to.equal(true)
  })

  it('enforces the deadline while the result streams', async () => {
    behaviour = async () => ({
      status: 200,
      contentType: 'text/plain',
      body: (async function * () {
        yield new Uint8Array([1])
        await new Promise(resolve => setTimeout(resolve, 5_000))
      })()
    })
    const res = await pair.aiClient.runJob(pair.server.peerId, noopJob(), { deadlineMs: 300 })
    const err = await readAll(res.body).catch(e => e)
    expect(err).to.have.property('code', 'JOB_ERROR_DEADLINE_EXCEEDED')
    expect(await res.final.catch(e => e)).to.equal(err)
  })

  describe('maps Final codes to typed errors', () => {
    const table: Array<[string, Error, string, string]> = [
      ['INSUFFICIENT_CAPACITY', coded('INSUFFICIENT_CAPACITY', 'no slot'), 'InsufficientCapacityError', 'JOB_ERROR_INSUFFICIENT_CAPACITY'],
      ['BAD_REQUEST', coded('BAD_REQUEST', 'bad image'), 'JobBadRequestError', 'JOB_ERROR_BAD_REQUEST'],
      ['RUNNER_FAILURE', coded('RUNNER_FAILURE', 'oom'), 'RunnerFailureError', 'JOB_ERROR_RUNNER_FAILURE'],
      ['UNSUPPORTED', coded('UNSUPPORTED', 'no such model'), 'UnsupportedJobError', 'JOB_ERROR_UNSUPPORTED'],
      ['DEADLINE_EXCEEDED', coded('DEADLINE_EXCEEDED', 'slow'), 'DeadlineExceededError', 'JOB_ERROR_DEADLINE_EXCEEDED'],
      ['PAYMENT_REQUIRED', coded('PAYMENT_REQUIRED', 'no ticket'), 'PaymentRequiredError', 'JOB_ERROR_PAYMENT_REQUIRED'],
      ['an uncoded error (INTERNAL)', new Error('secret stack detail'), 'OrchestratorInternalError', 'JOB_ERROR_INTERNAL'],
      // a gateway-only outcome thrown by an executor is not the orchestrator's to report
      ['a gateway-only outcome (INTERNAL)', coded('GATEWAY_FAILURE', 'secret'), 'OrchestratorInternalError', 'JOB_ERROR_INTERNAL']
    ]
    for (const [what, thrown, name, code] of table) {
      it(`${what} -> ${name}`, async () => {
        behaviour = async () => { throw thrown }
        const err = await pair.aiClient.runJob(pair.server.peerId, noopJob()).catch(e => e)
        expect(err).to.have.property('name', name)
        expect(err).to.have.property('code', code)
        if (what.startsWith('an uncoded')) {
          expect(err).to.have.property('outcome', 'INTERNAL')
          expect(err.message).to.not.include('secret')
        }
      })
    }

    it('a runner failure after the head -> the body throws RunnerFailureError', async () => {
      behaviour = async () => ({
        status: 200,
        contentType: 'text/plain',
        body: (async function * () {
          yield new Uint8Array([1])
          throw coded('RUNNER_FAILURE', 'crashed mid-stream')
        })()
      })
      const res = await pair.aiClient.runJob(pair.server.peerId, noopJob())
      const err = await readAll(res.body).catch(e => e)
      expect(err).to.have.property('name', 'RunnerFailureError')
      expect(await res.final.catch(e => e)).to.equal(err)
    })

    it('an unknown pipeline -> UnsupportedJobError, without running the executor', async () => {
      const err = await pair.aiClient.runJob(pair.server.peerId, { ...noopJob(), pipeline: 'text-to-3d' as InferenceJob['pipeline'] }).catch(e => e)
      expect(err).to.have.property('name', 'UnsupportedJobError')
      expect(seen).to.have.length(0)
    })

    it('a refusal in admit answers before the input is uploaded', async () => {
      admit = () => { throw coded('INSUFFICIENT_CAPACITY', 'full') }
      const before = await metricValue(pair.serverRegistry, 'shoal_ai_server_input_bytes_total')
      const err = await pair.aiClient.runJob(pair.server.peerId, {
        pipeline: 'upscale',
        modelId: 'm',
        params: {},
        inputs: [{ field: 'image', filename: 'x', contentType: 'x', data: new Uint8Array(20 * 1024 * 1024) }]
      }).catch(e => e)
      expect(err).to.have.property('name', 'InsufficientCapacityError')
      expect(seen).to.have.length(0)
      expect(await metricValue(pair.serverRegistry, 'shoal_ai_server_input_bytes_total') - before).to.equal(0)
      // the rest of the upload was cut short, and the stream still serves the next job
      admit = undefined
      const res = await pair.aiClient.runJob(pair.server.peerId, noopJob('again'))
      expect(Buffer.from(await readAll(res.body)).toString()).to.equal('echo again')
    })

    it('an unreachable peer -> UnreachableError', async () => {
      const { createNode } = await import('./helpers.js')
      const lonely = await createNode()
      const lonelyId = lonely.peerId
      await lonely.stop()
      const err = await pair.aiClient.runJob(lonelyId, noopJob(), { signal: AbortSignal.timeout(5_000) }).catch(e => e)
      expect(err).to.have.property('name', 'UnreachableError')
      expect(err).to.have.property('code', 'JOB_ERROR_UNREACHABLE')
    })
  })

  it('reuses streams: N sequential jobs open one stream, concurrent ones at most the pool size', async () => {
    const { createPair: create } = await import('./helpers.js')
    const other = await create({
      executor: { execute: async (job) => ({ status: 200, contentType: 'text/plain', body: bodyOf(String(job.params.prompt)) }) },
      client: { maxStreamsPerPeer: 3 }
    })
    try {
      const peer = other.server.peerId
      for (let i = 0; i < 20; i++) {
        const res = await other.aiClient.runJob(peer, noopJob(`s${i}`))
        expect(Buffer.from(await readAll(res.body)).toString()).to.equal(`s${i}`)
      }
      expect(await metricValue(other.clientRegistry, 'shoal_ai_client_stream_acquisitions_total', { kind: 'opened' })).to.equal(1)
      expect(await metricValue(other.clientRegistry, 'shoal_ai_client_stream_acquisitions_total', { kind: 'reused' })).to.equal(19)
      let maxOpen = 0
      await Promise.all(Array.from({ length: 12 }, async (_, i) => {
        const res = await other.aiClient.runJob(peer, noopJob(`c${i}`))
        maxOpen = Math.max(maxOpen, other.aiClient.streamCount(peer).open, other.ai.openStreams)
        expect(Buffer.from(await readAll(res.body)).toString()).to.equal(`c${i}`)
      }))
      expect(maxOpen).to.be.at.most(3)
      expect(await metricValue(other.clientRegistry, 'shoal_ai_client_stream_acquisitions_total', { kind: 'opened' })).to.be.at.most(3)
    } finally {
      await other.stop()
    }
  })

  it('refuses an input over the server limit with BAD_REQUEST and resets that stream', async () => {
    const { createPair: create } = await import('./helpers.js')
    const other = await create({
      executor: { execute: async () => ({ status: 200, contentType: 'text/plain', body: bodyOf('x') }) },
      limits: { maxInputBytes: 1024 * 1024 }
    })
    try {
      const big: InferenceJob = { pipeline: 'upscale', modelId: 'm', params: {}, inputs: [{ field: 'image', filename: 'x', contentType: 'x', data: new Uint8Array(2 * 1024 * 1024) }] }
      // a fresh stream: the client does not know the limit yet, the server refuses and resets
      const first = await other.aiClient.runJob(other.server.peerId, big).catch(e => e)
      expect(first).to.have.property('code', 'JOB_ERROR_BAD_REQUEST')
      expect(first.message).to.include('exceeds')
      // a stream whose Hello was read: the client refuses before sending
      const res = await other.aiClient.runJob(other.server.peerId, noopJob())
      await readAll(res.body)
      const second = await other.aiClient.runJob(other.server.peerId, big).catch(e => e)
      expect(second).to.have.property('code', 'JOB_ERROR_BAD_REQUEST')
      expect(await metricValue(other.serverRegistry, 'shoal_ai_stream_errors_total', { reason: 'INPUT_TOO_LARGE' })).to.equal(1)
    } finally {
      await other.stop()
    }
  })

  it('refreshes a stale quote with a QuoteRequest before a paid job', async () => {
    const { createPair: create } = await import('./helpers.js')
    let quotes = 0
    const other = await create({
      executor: { execute: async (_job, ctx) => ({ status: 200, contentType: 'application/json', body: bodyOf(JSON.stringify([...(ctx.payment ?? [])])) }) },
      quote: () => ({ prices: [], payment: new Uint8Array([++quotes]) }),
      client: { quoteMaxAgeMs: 0 }
    })
    try {
      const paid: unknown[] = []
      for (let i = 0; i < 2; i++) {
        const res = await other.aiClient.runJob(other.server.peerId, noopJob(), { payment: (quote) => quote.payment })
        paid.push(JSON.parse(Buffer.from(await readAll(res.body)).toString()))
      }
      // Hello carried n=1; each paid job asked again on the same stream
      expect(paid).to.deep.equal([[2], [3]])
      expect(other.aiClient.streamCount(other.server.peerId).open).to.equal(1)
    } finally {
      await other.stop()
    }
  })

  it('sends Hello without prices when the quote hook answers something invalid', async () => {
    const { createPair: create } = await import('./helpers.js')
    const other = await create({
      executor: { execute: async () => ({ status: 200, contentType: 'text/plain', body: bodyOf('ok') }) },
      quote: () => ({ prices: [{ pipeline: 'upscale', modelId: 'm', pricePerUnit: 12 as unknown as string, pixelsPerUnit: '1' }], payment: null })
    })
    try {
      expect(await other.aiClient.getQuote(other.server.peerId)).to.deep.include({ prices: [], payment: null })
      const res = await other.aiClient.runJob(other.server.peerId, noopJob())
      expect(Buffer.from(await readAll(res.body)).toString()).to.equal('ok')
    } finally {
      await other.stop()
    }
  })

  it('survives the server closing idle streams: the next job opens a new one', async () => {
    const { createPair: create } = await import('./helpers.js')
    const other = await create({
      executor: { execute: async () => ({ status: 200, contentType: 'text/plain', body: bodyOf('ok') }) },
      limits: { idleTimeoutMs: 100 }
    })
    try {
      const peer = other.server.peerId
      await readAll((await other.aiClient.runJob(peer, noopJob())).body)
      await waitFor(() => other.ai.openStreams === 0, 5_000, 'the server to close the idle stream')
      const res = await other.aiClient.runJob(peer, noopJob())
      expect(Buffer.from(await readAll(res.body)).toString()).to.equal('ok')
      expect(await metricValue(other.clientRegistry, 'shoal_ai_client_stream_acquisitions_total', { kind: 'opened' })).to.equal(2)
    } finally {
      await other.stop()
    }
  })
})
