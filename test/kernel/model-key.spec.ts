import { expect } from 'chai'
import { modelKey, parseModelKey, peerModelKey } from '../../src/kernel/model-key.js'

describe('kernel/model-key: (pipeline, model) as a key', () => {
  it('gives equal pairs equal keys and different pairs different keys, and parses back', () => {
    const a = { pipeline: 'upscale' as const, modelId: 'org/model' }
    expect(modelKey(a)).to.equal(modelKey({ ...a }))
    expect(modelKey(a)).to.not.equal(modelKey({ pipeline: 'image-to-image', modelId: 'org/model' }))
    // a model id may look like a pipeline name followed by more: the pair stays unambiguous
    expect(modelKey({ pipeline: 'image-to-image', modelId: 'x' })).to.not.equal(modelKey({ pipeline: 'image-to-text', modelId: 'image-x' }))
    expect(parseModelKey(modelKey(a))).to.deep.equal(a)
    expect(parseModelKey(modelKey({ pipeline: 'llm', modelId: 'a/b:c=d' }))).to.deep.equal({ pipeline: 'llm', modelId: 'a/b:c=d' })
  })

  it('keeps (peer, pipeline, model) apart for one model served for two pipelines', () => {
    const keys = new Set([
      peerModelKey('peer', { pipeline: 'upscale', modelId: 'm' }),
      peerModelKey('peer', { pipeline: 'image-to-image', modelId: 'm' }),
      peerModelKey('other', { pipeline: 'upscale', modelId: 'm' })
    ])
    expect(keys.size).to.equal(3)
  })
})
