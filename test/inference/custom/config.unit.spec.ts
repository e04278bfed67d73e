import { expect } from 'chai'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { capabilityPriceEntry, CustomCapabilitiesError, loadCustomCapabilities, parseCustomCapabilities } from '../../../src/inference/custom/config.js'
import { feeFor, jobFee } from '../../../src/kernel/billing.js'
import { modelKey } from '../../../src/kernel/model-key.js'
import { offersFrom, quotePrices, weiPriceOf } from '../../../src/orchestrator/offers.js'

function problem (value: unknown): string {
  try {
    parseCustomCapabilities(value, 'caps.json')
  } catch (err) {
    expect(err).to.be.instanceOf(CustomCapabilitiesError)
    return (err as Error).message
  }
  throw new Error('expected the entry to be refused')
}

describe('inference/custom/config: the custom capabilities file', () => {
  it('reads the three runner kinds with their defaults', () => {
    const [image, command, url] = parseCustomCapabilities([
      { name: 'thumbnail', description: 'thumbnails', image: 'shoal/custom-example:test', capacity: 2, price_per_second: '1e9', timeout_seconds: 60 },
      { name: 'echo', command: ['node', 'server.mjs'], env: { MODE: 'fast' }, request_schema: { type: 'object', required: ['text'] } },
      { name: 'remote.app_1', url: 'http://127.0.0.1:9000/', health_path: '/ready', price_per_second: 0.5 }
    ])
    expect(image).to.deep.include({ name: 'thumbnail', description: 'thumbnails', runner: { kind: 'image', image: 'shoal/custom-example:test', port: 8000 }, capacity: 2, pricePerSecond: '1e9', currency: 'WEI', timeoutMs: 60_000, startupTimeoutMs: 60_000, healthPath: '/health' })
    expect(command.runner).to.deep.equal({ kind: 'command', command: ['node', 'server.mjs'] })
    expect(command.env).to.deep.equal({ MODE: 'fast' })
    expect(command.timeoutMs).to.equal(30_000)
    expect(command.requestSchema?.({ text: 'hi' })).to.equal(true)
    expect(command.requestSchema?.({})).to.equal(false)
    expect(url.runner).to.deep.equal({ kind: 'url', url: 'http://127.0.0.1:9000' })
    expect(url.healthPath).to.equal('/ready')
    expect(url.pricePerSecond).to.equal('0.5')
  })

  it('prices per second as compute milliseconds: 1e9 wei per second is 1e6 wei per ms', () => {
    const [c] = parseCustomCapabilities([{ name: 'a', url: 'http://x', price_per_second: '1000000000' }])
    const price = weiPriceOf(capabilityPriceEntry(c))
    expect(feeFor(1_500n, price)).to.equal(1_500_000_000n)
    expect(feeFor(1n, price)).to.equal(1_000_000n)
  })

  it('adds a price per request, in whole wei, to what the units cost; quoted and announced with the capability', () => {
    const [c, free] = parseCustomCapabilities([{ name: 'a', url: 'http://x', price_per_second: '1000000000', price_per_request: '2500000000.5' }, { name: 'b', url: 'http://y' }])
    expect(c.pricePerRequest).to.equal('2500000000.5')
    expect(free.pricePerRequest).to.equal('0')
    const price = weiPriceOf(capabilityPriceEntry(c))
    // rounded up to whole wei
    expect(price.pricePerRequest).to.equal(2_500_000_001n)
    expect(jobFee(1_500n, price)).to.equal(1_500_000_000n + 2_500_000_001n)
    expect(weiPriceOf(capabilityPriceEntry(free))).to.not.have.property('pricePerRequest')
    const prices = new Map([[modelKey({ pipeline: 'custom', modelId: 'a' }), price]])
    expect(quotePrices(prices)).to.deep.equal([{ pipeline: 'custom', modelId: 'a', pricePerUnit: '1000000000', pixelsPerUnit: '1000', pricePerRequest: '2500000001' }])
    const [offer] = offersFrom([{ pipeline: 'custom', modelId: 'a', capacity: 1, inUse: 0, warm: true, runnerVersion: 'url' }], prices)
    expect(offer).to.deep.include({ pricePerRequest: '2500000001' })
  })

  it('refuses bad entries at start, naming the entry and the field', () => {
    expect(problem({})).to.match(/^caps\.json: must be a JSON array/)
    expect(problem([{ name: 'a', url: 'http://x' }, 'x'])).to.match(/^caps\.json entry 1: must be an object/)
    expect(problem([{ name: 'Bad Name', url: 'http://x' }])).to.match(/^caps\.json entry 0 field "name": must be 1-64 lower-case/)
    expect(problem([{ name: 'a', url: 'http://x', colour: 'red' }])).to.match(/^caps\.json entry 0 field "colour": unknown field; fields are: name, description, image/)
    expect(problem([{ name: 'a' }])).to.match(/entry 0 field "image": name exactly one runner/)
    expect(problem([{ name: 'a', image: 'x', command: ['y'] }])).to.match(/entry 0 field "command": name exactly one runner.*got image and command/)
    expect(problem([{ name: 'a', url: 'ftp://x' }])).to.match(/entry 0 field "url": must be an http\(s\) URL/)
    expect(problem([{ name: 'a', url: 'not a url' }])).to.match(/entry 0 field "url": must be an absolute http\(s\) URL/)
    expect(problem([{ name: 'a', command: ['x'], port: 80 }])).to.match(/entry 0 field "port": is the container's port/)
    expect(problem([{ name: 'a', url: 'http://x', capacity: 0 }])).to.match(/entry 0 field "capacity": must be >= 1/)
    expect(problem([{ name: 'a', url: 'http://x', price_per_second: '-1' }])).to.match(/entry 0 field "price_per_second": must be a non-negative decimal/)
    expect(problem([{ name: 'a', url: 'http://x', price_per_request: 'lots' }])).to.match(/entry 0 field "price_per_request": must be a non-negative decimal number \(got "lots"\)/)
    expect(problem([{ name: 'a', url: 'http://x', currency: 'USD' }])).to.match(/entry 0 field "currency": USD is not supported yet/)
    expect(problem([{ name: 'a', url: 'http://x', timeout_seconds: 0 }])).to.match(/entry 0 field "timeout_seconds": must be > 0/)
    expect(problem([{ name: 'a', url: 'http://x', request_schema: { type: 'no-such-type' } }])).to.match(/entry 0 field "request_schema": is not a valid JSON schema/)
    expect(problem([{ name: 'a', url: 'http://x' }, { name: 'a', url: 'http://y' }])).to.match(/entry 1 field "name": duplicates entry 0/)
  })

  it('names the file it read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shoal-caps-'))
    const file = join(dir, 'capabilities.json')
    await writeFile(file, '[{"name":"a","image":"x","env":{"1BAD":"v"}}]')
    const err = await loadCustomCapabilities(file).then(() => undefined, (e: Error) => e)
    expect(err?.message).to.equal(`${file} entry 0 field "env": is not an allowed name (got {"1BAD":"v"})`)
    await writeFile(file, '[{')
    expect((await loadCustomCapabilities(file).then(() => undefined, (e: Error) => e))?.message).to.match(/is not valid JSON/)
  })
})
