import { expect } from 'chai'
import type { InferenceJob, RunnerResponse } from '../../../src/kernel/job.js'
import { createJobError } from '../../../src/kernel/job-outcome.js'
import { silentLogger } from '../../../src/observability/logger.js'
import { encodeReceipt } from '../../../src/payments/job-payment.js'
import { createGatewayHttpServer, type GatewayHttpServer } from '../../../src/gateway/http/server.js'
import type { DispatchResult } from '../../../src/gateway/dispatch/dispatcher.js'
import type { CapabilityListing } from '../../../src/gateway/custom/listing.js'
import { post } from '../../helpers/custom-http.js'

/**
 * The one relay of runner answers (src/gateway/http/relay.ts) as the custom capability
 * routes use it, over real HTTP: the cost as headers or trailers, and the request's
 * timeout before the headers (408) and after them (a trailer, an SSE error event).
 */
const encoder = new TextEncoder()
const NAME = 'app'
const TIMEOUT = 'capability app did not finish its answer within 1000 ms (the request\'s timeout)'

type Answer = RunnerResponse & { final?: Promise<{ units?: number, receipt?: Uint8Array }> }

function listing (): CapabilityListing[] {
  return [{ name: NAME, description: '', orchestrators: [], min_price_per_second_wei: '0', capacity: 1 }]
}

async function * chunks (parts: Array<string | Error | number>): AsyncGenerator<Uint8Array> {
  for (const part of parts) {
    if (typeof part === 'number') await new Promise(resolve => setTimeout(resolve, part))
    else if (part instanceof Error) throw part
    else yield encoder.encode(part)
  }
}

function answer (contentType: string, parts: Array<string | Error | number>, cost?: { units: number, charged: bigint }): Answer {
  return {
    status: 200,
    contentType,
    body: chunks(parts),
    ...(cost === undefined ? {} : { final: Promise.resolve({ units: cost.units, receipt: encodeReceipt({ charged: cost.charged, balance: 0n, units: cost.units }) }) })
  }
}

describe('gateway http: the relay of answers (custom capability routes)', function () {
  this.timeout(20_000)
  let server: GatewayHttpServer
  let url: string
  let next: () => Answer
  const jobs: InferenceJob[] = []

  before(async () => {
    server = createGatewayHttpServer({
      dispatcher: {
        dispatch: async (job): Promise<DispatchResult> => {
          jobs.push(job)
          return { response: next(), orchestrator: '12D3KooWorch', attempts: [{ peerId: '12D3KooWorch', outcome: 'success', ms: 1 }] }
        }
      },
      directory: { list: () => [], customCapabilities: listing },
      options: { host: '127.0.0.1', port: 0 },
      logger: silentLogger(),
      metrics: null
    })
    await server.start()
    url = server.address!.url
  })
  after(async () => { await server.stop() })

  it('a short answer carries its cost as headers, with a content-length', async () => {
    next = () => answer('application/json', ['{"ok":true}'], { units: 1234, charged: 5678n })
    const res = await post(`${url}/capability/${NAME}/run`, '{}', { 'content-type': 'application/json' })
    expect(res.status).to.equal(200)
    expect(res.body.toString()).to.equal('{"ok":true}')
    expect(res.headers['content-length']).to.equal('11')
    expect(res.headers['x-shoal-compute-ms']).to.equal('1234')
    expect(res.headers['x-shoal-charged-wei']).to.equal('5678')
    expect(jobs.at(-1)?.params.path).to.equal('/run')
  })

  it('a streamed answer carries its cost as trailers, and an empty error trailer', async () => {
    next = () => answer('text/plain', ['a', 'b', 10, 'c'], { units: 20, charged: 7n })
    const res = await post(`${url}/capability/${NAME}/run`, '')
    expect(res.status).to.equal(200)
    expect(res.body.toString()).to.equal('abc')
    expect(res.headers['transfer-encoding']).to.equal('chunked')
    expect(res.trailers).to.deep.equal({ 'x-shoal-compute-ms': '20', 'x-shoal-charged-wei': '7', 'x-shoal-error': '' })
  })

  it('the request\'s timeout before the headers went out: 408 saying so', async () => {
    next = () => answer('text/plain', ['only one chunk', 20, createJobError('DEADLINE_EXCEEDED', TIMEOUT)])
    const res = await post(`${url}/capability/${NAME}/run`, '')
    expect(res.status).to.equal(408)
    const body = JSON.parse(res.body.toString()) as { error: { code: string, message: string } }
    expect(body.error).to.deep.equal({ code: 'GATEWAY_ERROR_REQUEST_TIMEOUT', message: TIMEOUT })
    expect(res.headers['x-shoal-attempts']).to.equal('1')
  })

  it('the request\'s timeout after the headers: the answer so far, then the end with an x-shoal-error trailer', async () => {
    next = () => answer('text/plain', ['one ', 'two ', 20, 'three', 20, createJobError('DEADLINE_EXCEEDED', TIMEOUT)])
    const res = await post(`${url}/capability/${NAME}/run`, '')
    expect(res.status).to.equal(200)
    expect(res.body.toString()).to.equal('one two three')
    // the body ended cleanly: the trailers say why it is short
    expect(res.trailers['x-shoal-error']).to.equal(`timeout: ${TIMEOUT}`)
    expect(res.trailers['x-shoal-compute-ms']).to.equal('')
  })

  it('the request\'s timeout in Server-Sent Events: a last error event that says timeout', async () => {
    next = () => answer('text/event-stream', ['data: {"i":0}\n\n', 20, createJobError('DEADLINE_EXCEEDED', TIMEOUT)])
    const res = await post(`${url}/capability/${NAME}/run`, '')
    expect(res.status).to.equal(200)
    const events = res.body.toString().trim().split('\n\n')
    expect(events).to.deep.equal(['data: {"i":0}', `data: ${JSON.stringify({ error: { code: 'timeout', message: TIMEOUT } })}`])
    expect(res.trailers['x-shoal-error']).to.equal(`timeout: ${TIMEOUT}`)
  })

  it('any other failure mid-stream still cuts a plain body (no clean end)', async () => {
    next = () => answer('text/plain', ['one ', 'two ', 20, new Error('orchestrator went away')])
    const outcome = await post(`${url}/capability/${NAME}/run`, '').then(() => 'complete', () => 'cut')
    expect(outcome).to.equal('cut')
    expect((await fetch(`${url}/health`)).status).to.equal(200)
  })
})
