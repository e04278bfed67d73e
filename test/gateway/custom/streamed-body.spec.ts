import { expect } from 'chai'
import { request } from 'node:http'
import { isStreamed, wholeInput, type InferenceJob } from '../../../src/kernel/job.js'
import { silentLogger } from '../../../src/observability/logger.js'
import { createGatewayHttpServer, type GatewayHttpServer } from '../../../src/gateway/http/server.js'
import type { DispatchOptions, DispatchResult } from '../../../src/gateway/dispatch/dispatcher.js'
import { waitFor } from '../../helpers/wait-for.js'
import { postInTwo } from '../../helpers/custom-http.js'

describe('gateway/custom: a long request body goes out as it arrives', function () {
  this.timeout(20_000)
  let server: GatewayHttpServer
  let url: string
  let read = 0
  let options: DispatchOptions | undefined

  before(async () => {
    server = createGatewayHttpServer({
      dispatcher: {
        dispatch: async (job: InferenceJob, opts): Promise<DispatchResult> => {
          options = opts
          const input = job.inputs[0]
          const parts: Uint8Array[] = []
          if (input !== undefined && isStreamed(input.data)) {
            for await (const chunk of input.data.read(opts.signal)) { parts.push(chunk); read += chunk.byteLength }
          } else if (input !== undefined) {
            parts.push(wholeInput(input.data).subarray())
          }
          const body = Buffer.concat(parts)
          return { response: { status: 200, contentType: 'application/octet-stream', body: (async function * () { yield body })() }, orchestrator: 'o', attempts: [{ peerId: 'o', outcome: 'success', ms: 1 }] }
        }
      },
      directory: { list: () => [], customCapabilities: () => [{ name: 'app', description: '', orchestrators: [], min_price_per_second_wei: '0', capacity: 1 }] },
      options: { host: '127.0.0.1', port: 0, customReplayBytes: 64 * 1024 },
      logger: silentLogger(),
      metrics: null,
      extraRoutes: [(_add, app) => { app.addContentTypeParser(['video/mp2t', 'application/octet-stream'], (_request, payload, done) => { done(null, payload) }) }]
    })
    await server.start()
    url = server.address!.url
  })
  after(async () => { await server.stop() })

  it('hands the dispatch a streamed input it reads while the client still sends; replayable until past the kept part', async () => {
    const body = Buffer.from(Array.from({ length: 600_000 }, (_, i) => (i * 31 + 7) % 256))
    const res = await postInTwo(`${url}/capability/app/echo`, body.subarray(0, 400_000), body.subarray(400_000), async () => {
      await waitFor(() => read >= 350_000, 10_000, 'the first part read by the dispatch')
    })
    expect(res.status).to.equal(200)
    expect(res.body.equals(body)).to.equal(true)
    expect(options?.replayable?.()).to.equal(false)
  })
})

describe('gateway/custom: a chunked body over the limit', function () {
  this.timeout(20_000)
  it('is a 413 as its bytes arrive', async () => {
    const server = createGatewayHttpServer({
      dispatcher: { dispatch: async () => { throw new Error('not dispatched') } },
      directory: { list: () => [], customCapabilities: () => [{ name: 'app', description: '', orchestrators: [], min_price_per_second_wei: '0', capacity: 1 }] },
      options: { host: '127.0.0.1', port: 0, bodyLimitBytes: 100_000 },
      logger: silentLogger(),
      metrics: null
    })
    await server.start()
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`${server.address!.url}/capability/app/echo`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => { res.resume(); resolve(res.statusCode ?? 0) })
        req.on('error', () => {})
        setTimeout(() => { reject(new Error('no answer')) }, 10_000).unref()
        const chunk = Buffer.alloc(16 * 1024)
        let sent = 0
        const pump = (): void => {
          while (sent <= 100_000 + chunk.byteLength && !req.destroyed) {
            sent += chunk.byteLength
            if (!req.write(chunk)) { req.once('drain', pump); return }
          }
        }
        pump()
      })
      expect(status).to.equal(413)
    } finally {
      await server.stop()
    }
  })
})
