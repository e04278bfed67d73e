import { expect } from 'chai'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCpuRunnerServer, type CpuRunnerServer } from '../../../src/cpu-runner/index.js'
import { assertCpuModelSupported, listCpuModels } from '../../../src/cpu-runner/models/index.js'
import { chatRequest } from '../../../src/cpu-runner/models/llm.js'
import { skipWithoutExtras } from './helpers.js'
import { writeTinyLlamaGguf } from '../../../src/testnet/tiny-gguf.js'

interface LlmResponse {
  id: string
  model: string
  created: number
  usage: { prompt_tokens: number, completion_tokens: number, total_tokens: number }
  choices: Array<{ index: number, finish_reason: string, message?: { role: string, content: string }, delta?: { role: string, content: string } }>
}

describe('cpu-runner/pipelines: llm with node-llama-cpp on a GGUF file', function () {
  this.timeout(60_000)
  let dir: string
  let gguf: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shoal-llm-test-'))
    gguf = await writeTinyLlamaGguf(join(dir, 'tiny-random-llama.gguf'))
  })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('splits chat messages into history and the prompt', () => {
    expect(chatRequest([{ role: 'system', content: 's' }, { role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }, { role: 'user', content: 'c' }]))
      .to.deep.equal({ history: [{ type: 'system', text: 's' }, { type: 'user', text: 'a' }, { type: 'model', response: ['b'] }], prompt: 'c' })
    expect(() => chatRequest([])).to.throw().with.property('name', 'ModelInputError')
    expect(() => chatRequest([{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }])).to.throw(/last message/)
    expect(() => chatRequest([{ role: 'robot', content: 'a' }, { role: 'user', content: 'b' }])).to.throw(/role/)
  })

  it('needs a GGUF file: a .gguf path as the model id, or SHOAL_LLM_MODEL_PATH for a name', function () {
    skipWithoutExtras(this, ['node-llama-cpp'])
    expect(() => { assertCpuModelSupported('llm', 'meta-llama/Llama-3.2-1B-Instruct', { ...process.env, SHOAL_LLM_MODEL_PATH: '' }) }).to.throw(/SHOAL_LLM_MODEL_PATH/)
    expect(() => { assertCpuModelSupported('llm', join(dir, 'missing.gguf')) }).to.throw(/does not exist/)
    expect(() => { assertCpuModelSupported('llm', gguf) }).to.not.throw()
    const env = { ...process.env, SHOAL_LLM_MODEL_PATH: gguf }
    expect(() => { assertCpuModelSupported('llm', 'meta-llama/Llama-3.2-1B-Instruct', env) }).to.not.throw()
    expect(listCpuModels(env).filter((m) => m.pipeline === 'llm')).to.deep.equal([{
      pipeline: 'llm', modelId: gguf, available: true, description: 'llama.cpp (node-llama-cpp) on CPU running the GGUF file tiny-random-llama.gguf (SHOAL_LLM_MODEL_PATH)'
    }])
  })

  describe('through the runner\'s HTTP API, on a generated tiny GGUF', () => {
    let runner: CpuRunnerServer
    before(async function () {
      skipWithoutExtras(this, ['node-llama-cpp'])
      const started = performance.now()
      runner = createCpuRunnerServer({ pipeline: 'llm', modelId: gguf, port: 0, workers: 2 })
      await runner.start()
      // eslint-disable-next-line no-console
      console.log(`      llm: tiny GGUF loaded in ${(performance.now() - started).toFixed(0)} ms`)
    })
    after(async () => { await runner?.stop() })

    const chat = async (body: Record<string, unknown>, signal?: AbortSignal): Promise<Response> =>
      await fetch(`${runner.url}/llm`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal })
    const messages = [{ role: 'system', content: 'You are a fish.' }, { role: 'user', content: 'hello shoal' }]

    it('answers an LLMResponse whose usage counts the tokens really generated', async () => {
      const started = performance.now()
      const res = await chat({ messages, max_tokens: 12, temperature: 0 })
      const ms = performance.now() - started
      expect(res.status).to.equal(200)
      const body = await res.json() as LlmResponse
      expect(body.id).to.match(/^chatcmpl-/)
      expect(body.model).to.equal(gguf)
      expect(body.created).to.be.closeTo(Date.now() / 1000, 60)
      expect(body.choices).to.have.length(1)
      expect(body.choices[0]).to.include({ index: 0, finish_reason: 'length' })
      expect(body.choices[0].message?.role).to.equal('assistant')
      expect(body.choices[0].message?.content).to.be.a('string').and.not.equal('')
      // greedy decoding of this model never stops early: exactly max_tokens tokens
      expect(body.usage.completion_tokens).to.equal(12)
      expect(body.usage.prompt_tokens).to.be.greaterThan(10)
      expect(body.usage.total_tokens).to.equal(body.usage.prompt_tokens + body.usage.completion_tokens)
      const shorter = await (await chat({ messages, max_tokens: 5, temperature: 0 })).json() as LlmResponse
      expect(shorter.usage.completion_tokens).to.equal(5)
      expect(shorter.usage.prompt_tokens).to.equal(body.usage.prompt_tokens)
      // eslint-disable-next-line no-console
      console.log(`      llm: 12 tokens in ${ms.toFixed(0)} ms`)
    })

    it('streams Server-Sent Events: text chunks as they are generated, then usage and [DONE]', async () => {
      const reference = await (await chat({ messages, max_tokens: 400, temperature: 0 })).json() as LlmResponse
      const res = await chat({ messages, max_tokens: 400, temperature: 0, stream: true })
      expect(res.status).to.equal(200)
      expect(res.headers.get('content-type')).to.match(/^text\/event-stream/)
      const reader = (res.body as ReadableStream<Uint8Array>).getReader()
      const decoder = new TextDecoder()
      let text = ''
      const arrivals: Array<{ at: number, data: string }> = []
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        text += decoder.decode(value, { stream: true })
        const blocks = text.split('\n\n')
        text = blocks.pop() ?? ''
        for (const block of blocks) if (block.startsWith('data:')) arrivals.push({ at: performance.now(), data: block.slice(5).trim() })
      }
      expect(arrivals.at(-1)?.data).to.equal('[DONE]')
      const chunks = arrivals.slice(0, -1).map((a) => JSON.parse(a.data) as LlmResponse)
      expect(chunks.length).to.be.greaterThan(2)
      const last = chunks.at(-1) as LlmResponse
      expect(last.choices[0].finish_reason).to.equal('length')
      expect(last.usage).to.deep.equal(reference.usage)
      expect(last.usage.completion_tokens).to.equal(400)
      const content = chunks.map((c) => c.choices[0].delta?.content ?? '').join('')
      expect(content).to.equal(reference.choices[0].message?.content)
      for (const c of chunks.slice(0, -1)) {
        expect(c.id).to.equal(last.id)
        expect(c.choices[0]).to.include({ index: 0, finish_reason: '' })
        expect(c.choices[0].delta?.role).to.equal('assistant')
      }
      // the first piece of text arrived well before the end of the generation
      expect(arrivals.at(-1)!.at - arrivals[0].at, 'ms between the first and the last chunk').to.be.greaterThan(20)
    })

    it('a client that disconnects mid-stream stops the generation and frees its sequence', async () => {
      const controller = new AbortController()
      const res = await chat({ messages, max_tokens: 400, temperature: 0.7, stream: true }, controller.signal)
      const reader = (res.body as ReadableStream<Uint8Array>).getReader()
      await reader.read()
      controller.abort()
      await reader.read().catch(() => undefined)
      // both sequences free again: two requests at once succeed
      const both = await Promise.all([chat({ messages, max_tokens: 4 }), chat({ messages, max_tokens: 4 })])
      expect(both.map((r) => r.status)).to.deep.equal([200, 200])
      const stats = await (await fetch(`${runner.url}/hardware/stats`)).json() as { cpu_stats: { jobs_running: number } }
      expect(stats.cpu_stats.jobs_running).to.equal(0)
    })

    it('answers 400 for messages it cannot prompt, 422 for missing or empty messages', async () => {
      const last = await chat({ messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }], stream: true })
      expect(last.status).to.equal(400)
      // the pipeline's schema (shared with the gateway) wants at least one message
      expect((await chat({ messages: [] })).status).to.equal(422)
      expect((await chat({ messages, max_tokens: 0, stream: true })).status).to.equal(400)
      expect((await chat({ messages, top_p: 0 })).status).to.equal(400)
      expect((await chat({ max_tokens: 3 })).status).to.equal(422)
      expect((await chat({ messages, model: 'some/other-model' })).status).to.equal(400)
    })
  })

  it('serves the file under any name with SHOAL_LLM_MODEL_PATH', async function () {
    skipWithoutExtras(this, ['node-llama-cpp'])
    const saved = process.env.SHOAL_LLM_MODEL_PATH
    process.env.SHOAL_LLM_MODEL_PATH = gguf
    const runner = createCpuRunnerServer({ pipeline: 'llm', modelId: 'shoal/tiny-random-llama', port: 0 })
    try {
      await runner.start()
      const res = await fetch(`${runner.url}/llm`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'shoal/tiny-random-llama', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 }) })
      expect(res.status).to.equal(200)
      const body = await res.json() as LlmResponse
      expect(body.model).to.equal('shoal/tiny-random-llama')
      expect(body.usage.completion_tokens).to.be.within(1, 3)
    } finally {
      if (saved === undefined) delete process.env.SHOAL_LLM_MODEL_PATH
      else process.env.SHOAL_LLM_MODEL_PATH = saved
      await runner.stop()
    }
  })
})
