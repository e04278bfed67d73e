import { expect } from 'chai'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { assertCpuModelSupported, availableCpuModels, listCpuModels } from '../../../src/cpu-runner/models/index.js'

describe('cpu-runner/pipelines: the registry of optional CPU models', () => {
  let empty: string
  before(async () => { empty = await mkdtemp(join(tmpdir(), 'shoal-no-extras-')) })
  after(async () => { await rm(empty, { recursive: true, force: true }) })

  it('lists every optional model, unavailable with the way to install it on a bare machine', () => {
    const bare = { SHOAL_EXTRAS_DIR: empty, PATH: '/nonexistent' }
    const listed = listCpuModels(bare)
    const byId = new Map(listed.map((m) => [m.modelId, m]))
    for (const [modelId, pipeline, hint] of [
      ['human-models/selfie-person-mask', 'segment-anything-2', 'npm run install:extras'],
      ['human-models/meet-person-mask', 'segment-anything-2', 'npm run install:extras'],
      ['paddleocr/ppocr-v4+centernet-objects', 'image-to-text', 'npm run install:extras'],
      ['espeak-ng/en-us', 'text-to-speech', 'apt-get install -y espeak-ng'],
      ['ffmpeg/ken-burns', 'image-to-video', 'apt-get install -y ffmpeg']
    ]) {
      const m = byId.get(modelId)
      expect(m, modelId).to.include({ pipeline, available: false })
      expect(m?.unavailableReason, modelId).to.contain(hint)
    }
    // an LLM is listed only once a GGUF file is configured
    expect(listed.filter((m) => m.pipeline === 'llm')).to.deep.equal([])
    // the default install's models stay available
    expect(byId.get('upscalerjs/esrgan-slim-x2')).to.include({ available: true })
    expect(byId.get('shoal/noop')).to.include({ available: true })
  })

  it('picks one available model per pipeline for a testnet', () => {
    expect(availableCpuModels({ SHOAL_EXTRAS_DIR: empty, PATH: '/nonexistent' }).map((m) => `${m.pipeline} ${m.modelId}`))
      .to.deep.equal(['upscale upscalerjs/esrgan-slim-x2'])
    const here = availableCpuModels()
    expect(new Set(here.map((m) => m.pipeline)).size).to.equal(here.length)
    expect(here.every((m) => m.available)).to.equal(true)
  })

  it('refuses an id no family names, listing what the pipeline serves', () => {
    let err: any
    try { assertCpuModelSupported('image-to-video', 'stabilityai/stable-video-diffusion-img2vid-xt') } catch (e) { err = e }
    expect(err).to.have.property('name', 'UnsupportedRunnerModelError')
    expect(err.message).to.contain('ffmpeg/ken-burns')
    expect(() => { assertCpuModelSupported('text-to-speech', 'parler-tts/parler-tts-large-v1') }).to.throw(/espeak-ng\/en-us/)
    expect(() => { assertCpuModelSupported('segment-anything-2', 'facebook/sam2-hiera-large') }).to.throw(/human-models\/selfie-person-mask/)
  })

  it('refuses an LLM without a package, naming the install command', () => {
    expect(() => { assertCpuModelSupported('llm', '/models/x.gguf', { SHOAL_EXTRAS_DIR: empty }) }).to.throw(/npm run install:extras/)
  })
})
