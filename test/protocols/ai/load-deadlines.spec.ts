import { expect } from 'chai'
import type { JsonValue } from '../../../src/kernel/job.js'
import type { AiExecuteContext, AiExecutionResult, ModelLoad } from '../../../src/protocols/ai/index.js'
import { bodyOf, createPair, metricValue, noopJob, readAll, waitFor, type Pair } from './helpers.js'

/** Resolves when `signal` aborts. */
async function aborted (signal: AbortSignal): Promise<void> {
  if (signal.aborted) return
  await new Promise<void>(resolve => { signal.addEventListener('abort', () => { resolve() }, { once: true }) })
}

function coded (code: string, message: string): Error {
  return Object.assign(new Error(message), { code })
}

/**
 * Live slots on the connection (Hello, Quote and every Final carry `load`), the payer
 * named in a QuoteRequest, the client's first-byte deadline and the server's deadline cap,
 * over two real libp2p nodes.
 */
describe('protocols/ai: load on the connection, payer in QuoteRequest, deadlines', function () {
  this.timeout(30_000)
  let pair: Pair
  /** the orchestrator's slots: the executor takes and frees them as a runner manager would */
  const slots = { capacity: 2, inUse: 0 }
  const reported: Array<{ peerId: string, loads: ModelLoad[] }> = []
  const quoteCalls: Array<JsonValue | undefined> = []
  let behaviour: (ctx: AiExecuteContext) => Promise<AiExecutionResult>
  const seen: AiExecuteContext[] = []

  before(async () => {
    pair = await createPair({
      executor: {
        admit: (header) => {
          if (header.modelId === 'full' || slots.inUse >= slots.capacity) throw coded('INSUFFICIENT_CAPACITY', 'all slots in use')
        },
        execute: async (_job, ctx) => {
          seen.push(ctx)
          slots.inUse++
          try {
            const result = await behaviour(ctx)
            const body = result.body
            return {
              ...result,
              body: (async function * () {
                try { yield * body } finally { slots.inUse-- }
              })()
            }
          } catch (err) {
            slots.inUse--
            throw err
          }
        }
      },
      quote: (_peer, { payment }) => {
        quoteCalls.push(payment)
        return { prices: [], payment: payment === undefined ? null : { paramsFor: payment } }
      },
      load: () => [
        { pipeline: 'text-to-image', modelId: 'noop', capacity: slots.capacity, inUse: slots.inUse },
        { pipeline: 'llm', modelId: 'other', capacity: 8, inUse: 0 }
      ],
      limits: { maxDeadlineMs: 600 },
      client: { onLoad: (peerId, loads) => { reported.push({ peerId, loads }) } }
    })
  })
  after(async () => { await pair.stop() })
  beforeEach(() => {
    reported.length = 0
    quoteCalls.length = 0
    seen.length = 0
    behaviour = async () => ({ status: 200, contentType: 'text/plain', body: bodyOf('ok') })
  })

  it('reports every model\'s slots from the Hello and a Quote, and the job\'s model from its Final', async () => {
    const quote = await pair.aiClient.getQuote(pair.server.peerId)
    const server = pair.server.peerId.toString()
    // the Hello of the stream the quote came from
    expect(reported[0]).to.deep.equal({
      peerId: server,
      loads: [{ pipeline: 'text-to-image', modelId: 'noop', capacity: 2, inUse: 0 }, { pipeline: 'llm', modelId: 'other', capacity: 8, inUse: 0 }]
    })
    expect(quote.load).to.have.length(2)
    await pair.aiClient.getQuote(pair.server.peerId, { maxAgeMs: 0 })
    expect(reported).to.have.length(2)

    // a job holds a slot: a Quote asked meanwhile sees it taken, its Final sees it free again
    const release = Promise.withResolvers<void>()
    behaviour = async () => ({ status: 200, contentType: 'text/plain', body: (async function * () { await release.promise; yield new TextEncoder().encode('done') })() })
    reported.length = 0
    const res = await pair.aiClient.runJob(pair.server.peerId, noopJob())
    const during = await pair.aiClient.getQuote(pair.server.peerId, { maxAgeMs: 0 })
    expect(during.load?.[0]).to.deep.equal({ pipeline: 'text-to-image', modelId: 'noop', capacity: 2, inUse: 1 })
    release.resolve()
    expect(Buffer.from(await readAll(res.body)).toString()).to.equal('done')
    await res.final
    const finals = reported.filter(r => r.loads.length === 1)
    expect(finals.at(-1)?.loads).to.deep.equal([{ pipeline: 'text-to-image', modelId: 'noop', capacity: 2, inUse: 0 }])
  })

  it('sends load with an INSUFFICIENT_CAPACITY Final, and an empty list for a model not served', async () => {
    await pair.aiClient.getQuote(pair.server.peerId)
    reported.length = 0
    slots.inUse = 2
    try {
      const err = await pair.aiClient.runJob(pair.server.peerId, noopJob()).catch(e => e)
      expect(err).to.have.property('code', 'JOB_ERROR_INSUFFICIENT_CAPACITY')
      expect(reported).to.deep.equal([{ peerId: pair.server.peerId.toString(), loads: [{ pipeline: 'text-to-image', modelId: 'noop', capacity: 2, inUse: 2 }] }])
    } finally {
      slots.inUse = 0
    }
    reported.length = 0
    const err = await pair.aiClient.runJob(pair.server.peerId, { ...noopJob(), modelId: 'full' }).catch(e => e)
    expect(err).to.have.property('code', 'JOB_ERROR_INSUFFICIENT_CAPACITY')
    expect(reported.map(r => r.loads)).to.deep.equal([[]])
  })

  it('names the payer in a QuoteRequest once per stream when the payer hook asks, and pays from the answer', async () => {
    // a fresh connection: a fresh stream, whose Hello has no params for us
    await pair.aiClient.stop()
    await pair.aiClient.start()
    quoteCalls.length = 0
    const payments: JsonValue[] = []
    const payer = (quote: { payment: JsonValue | null }): JsonValue | undefined => quote.payment === null ? { sender: 'me' } : undefined
    for (let i = 0; i < 3; i++) {
      const res = await pair.aiClient.runJob(pair.server.peerId, noopJob(), {
        payer,
        payment: (quote) => { payments.push(quote.payment as JsonValue); return quote.payment }
      })
      await readAll(res.body)
    }
    // the Hello (no payer), then one QuoteRequest naming us; later jobs reuse its answer
    expect(quoteCalls).to.deep.equal([undefined, { sender: 'me' }])
    expect(payments).to.deep.equal([{ paramsFor: { sender: 'me' } }, { paramsFor: { sender: 'me' } }, { paramsFor: { sender: 'me' } }])
    expect(seen.map(ctx => ctx.payment)).to.deep.equal(payments)
  })

  it('cancels a job whose result has not begun by the first-byte deadline, and keeps the stream', async () => {
    await pair.aiClient.getQuote(pair.server.peerId)
    const streamsBefore = pair.aiClient.streamCount(pair.server.peerId).open
    behaviour = async (ctx) => { await aborted(ctx.signal); throw new Error('runner call aborted') }
    const cancelledBefore = await metricValue(pair.serverRegistry, 'shoal_ai_server_jobs_total', { code: 'CANCELLED' })
    const started = Date.now()
    const err = await pair.aiClient.runJob(pair.server.peerId, noopJob(), { firstByteDeadlineMs: 200, deadlineMs: 20_000 }).catch(e => e)
    expect(err).to.have.property('name', 'DeadlineExceededError')
    expect(err).to.have.property('code', 'JOB_ERROR_DEADLINE_EXCEEDED')
    expect(err.details).to.have.property('phase', 'first-byte')
    // long before the total deadline
    expect(Date.now() - started).to.be.below(10_000)
    // the orchestrator was told: its executor's signal aborted and it answered CANCELLED
    await waitFor(() => seen[0]?.signal.aborted === true, 5_000, 'the executor signal to abort')
    await waitFor(async () => await metricValue(pair.serverRegistry, 'shoal_ai_server_jobs_total', { code: 'CANCELLED' }) === cancelledBefore + 1, 5_000, 'Final CANCELLED')
    await waitFor(() => pair.aiClient.streamCount(pair.server.peerId).idle >= 1, 5_000, 'the stream back in the pool')
    expect(pair.aiClient.streamCount(pair.server.peerId).open).to.equal(Math.max(streamsBefore, 1))
    expect(await metricValue(pair.clientRegistry, 'shoal_ai_client_jobs_total', { outcome: 'DEADLINE_EXCEEDED' })).to.be.greaterThan(0)
  })

  it('lets a job whose head came in time run past the first-byte deadline', async () => {
    behaviour = async () => ({
      status: 200,
      contentType: 'text/plain',
      body: (async function * () {
        yield new TextEncoder().encode('a')
        await new Promise(resolve => setTimeout(resolve, 400))
        yield new TextEncoder().encode('b')
      })()
    })
    const res = await pair.aiClient.runJob(pair.server.peerId, noopJob(), { firstByteDeadlineMs: 150 })
    expect(Buffer.from(await readAll(res.body)).toString()).to.equal('ab')
    await res.final
  })

  it('caps a deadline the client asks for at the orchestrator\'s maxDeadlineMs', async () => {
    behaviour = async (ctx) => { await aborted(ctx.signal); throw new Error('aborted') }
    const started = Date.now()
    const err = await pair.aiClient.runJob(pair.server.peerId, noopJob(), { deadlineMs: 60_000 }).catch(e => e)
    expect(err).to.have.property('code', 'JOB_ERROR_DEADLINE_EXCEEDED')
    expect(err.details).to.have.property('finalCode', 'DEADLINE_EXCEEDED')
    expect(err.message).to.include('600 ms')
    expect(seen[0].deadline - started).to.be.at.most(600 + 50)
    expect(Date.now() - started).to.be.below(30_000)
  })

  it('refuses a first-byte deadline that is not a positive integer', async () => {
    const err = await pair.aiClient.runJob(pair.server.peerId, noopJob(), { firstByteDeadlineMs: 0 }).catch(e => e)
    expect(err).to.have.property('code', 'JOB_ERROR_BAD_REQUEST')
  })
})
