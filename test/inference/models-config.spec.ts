import { expect } from 'chai'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadModelsConfig, parseModelsConfig, parseModelsConfigText } from '../../src/inference/models-config.js'

function failure (value: unknown): any {
  try {
    parseModelsConfig(value)
  } catch (err) {
    return err
  }
  throw new Error('expected parseModelsConfig to throw')
}

describe('inference/models-config: aiModels.json', () => {
  it('parses the reference format, with defaults for the optional fields', () => {
    const entries = parseModelsConfig([
      { pipeline: 'text-to-image', model_id: 'ByteDance/SDXL-Lightning', warm: true, capacity: 2, price_per_unit: 4768371, pixels_per_unit: 1, optimization_flags: { SFAST: true, DEEPCACHE: false } },
      { pipeline: 'upscale', model_id: 'upscalerjs/esrgan-slim-x2' },
      { pipeline: 'llm', model_id: 'meta-llama/Meta-Llama-3.1-8B-Instruct', url: 'http://127.0.0.1:8001/', token: 'secret', price_per_unit: '0.5e-3', currency: 'usd' }
    ])
    expect(entries[0]).to.deep.equal({
      pipeline: 'text-to-image',
      modelId: 'ByteDance/SDXL-Lightning',
      warm: true,
      capacity: 2,
      optimizationFlags: { SFAST: true, DEEPCACHE: false },
      pricePerUnit: '4768371',
      pixelsPerUnit: '1',
      currency: 'WEI'
    })
    expect(entries[1]).to.deep.equal({ pipeline: 'upscale', modelId: 'upscalerjs/esrgan-slim-x2', warm: false, capacity: 1, optimizationFlags: {}, pricePerUnit: '0', pixelsPerUnit: '1', currency: 'WEI' })
    expect(entries[2]).to.include({ url: 'http://127.0.0.1:8001', token: 'secret', pricePerUnit: '0.5e-3', currency: 'USD' })
  })

  const cases: Array<[string, unknown, number | null, string | null]> = [
    ['not an array', { pipeline: 'upscale' }, null, null],
    ['an entry that is not an object', [1], 0, null],
    ['an unknown field', [{ pipeline: 'upscale', model_id: 'm', gpu: 1 }], 0, 'gpu'],
    ['a missing pipeline', [{ model_id: 'm' }], 0, 'pipeline'],
    ['an unknown pipeline', [{ pipeline: 'text-to-3d', model_id: 'm' }], 0, 'pipeline'],
    ['a missing model_id', [{ pipeline: 'upscale', model_id: 'm' }, { pipeline: 'upscale' }], 1, 'model_id'],
    ['an empty model_id', [{ pipeline: 'upscale', model_id: ' ' }], 0, 'model_id'],
    ['a model_id longer than announcements allow (129 characters)', [{ pipeline: 'upscale', model_id: 'm'.repeat(129) }], 0, 'model_id'],
    ['a model_id with a space', [{ pipeline: 'upscale', model_id: 'my model' }], 0, 'model_id'],
    ['a flag name that is no environment variable name', [{ pipeline: 'upscale', model_id: 'm', optimization_flags: { '1X': true } }], 0, 'optimization_flags'],
    ['a non-boolean warm', [{ pipeline: 'upscale', model_id: 'm', warm: 'yes' }], 0, 'warm'],
    ['a zero capacity', [{ pipeline: 'upscale', model_id: 'm', capacity: 0 }], 0, 'capacity'],
    ['a fractional capacity', [{ pipeline: 'upscale', model_id: 'm', capacity: 1.5 }], 0, 'capacity'],
    ['a relative url', [{ pipeline: 'upscale', model_id: 'm', url: 'runner:8000' }], 0, 'url'],
    ['a non-http url', [{ pipeline: 'upscale', model_id: 'm', url: 'ftp://host/' }], 0, 'url'],
    ['a token without url', [{ pipeline: 'upscale', model_id: 'm', token: 't' }], 0, 'token'],
    ['a flag with an object value', [{ pipeline: 'upscale', model_id: 'm', optimization_flags: { SFAST: {} } }], 0, 'optimization_flags'],
    ['a negative price', [{ pipeline: 'upscale', model_id: 'm', price_per_unit: -1 }], 0, 'price_per_unit'],
    ['a non-numeric price', [{ pipeline: 'upscale', model_id: 'm', price_per_unit: '12 wei' }], 0, 'price_per_unit'],
    ['zero pixels per unit', [{ pipeline: 'upscale', model_id: 'm', pixels_per_unit: 0 }], 0, 'pixels_per_unit'],
    ['a bad currency', [{ pipeline: 'upscale', model_id: 'm', currency: 'US dollars' }], 0, 'currency'],
    ['a duplicate managed model', [{ pipeline: 'upscale', model_id: 'm' }, { pipeline: 'llm', model_id: 'm' }, { pipeline: 'upscale', model_id: 'm', capacity: 2 }], 2, 'model_id'],
    ['a duplicate external runner', [{ pipeline: 'upscale', model_id: 'm', url: 'http://a:1' }, { pipeline: 'upscale', model_id: 'm', url: 'http://a:1' }], 1, 'url']
  ]
  for (const [what, value, index, field] of cases) {
    it(`refuses ${what}, naming the entry and field`, () => {
      const err = failure(value)
      expect(err).to.have.property('name', 'ModelsConfigError')
      expect(err).to.have.property('code', 'MODELS_CONFIG_ERROR_INVALID')
      expect(err.details).to.deep.equal({ index, field })
      if (index !== null) expect(err.message).to.include(`entry ${index}`)
      if (field !== null) expect(err.message).to.include(`"${field}"`)
    })
  }

  it('accepts a model_id of 128 characters, the most announcements carry', () => {
    expect(parseModelsConfig([{ pipeline: 'upscale', model_id: 'm'.repeat(128) }])[0]?.modelId).to.have.length(128)
  })

  it('accepts several external runners for one model', () => {
    const entries = parseModelsConfig([{ pipeline: 'upscale', model_id: 'm', url: 'http://a:1' }, { pipeline: 'upscale', model_id: 'm', url: 'http://b:1' }, { pipeline: 'upscale', model_id: 'm' }])
    expect(entries).to.have.length(3)
  })

  it('reads a file, and names the file in errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shoal-models-'))
    const good = join(dir, 'aiModels.json')
    await writeFile(good, JSON.stringify([{ pipeline: 'upscale', model_id: 'shoal/noop', warm: true }]))
    expect(await loadModelsConfig(good)).to.have.length(1)
    const bad = join(dir, 'bad.json')
    await writeFile(bad, '[{"pipeline": "upscale", "model_id": "m", "capacity": -2}]')
    const err = await loadModelsConfig(bad).then(() => null, (e) => e)
    expect(err).to.have.property('code', 'MODELS_CONFIG_ERROR_INVALID')
    expect(err.message).to.include(bad).and.include('entry 0').and.include('capacity')
    expect(await loadModelsConfig(join(dir, 'missing.json')).then(() => null, (e) => e)).to.have.property('code', 'MODELS_CONFIG_ERROR_READ')
    expect(() => parseModelsConfigText('[{')).to.throw().with.property('code', 'MODELS_CONFIG_ERROR_INVALID')
  })
})
