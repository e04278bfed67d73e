import { expect } from 'chai'
import { Ajv } from 'ajv'
import { createCpuRunnerServer, type CpuRunnerServer } from '../../src/cpu-runner/index.js'
import { validateRunnerRequest, type RawRequest, type RequestFile } from '../../src/cpu-runner/schemas.js'
import { createGatewayHttpServer } from '../../src/gateway/http/server.js'
import { REFERENCE_DEFAULT_MODELS } from '../../src/gateway/http/options.js'
import { parseJsonJob, parseMultipartJob, type ParsedForm, type ParsedJob } from '../../src/gateway/http/schemas/parse.js'
import { ValidationError } from '../../src/gateway/http/errors.js'
import { billableUnits } from '../../src/kernel/billing.js'
import { GATEWAY_PIPELINES, PIPELINE_BODY, PIPELINE_UNIT, PIPELINES, isGatewayPipeline, pipelineDefinition, type GatewayPipeline, type PipelineName } from '../../src/kernel/pipelines.js'
import { fileMedia } from '../../src/kernel/pipelines/definition.js'
import { fileProperties } from '../../src/kernel/pipelines/validate.js'
import { createRunnerClient } from '../../src/inference/runner-client/index.js'
import { silentLogger } from '../../src/observability/logger.js'
import { png, wav } from '../gateway/http/media.js'

const ctx = { defaultModels: REFERENCE_DEFAULT_MODELS, maxImagePixels: 10_000_000 }
const IMAGE = await png(32, 24)
const AUDIO = wav()

/** An example's file fields (named by media kind in the definitions) with real media. */
function fileOf (media: string): RequestFile {
  return media === 'image'
    ? { filename: 'in.png', contentType: 'image/png', data: IMAGE }
    : { filename: 'in.wav', contentType: 'audio/wav', data: AUDIO }
}

/** A definition's example as the gateway reads it: a JSON body, or a multipart form (text fields as text). */
async function gatewayParse (pipeline: GatewayPipeline, example: Record<string, unknown>): Promise<ParsedJob> {
  const definition = pipelineDefinition(pipeline)
  if (definition.body === 'json') return parseJsonJob(pipeline, example, ctx)
  const form: ParsedForm = { fields: new Map(), files: new Map() }
  for (const [name, value] of Object.entries(example)) {
    const property = definition.request.properties[name]
    if (property !== undefined && fileMedia(property) !== undefined) form.files.set(name, fileOf(String(value)))
    else form.fields.set(name, typeof value === 'string' ? value : JSON.stringify(value))
  }
  return await parseMultipartJob(pipeline, form, ctx)
}

function runnerRequest (pipeline: PipelineName, example: Record<string, unknown>): RawRequest {
  const definition = pipelineDefinition(pipeline)
  const fields: Record<string, unknown> = {}
  const files: Record<string, RequestFile> = {}
  for (const [name, value] of Object.entries(example)) {
    const property = definition.request.properties[name]
    if (property !== undefined && fileMedia(property) !== undefined) files[name] = fileOf(String(value))
    else fields[name] = definition.body === 'multipart' && typeof value !== 'string' ? JSON.stringify(value) : value
  }
  return { fields, files, form: definition.body === 'multipart' }
}

async function issuesOf (run: () => Promise<unknown>): Promise<Array<{ loc: Array<string | number>, type: string }>> {
  try {
    await run()
  } catch (err) {
    expect(err).to.be.instanceOf(ValidationError)
    return (err as ValidationError).issues
  }
  throw new Error('expected a ValidationError')
}

describe('kernel/pipelines: the pipeline registry', () => {
  it('defines each pipeline once, with its route, body, unit and model field', () => {
    expect(PIPELINES).to.have.length(11)
    expect(new Set(PIPELINES).size).to.equal(PIPELINES.length)
    // live video and custom capabilities have routes of their own
    expect(GATEWAY_PIPELINES).to.deep.equal(PIPELINES.filter(p => p !== 'live-video-to-video' && p !== 'custom'))
    for (const name of PIPELINES) {
      const d = pipelineDefinition(name)
      expect(d.name).to.equal(name)
      expect(d.route).to.equal(`/${name}`)
      expect(PIPELINE_BODY[name]).to.equal(d.body)
      expect(PIPELINE_UNIT[name]).to.equal(d.unit)
      expect(isGatewayPipeline(name)).to.equal(d.gateway)
      expect(d.modelField).to.equal(name === 'llm' ? 'model' : 'model_id')
      // a JSON body cannot carry files
      if (d.body === 'json' || d.body === 'raw') expect(fileProperties(d), name).to.deep.equal([])
      else expect(fileProperties(d), name).to.not.deep.equal([])
      expect(d.examples.length, name).to.be.greaterThan(0)
    }
    expect(() => pipelineDefinition('text-to-3d' as PipelineName)).to.throw(TypeError)
  })

  it('compiles every response schema', () => {
    const ajv = new Ajv()
    for (const name of PIPELINES) expect(() => ajv.compile(pipelineDefinition(name).response), name).to.not.throw()
  })

  for (const pipeline of GATEWAY_PIPELINES) {
    describe(pipeline, () => {
      const definition = pipelineDefinition(pipeline)

      it('the gateway and the CPU runner accept the reference example requests, with the same params', async () => {
        for (const example of definition.examples) {
          const parsed = await gatewayParse(pipeline, example)
          expect(parsed.job.pipeline).to.equal(pipeline)
          const runner = validateRunnerRequest(pipeline, runnerRequest(pipeline, example))
          expect(runner.ok, JSON.stringify(runner.ok ? null : runner.issues)).to.equal(true)
          if (!runner.ok) continue
          const { [definition.modelField]: _model, ...runnerParams } = runner.value.params
          expect(runnerParams).to.deep.equal(parsed.job.params)
          const named = example[definition.modelField]
          expect(parsed.job.modelId).to.equal(named ?? definition.defaultModel)
          expect(runner.value.model).to.equal(named ?? '')
          expect(parsed.job.inputs.map(i => i.field)).to.deep.equal(Object.keys(runner.value.files))
          // billing and selection can price and weigh every valid request
          expect(billableUnits(parsed.job) > 0n).to.equal(true)
          expect(parsed.workUnits).to.be.greaterThan(0)
          expect(Number.isFinite(parsed.workUnits)).to.equal(true)
        }
      })

      it('both refuse a value of the wrong type in any field, located at that field', async () => {
        const example = definition.examples[0] ?? {}
        for (const [name, property] of Object.entries(definition.request.properties)) {
          if (fileMedia(property) !== undefined) continue
          const schema = property as Record<string, unknown>
          let bad: unknown
          if (definition.body === 'json') {
            // a nested list is the wrong type for every JSON field: strings, numbers, booleans, messages, objects
            bad = [[1]]
          } else if (schema['x-shoal-json'] !== undefined) {
            bad = '{not json'
          } else if (schema.type === 'string' && schema.enum === undefined) {
            continue // any text is a valid string field of a form
          } else {
            bad = 'not-a-value'
          }
          const request = { ...example, [name]: bad }
          const issues = await issuesOf(async () => await gatewayParse(pipeline, request))
          expect(issues.map(i => i.loc.slice(0, 2)), `${pipeline}.${name}`).to.deep.include(['body', name])
          const runner = validateRunnerRequest(pipeline, runnerRequest(pipeline, request))
          expect(runner.ok ? [] : runner.issues.map(i => i.loc.slice(0, 2)), `${pipeline}.${name} (runner)`).to.deep.include(['body', name])
        }
      })

      it('both report a missing required field as FastAPI does', async () => {
        for (const name of definition.request.required ?? []) {
          const example = Object.fromEntries(Object.entries(definition.examples[0] ?? {}).filter(([k]) => k !== name))
          const issues = await issuesOf(async () => await gatewayParse(pipeline, example))
          expect(issues, `${pipeline}.${name}`).to.deep.include({ loc: ['body', name], msg: 'Field required', type: 'missing' })
          const runner = validateRunnerRequest(pipeline, runnerRequest(pipeline, example))
          expect(runner.ok ? [] : runner.issues).to.deep.include({ loc: ['body', name], msg: 'Field required', type: 'missing' })
        }
      })
    })
  }

  describe('routes: the gateway, the runner client and the CPU runner agree', function () {
    this.timeout(60_000)
    const runners: CpuRunnerServer[] = []
    after(async () => { await Promise.all(runners.map(async r => { await r.stop() })) })

    it('the gateway serves each pipeline at its route and under /api/generate', async () => {
      const server = createGatewayHttpServer({
        dispatcher: { dispatch: async () => { throw new Error('not dispatched in this test') } },
        directory: { list: () => [] },
        logger: silentLogger(),
        metrics: null
      })
      await server.app.ready()
      for (const pipeline of GATEWAY_PIPELINES) {
        const { route } = pipelineDefinition(pipeline)
        expect(server.app.hasRoute({ method: 'POST', url: route }), route).to.equal(true)
        expect(server.app.hasRoute({ method: 'POST', url: `/api/generate${route}` }), route).to.equal(true)
      }
      expect(server.app.hasRoute({ method: 'POST', url: '/live-video-to-video' })).to.equal(false)
      await server.app.close()
    })

    it('a job the gateway parsed from each example reaches a CPU runner of its pipeline through the runner client', async () => {
      for (const pipeline of GATEWAY_PIPELINES) {
        const runner = createCpuRunnerServer({ pipeline, modelId: 'shoal/noop', host: '127.0.0.1', port: 0, authToken: 't' })
        runners.push(runner)
        await runner.start()
        const client = createRunnerClient({ url: runner.url, token: 't' })
        try {
          for (const example of pipelineDefinition(pipeline).examples) {
            const { job } = await gatewayParse(pipeline, example)
            const res = await client.run({ ...job, modelId: 'shoal/noop' }, { signal: AbortSignal.timeout(30_000) })
            let text = ''
            for await (const chunk of res.body) text += Buffer.from(chunk).toString('utf8')
            expect(res.status, `${pipeline}: ${text.slice(0, 300)}`).to.equal(200)
          }
        } finally {
          client.close()
        }
      }
    })
  })
})
