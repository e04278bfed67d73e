import { expect } from 'chai'
import { silentLogger } from '../../../src/observability/logger.js'
import type { RunnerResponse } from '../../../src/kernel/job.js'
import { createGatewayHttpServer } from '../../../src/gateway/http/server.js'
import { createDispatcher, type SendJob } from '../../../src/gateway/dispatch/dispatcher.js'
import { InsufficientCapacityError, JobBadRequestError, UnreachableError } from '../../../src/gateway/dispatch/errors.js'
import { createAdaptiveStrategy } from '../../../src/gateway/selection/strategy.js'
import { candidate } from '../helpers.js'
import { png } from './media.js'

function ok (body: unknown): RunnerResponse {
  return { status: 200, contentType: 'application/json', body: (async function * () { yield new TextEncoder().encode(JSON.stringify(body)) })() }
}

describe('gateway http: server wired to the real dispatcher', () => {
  it('retries past a busy and a dead orchestrator and says so in the headers; refuses what the runner calls a bad request', async () => {
    const script: Record<string, () => Promise<RunnerResponse>> = {
      busy: async () => { throw new InsufficientCapacityError() },
      dead: async () => { throw new UnreachableError('connection refused') },
      good: async () => ok({ images: [{ url: 'data:image/png;base64,AA', seed: 1, nsfw: false }] })
    }
    let order = ['busy', 'dead', 'good']
    const sent: string[] = []
    const send: SendJob = async (peerId, job, { signal }) => {
      expect(signal).to.be.instanceOf(AbortSignal)
      expect(job.inputs[0]?.field).to.equal('image')
      sent.push(peerId)
      return await (script[peerId] ?? (async () => { throw new UnreachableError() }))()
    }
    const dispatcher = createDispatcher({
      candidates: (pipeline, modelId) => order.map(p => candidate(p, { pipeline, modelId })),
      // a strategy that keeps the scripted order, to make the attempts predictable
      strategy: { order: (c) => [...c], record: createAdaptiveStrategy().record },
      send,
      logger: silentLogger(),
      metrics: null
    })
    const server = createGatewayHttpServer({ dispatcher, directory: { list: () => [] }, options: { port: 0, defaultModels: { upscale: 'esrgan-slim' } }, logger: silentLogger(), metrics: null })
    await server.start()
    try {
      const form = async (): Promise<FormData> => {
        const fd = new FormData()
        fd.append('prompt', 'x')
        fd.append('image', new Blob([await png(8, 8)], { type: 'image/png' }), 'a.png')
        return fd
      }
      const res = await fetch(`${server.address?.url}/upscale`, { method: 'POST', body: await form() })
      expect(res.status).to.equal(200)
      expect(await res.json()).to.have.property('images')
      expect(res.headers.get('x-shoal-orchestrator')).to.equal('good')
      expect(res.headers.get('x-shoal-attempts')).to.equal('3')
      expect(res.headers.get('x-shoal-tried')).to.match(/^busy;busy;\d+;JOB_ERROR_INSUFFICIENT_CAPACITY, dead;failure;\d+;JOB_ERROR_UNREACHABLE, good;success;\d+$/)
      expect(sent).to.deep.equal(['busy', 'dead', 'good'])

      script.good = async () => { throw new JobBadRequestError('image too small for this model') }
      order = ['good']
      const bad = await fetch(`${server.address?.url}/upscale`, { method: 'POST', body: await form() })
      expect(bad.status).to.equal(400)
      expect(await bad.json()).to.deep.equal({
        detail: { msg: 'image too small for this model' },
        error: { code: 'GATEWAY_ERROR_JOB_REJECTED', message: 'image too small for this model' }
      })

      order = []
      const none = await fetch(`${server.address?.url}/upscale`, { method: 'POST', body: await form() })
      expect(none.status).to.equal(503)
      expect(((await none.json()) as { detail: { msg: string } }).detail.msg).to.match(/^no orchestrators available for upscale model "[^"]+": /)
      expect(none.headers.get('x-shoal-attempts')).to.equal('0')
    } finally {
      await server.stop()
    }
  })
})
