import { expect } from 'chai'
import { parseJsonJob, parseMultipartJob, type ParsedForm, type UploadedFile } from '../../../src/gateway/http/schemas/parse.js'
import { REFERENCE_DEFAULT_MODELS } from '../../../src/gateway/http/options.js'
import { GATEWAY_PIPELINES, pipelineDefinition } from '../../../src/kernel/pipelines.js'
import { ValidationError, UnsupportedMediaTypeError } from '../../../src/gateway/http/errors.js'
import { PIPELINE_BODY } from '../../../src/kernel/pipelines.js'
import { png, wav } from './media.js'
import { wholeInput } from '../../../src/kernel/job.js'

const ctx = { defaultModels: REFERENCE_DEFAULT_MODELS, maxImagePixels: 1_000_000 }

function form (fields: Record<string, string>, files: Record<string, UploadedFile> = {}): ParsedForm {
  return { fields: new Map(Object.entries(fields)), files: new Map(Object.entries(files)) }
}

async function issuesOf (p: Promise<unknown> | (() => unknown)): Promise<Array<{ loc: unknown[], type: string }>> {
  try {
    if (typeof p === 'function') p(); else await p
  } catch (err) {
    expect(err).to.be.instanceOf(ValidationError)
    return (err as ValidationError).issues
  }
  throw new Error('expected a ValidationError')
}

describe('gateway http: pipeline request schemas', () => {
  it('covers the nine pipelines with the body kind of PIPELINE_BODY', () => {
    expect(GATEWAY_PIPELINES).to.have.length(9)
    for (const p of GATEWAY_PIPELINES) expect(pipelineDefinition(p).body, p).to.equal(PIPELINE_BODY[p])
  })

  it('text-to-image: applies the reference defaults and the default model', () => {
    const { job, workUnits } = parseJsonJob('text-to-image', { prompt: 'a fox' }, ctx)
    expect(job.modelId).to.equal('stabilityai/sdxl-turbo')
    expect(job.params).to.deep.equal({
      prompt: 'a fox', loras: '', height: 576, width: 1024, guidance_scale: 7.5, negative_prompt: '',
      safety_check: true, num_inference_steps: 50, num_images_per_prompt: 1
    })
    expect(job.inputs).to.deep.equal([])
    expect(workUnits).to.equal(576 * 1024 * 50)
  })

  it('text-to-image: keeps given values, drops unknown fields, takes model_id', () => {
    const { job } = parseJsonJob('text-to-image', { prompt: 'p', model_id: 'my/model', seed: 7, width: 64, extra: 'x' }, ctx)
    expect(job.modelId).to.equal('my/model')
    expect(job.params.seed).to.equal(7)
    expect(job.params.width).to.equal(64)
    expect(job.params).to.not.have.property('extra')
    expect(job.params).to.not.have.property('model_id')
  })

  it('reports every missing or mistyped field at once, in the reference 422 shape', async () => {
    const issues = await issuesOf(() => parseJsonJob('text-to-image', { height: '5', safety_check: 'yes', guidance_scale: 'x', num_images_per_prompt: 0, loras: '{bad' }, ctx))
    expect(issues.map(i => [i.loc.join('.'), i.type])).to.deep.equal([
      ['body.prompt', 'missing'],
      ['body.loras', 'json_invalid'],
      ['body.height', 'int_type'],
      ['body.guidance_scale', 'float_type'],
      ['body.safety_check', 'bool_type'],
      ['body.num_images_per_prompt', 'greater_than_equal']
    ])
  })

  it('refuses a body that is not an object', async () => {
    for (const body of [[], 'x', 3, null]) {
      const issues = await issuesOf(() => parseJsonJob('llm', body, ctx))
      expect(issues[0]?.type).to.equal('model_attributes_type')
    }
  })

  it('llm: validates messages and takes the model from `model`', async () => {
    const { job } = parseJsonJob('llm', { messages: [{ role: 'user', content: 'hi' }], model: 'tiny', stream: true }, ctx)
    expect(job.modelId).to.equal('tiny')
    expect(job.params).to.deep.equal({ messages: [{ role: 'user', content: 'hi' }], temperature: 0.7, max_tokens: 256, top_p: 1, top_k: -1, stream: true })
    expect(pipelineDefinition('llm').modelField).to.equal('model')
    expect((await issuesOf(() => parseJsonJob('llm', {}, ctx)))[0]?.type).to.equal('missing')
    expect((await issuesOf(() => parseJsonJob('llm', { messages: [] }, ctx)))[0]?.type).to.equal('too_short')
    expect((await issuesOf(() => parseJsonJob('llm', { messages: [{ role: 'user' }] }, ctx)))[0]?.loc).to.deep.equal(['body', 'messages', 0, 'content'])
    expect((await issuesOf(() => parseJsonJob('llm', { messages: 'hi' }, ctx)))[0]?.type).to.equal('list_type')
  })

  it('text-to-speech: defaults text and the speaker description', () => {
    const { job } = parseJsonJob('text-to-speech', { text: 'hello' }, ctx)
    expect(job.modelId).to.equal('parler-tts/parler-tts-large-v1')
    expect(job.params.text).to.equal('hello')
    expect(job.params.description).to.be.a('string').and.not.equal('')
  })

  it('requires a model when the gateway has no default for the pipeline, and refuses odd model ids', async () => {
    const none = { ...ctx, defaultModels: {} }
    expect((await issuesOf(() => parseJsonJob('text-to-image', { prompt: 'p' }, none)))[0]).to.deep.include({ loc: ['body', 'model_id'], type: 'missing' })
    expect((await issuesOf(() => parseJsonJob('text-to-image', { prompt: 'p', model_id: 'has space' }, ctx)))[0]?.type).to.equal('string_pattern_mismatch')
    expect((await issuesOf(() => parseJsonJob('text-to-image', { prompt: 'p', model_id: 5 }, ctx)))[0]?.type).to.equal('string_type')
    // one rule with announcements: 128 characters pass, 129 do not
    expect(parseJsonJob('text-to-image', { prompt: 'p', model_id: 'm'.repeat(128) }, ctx).job.modelId).to.have.length(128)
    expect((await issuesOf(() => parseJsonJob('text-to-image', { prompt: 'p', model_id: 'm'.repeat(129) }, ctx)))[0]?.type).to.equal('string_pattern_mismatch')
  })

  it('upscale: types form fields, keeps the image as an input, and measures it', async () => {
    const image = await png(16, 8)
    const parsed = await parseMultipartJob('upscale', form({ prompt: 'sharp', num_inference_steps: '10', safety_check: 'false', seed: '' }, {
      image: { filename: 'in.png', contentType: 'image/png', data: image }
    }), ctx)
    expect(parsed.job.modelId).to.equal('stabilityai/stable-diffusion-x4-upscaler')
    expect(parsed.job.params).to.deep.equal({ prompt: 'sharp', safety_check: false, num_inference_steps: 10 })
    expect(parsed.job.inputs).to.have.length(1)
    expect(parsed.job.inputs[0]).to.deep.include({ field: 'image', filename: 'in.png', contentType: 'image/png' })
    expect(Buffer.from(parsed.job.inputs[0] === undefined ? [] : wholeInput(parsed.job.inputs[0].data).subarray()).equals(image)).to.equal(true)
    expect(parsed.media).to.deep.equal({ width: 16, height: 8 })
    expect(parsed.workUnits).to.equal(16 * 8 * 10)
  })

  it('multipart: refuses bad numbers, bad booleans, missing or undecodable images, text in place of a file', async () => {
    const image = { filename: 'a.png', contentType: 'image/png', data: await png(4, 4) }
    const bad = await issuesOf(parseMultipartJob('image-to-image', form({ prompt: 'p', strength: 'strong', num_inference_steps: '1.5', safety_check: 'perhaps' }, { image }), ctx))
    expect(bad.map(i => [i.loc[1], i.type])).to.deep.equal([['strength', 'float_parsing'], ['safety_check', 'bool_parsing'], ['num_inference_steps', 'int_parsing']])

    expect((await issuesOf(parseMultipartJob('image-to-video', form({}), ctx)))[0]).to.deep.include({ loc: ['body', 'image'], type: 'missing' })
    expect((await issuesOf(parseMultipartJob('image-to-video', form({ image: 'not a file' }), ctx)))[0]?.type).to.equal('file_type')
    const garbage = { filename: 'a.png', contentType: 'image/png', data: Buffer.from('definitely not an image') }
    expect((await issuesOf(parseMultipartJob('image-to-text', form({}, { image: garbage }), ctx)))[0]?.type).to.equal('image_invalid')
    const empty = { filename: 'a.png', contentType: 'image/png', data: Buffer.alloc(0) }
    expect((await issuesOf(parseMultipartJob('image-to-text', form({}, { image: empty }), ctx)))[0]?.type).to.equal('file_empty')
    const huge = { filename: 'a.png', contentType: 'image/png', data: await png(2000, 1000) }
    expect((await issuesOf(parseMultipartJob('image-to-text', form({}, { image: huge }), ctx)))[0]?.type).to.equal('image_too_large')
  })

  it('segment-anything-2: JSON-array string fields must parse', async () => {
    const image = { filename: 'a.png', contentType: 'image/png', data: await png(4, 4) }
    const ok = await parseMultipartJob('segment-anything-2', form({ point_coords: '[[1,2]]', point_labels: '[1]' }, { image }), ctx)
    expect(ok.job.params).to.deep.include({ point_coords: '[[1,2]]', point_labels: '[1]', multimask_output: true, return_logits: true, normalize_coords: true })
    expect((await issuesOf(parseMultipartJob('segment-anything-2', form({ box: '{"a":1}' }, { image }), ctx)))[0]?.type).to.equal('list_type')
  })

  it('audio-to-text: accepts known audio containers, answers 415 for others, checks return_timestamps', async () => {
    const audio = { filename: 'a.wav', contentType: 'audio/wav', data: wav() }
    const ok = await parseMultipartJob('audio-to-text', form({}, { audio }), ctx)
    expect(ok.job.params).to.deep.equal({ return_timestamps: 'true', metadata: '{}' })
    expect(ok.job.inputs[0]?.field).to.equal('audio')
    const notAudio = { filename: 'a.txt', contentType: 'text/plain', data: Buffer.from('hello, this is text') }
    const err = await parseMultipartJob('audio-to-text', form({}, { audio: notAudio }), ctx).catch(e => e)
    expect(err).to.be.instanceOf(UnsupportedMediaTypeError)
    expect(err.statusCode).to.equal(415)
    expect((await issuesOf(parseMultipartJob('audio-to-text', form({ return_timestamps: 'always' }, { audio }), ctx)))[0]?.type).to.equal('literal_error')
  })

  it('image-to-text and image-to-video: defaults', async () => {
    const image = { filename: 'a.png', contentType: 'image/png', data: await png(4, 4) }
    expect((await parseMultipartJob('image-to-text', form({}, { image }), ctx)).job.params).to.deep.equal({ prompt: '' })
    expect((await parseMultipartJob('image-to-video', form({}, { image }), ctx)).job.params).to.deep.equal({
      height: 576, width: 1024, fps: 6, motion_bucket_id: 127, noise_aug_strength: 0.02, safety_check: true, num_inference_steps: 25
    })
  })
})
