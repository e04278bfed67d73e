import { expect } from 'chai'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { planTestnetPipelines, ggufModelId } from '../../src/testnet/pipelines.js'
import { testnetAliases } from '../../src/cli/commands/testnet.js'
import { extraPackageDir } from '../../src/cpu-runner/models/extras.js'

describe('testnet/pipelines: what `shoal testnet` serves, and why not the rest', function () {
  this.timeout(30_000)
  let dir: string
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'shoal-plan-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('on a bare machine (no extras, no Debian packages): upscale only, and each other pipeline names what it needs', async () => {
    const plan = await planTestnetPipelines({ dataDir: dir, upscaleModel: 'upscalerjs/esrgan-slim-x2', env: { PATH: '/nonexistent', SHOAL_EXTRAS_DIR: join(dir, 'none') } })
    expect(plan.served.map(s => `${s.pipeline} ${s.modelId} ${s.clientDefault}`)).to.deep.equal(['upscale upscalerjs/esrgan-slim-x2 stabilityai/stable-diffusion-x4-upscaler'])
    const why = Object.fromEntries(plan.notServed.map(n => [n.pipeline, n.reason]))
    for (const gpu of ['text-to-image', 'image-to-image', 'audio-to-text']) expect(why[gpu]).to.match(/^needs a GPU/)
    expect(why['segment-anything-2']).to.contain('npm run install:extras')
    expect(why['text-to-speech']).to.contain('apt-get install -y espeak-ng')
    expect(why['image-to-video']).to.contain('apt-get install -y ffmpeg')
    expect(why.llm).to.contain('npm run install:extras')
    expect(why['live-video-to-video']).to.contain('npm run install:extras')
    // no runtime, no model file written
    expect(existsSync(join(dir, 'tiny-random-llama.gguf'))).to.equal(false)
    expect(testnetAliases(plan.served)).to.deep.equal(['upscale:stabilityai/stable-diffusion-x4-upscaler=upscalerjs/esrgan-slim-x2'])
  })

  it('with the extras installed: every CPU pipeline, the LLM on a tiny GGUF it writes, aliased from the Livepeer defaults', async function () {
    if (extraPackageDir('node-llama-cpp') === null) this.skip()
    const plan = await planTestnetPipelines({ dataDir: dir, upscaleModel: 'upscalerjs/esrgan-slim-x2' })
    expect(plan.served.map(s => s.pipeline).sort()).to.deep.equal(['image-to-text', 'image-to-video', 'live-video-to-video', 'llm', 'segment-anything-2', 'text-to-speech', 'upscale'])
    expect(plan.notServed.map(n => n.pipeline).sort()).to.deep.equal(['audio-to-text', 'image-to-image', 'text-to-image'])
    expect(plan.env.SHOAL_LLM_MODEL_PATH).to.equal(join(dir, 'tiny-random-llama.gguf'))
    expect(existsSync(join(dir, 'tiny-random-llama.gguf'))).to.equal(true)
    expect(plan.served.find(s => s.pipeline === 'llm')?.modelId).to.equal('gguf/tiny-random-llama')
    expect(testnetAliases(plan.served)).to.include('llm:meta-llama/llama-3.1-8B-Instruct=gguf/tiny-random-llama')
    expect(ggufModelId('/models/Llama 3.2 1B.Q4_K_M.gguf')).to.equal('gguf/Llama-3.2-1B.Q4_K_M')
  })
})
