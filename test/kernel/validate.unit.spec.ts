import { expect } from 'chai'
import { Type } from '@sinclair/typebox'
import { PIPELINES, pipelineDefinition } from '../../src/kernel/pipelines.js'
import type { PipelineDefinition } from '../../src/kernel/pipelines/definition.js'
import { prepareValidators, validateFields } from '../../src/kernel/pipelines/validate.js'

describe('prepareValidators: pipeline validators compiled before a server listens', () => {
  it('compiles every built-in pipeline, and requests are validated as before', () => {
    prepareValidators(PIPELINES.map(pipelineDefinition))
    const result = validateFields(pipelineDefinition('text-to-image'), { prompt: 'a cat', width: '64' }, 'json')
    expect(result.issues).to.deep.equal([{ loc: ['body', 'width'], msg: 'Input should be a valid integer', type: 'int_type' }])
  })

  it('refuses a schema Ajv cannot compile at once, not on the first request', () => {
    const base = pipelineDefinition('text-to-image')
    const broken: PipelineDefinition = { ...base, request: Type.Object({ prompt: Type.Unsafe<string>({ type: 'string', colour: 'red' }) }) }
    expect(() => { prepareValidators([broken]) }).to.throw(/unknown keyword: "?colour/)
  })
})
