import { expect } from 'chai'
import { Registry } from 'prom-client'
import { formatModelAliases, ModelAliasSyntaxError, parseModelAliases, resolveModelAlias } from '../../src/gateway/aliases.js'
import { createGatewayHttpServer, type GatewayHttpServer } from '../../src/gateway/http/server.js'
import type { DispatchResult } from '../../src/gateway/dispatch/dispatcher.js'
import { NoOrchestratorError } from '../../src/gateway/dispatch/errors.js'
import { createGatewayMetrics } from '../../src/gateway/metrics.js'
import type { InferenceJob } from '../../src/kernel/job.js'
import { silentLogger } from '../../src/observability/logger.js'

const SDK_UPSCALE = 'stabilityai/stable-diffusion-x4-upscaler'
const ESRGAN = 'upscalerjs/esrgan-slim-x2'

describe('gateway model aliases', function () {
  this.timeout(20_000)

  describe('parsing', () => {
    it('reads PIPELINE:ALIAS=MODEL (model ids with slashes and colons) and resolves one step', () => {
      const aliases = parseModelAliases([`upscale:${SDK_UPSCALE}=${ESRGAN}`, 'llm:meta-llama/llama-3.1-8B-Instruct=/models/q:4.gguf'])
      expect(resolveModelAlias(aliases, 'upscale', SDK_UPSCALE)).to.deep.equal({ modelId: ESRGAN, alias: SDK_UPSCALE })
      expect(resolveModelAlias(aliases, 'upscale', ESRGAN)).to.deep.equal({ modelId: ESRGAN })
      // per pipeline: the same id on another pipeline is not aliased
      expect(resolveModelAlias(aliases, 'image-to-image', SDK_UPSCALE)).to.deep.equal({ modelId: SDK_UPSCALE })
      expect(resolveModelAlias(aliases, 'llm', 'meta-llama/llama-3.1-8B-Instruct').modelId).to.equal('/models/q:4.gguf')
      expect(formatModelAliases(aliases)).to.deep.equal([`upscale:${SDK_UPSCALE}=${ESRGAN}`, 'llm:meta-llama/llama-3.1-8B-Instruct=/models/q:4.gguf'])
    })

    it('refuses malformed entries, unknown pipelines, bad ids, self and chained aliases', () => {
      for (const bad of ['upscale', `${SDK_UPSCALE}=${ESRGAN}`, 'upscaling:a=b', 'upscale:=b', 'upscale:a=', 'upscale:a b=c', 'upscale:a=a', 'upscale:a=b,upscale:b=c'.split(',').join('|')]) {
        expect(() => parseModelAliases(bad.split('|')), bad).to.throw(ModelAliasSyntaxError)
      }
    })
  })

  describe('over HTTP', () => {
    let server: GatewayHttpServer
    let url: string
    const dispatched: InferenceJob[] = []
    const served = new Set([ESRGAN])

    before(async () => {
      server = createGatewayHttpServer({
        dispatcher: {
          dispatch: async (job): Promise<DispatchResult> => {
            dispatched.push(job)
            if (!served.has(job.modelId)) throw new NoOrchestratorError('none', [])
            const body = Buffer.from(JSON.stringify({ images: [{ url: 'data:image/png;base64,AA', seed: 1, nsfw: false }] }))
            return { response: { status: 200, contentType: 'application/json', body: (async function * () { yield body })() }, orchestrator: 'p1', attempts: [{ peerId: 'p1', outcome: 'success', ms: 3 }] }
          }
        },
        directory: { list: () => [], servedModels: (pipeline) => pipeline === 'upscale' ? [ESRGAN, 'upscalerjs/esrgan-medium-x4'] : [] },
        options: { host: '127.0.0.1', port: 0, modelAliases: parseModelAliases([`upscale:${SDK_UPSCALE}=${ESRGAN}`]) },
        logger: silentLogger(),
        metrics: createGatewayMetrics(new Registry())
      })
      await server.start()
      url = server.address?.url ?? ''
    })
    after(async () => { await server.stop() })

    const upscale = async (model?: string, path = '/upscale', headers: Record<string, string> = {}): Promise<Response> => {
      const form = new FormData()
      form.set('prompt', 'x')
      if (model !== undefined) form.set('model_id', model)
      form.set('image', new Blob([Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64')], { type: 'image/png' }), 'a.png')
      return await fetch(`${url}${path}`, { method: 'POST', body: form, headers })
    }

    it("a Livepeer SDK's default model id is served by the aliased model, and the answer names the model that ran", async () => {
      for (const [model, path] of [[SDK_UPSCALE, '/upscale'], [undefined, '/api/generate/upscale']] as const) {
        dispatched.length = 0
        const res = await upscale(model, path)
        expect(res.status).to.equal(200)
        expect(res.headers.get('x-shoal-model')).to.equal(ESRGAN)
        expect(res.headers.get('x-shoal-requested-model')).to.equal(SDK_UPSCALE)
        expect(dispatched.map(j => j.modelId)).to.deep.equal([ESRGAN])
        await res.arrayBuffer()
      }
      const direct = await upscale(ESRGAN)
      expect(direct.headers.get('x-shoal-model')).to.equal(ESRGAN)
      expect(direct.headers.get('x-shoal-requested-model')).to.equal(null)
      await direct.arrayBuffer()
    })

    it('a 503 names the pipeline and the model it looked for, and lists what the mesh serves for that pipeline (sync and async)', async () => {
      const res = await upscale('acme/unknown-upscaler')
      expect(res.status).to.equal(503)
      const body = await res.json() as { detail: { msg: string }, error: Record<string, unknown> }
      expect(body.error).to.deep.include({ code: 'GATEWAY_ERROR_NO_ORCHESTRATOR', pipeline: 'upscale', model: 'acme/unknown-upscaler', served: [ESRGAN, 'upscalerjs/esrgan-medium-x4'] })
      expect(body.detail.msg).to.equal(`no orchestrators available for upscale model "acme/unknown-upscaler": no orchestrator the gateway knows serves it; the mesh serves for upscale: "${ESRGAN}", "upscalerjs/esrgan-medium-x4"`)

      served.delete(ESRGAN)
      try {
        const aliased = await upscale(SDK_UPSCALE, '/upscale', { prefer: 'respond-async' })
        expect(aliased.status).to.equal(202)
        const { request_id: id } = await aliased.json() as { request_id: string }
        let job: Response
        for (;;) {
          job = await fetch(`${url}/jobs/${id}`)
          if (job.status !== 202) break
          await job.arrayBuffer()
          await new Promise(resolve => setTimeout(resolve, 20))
        }
        expect(job.status).to.equal(503)
        expect(job.headers.get('x-shoal-model')).to.equal(ESRGAN)
        const failed = await job.json() as { result: { error: Record<string, unknown> } }
        expect(failed.result.error).to.deep.include({ pipeline: 'upscale', model: ESRGAN, requested_model: SDK_UPSCALE })
        expect(String(failed.result.error.message)).to.contain(`"${ESRGAN}" (the alias of "${SDK_UPSCALE}")`)
      } finally {
        served.add(ESRGAN)
      }
    })
  })
})
