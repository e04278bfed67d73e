import { expect } from 'chai'
import { isEthAddress, isModelId, modelIdProblem, MODEL_ID_MAX_LENGTH } from '../../src/kernel/identifiers.js'

describe('kernel/identifiers', () => {
  it('accepts a Hugging Face style model id and refuses spaces, control characters and over-long ids', () => {
    expect(isModelId('stabilityai/stable-diffusion-x4-upscaler')).to.equal(true)
    expect(isModelId('a b')).to.equal(false)
    expect(isModelId('a\u0000b')).to.equal(false)
    expect(isModelId('')).to.equal(false)
    expect(isModelId('x'.repeat(MODEL_ID_MAX_LENGTH))).to.equal(true)
    expect(isModelId('x'.repeat(MODEL_ID_MAX_LENGTH + 1))).to.equal(false)
    expect(modelIdProblem('x'.repeat(MODEL_ID_MAX_LENGTH + 1))).to.match(/at most 128/)
    expect(modelIdProblem('ok/model')).to.equal(undefined)
  })

  it('accepts 20-byte 0x addresses only', () => {
    expect(isEthAddress('0x' + 'aB'.repeat(20))).to.equal(true)
    expect(isEthAddress('0x' + 'a'.repeat(39))).to.equal(false)
    expect(isEthAddress('a'.repeat(42))).to.equal(false)
  })
})
