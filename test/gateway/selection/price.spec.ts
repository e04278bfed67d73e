import { expect } from 'chai'
import { filterByMaxPrice, maxPriceFor, priceAtMost } from '../../../src/gateway/selection/price.js'
import { candidate } from '../helpers.js'

describe('gateway selection: max price', () => {
  it('compares prices as exact rationals, with no float rounding', () => {
    // 1/3 vs 333333333333333333/1e18: a float says equal, the rational says 1/3 is higher
    const third = { pricePerUnit: 1n, pixelsPerUnit: 3n }
    const almost = { pricePerUnit: 333333333333333333n, pixelsPerUnit: 1000000000000000000n }
    expect(priceAtMost(almost, third)).to.equal(true)
    expect(priceAtMost(third, almost)).to.equal(false)
    expect(priceAtMost({ pricePerUnit: 2n, pixelsPerUnit: 6n }, third)).to.equal(true)
  })

  it('accepts everything when no limit is set', () => {
    const list = [candidate('a', { pricePerUnit: 10n ** 30n })]
    expect(filterByMaxPrice(list, {})).to.have.length(1)
  })

  it('drops candidates above the global limit', () => {
    const list = [candidate('cheap', { pricePerUnit: 5n, pixelsPerUnit: 10n }), candidate('dear', { pricePerUnit: 6n, pixelsPerUnit: 10n })]
    const kept = filterByMaxPrice(list, { global: { pricePerUnit: 1n, pixelsPerUnit: 2n } })
    expect(kept.map(c => c.peerId)).to.deep.equal(['cheap'])
  })

  it('applies the most specific limit: model over pipeline over global', () => {
    const config = {
      global: { pricePerUnit: 1n, pixelsPerUnit: 1n },
      byPipeline: { upscale: { pricePerUnit: 10n, pixelsPerUnit: 1n } },
      byModel: { 'upscale/esrgan-medium': { pricePerUnit: 100n, pixelsPerUnit: 1n } }
    }
    expect(maxPriceFor(config, 'upscale', 'esrgan-slim')?.pricePerUnit).to.equal(10n)
    expect(maxPriceFor(config, 'upscale', 'esrgan-medium')?.pricePerUnit).to.equal(100n)
    expect(maxPriceFor(config, 'llm', 'x')?.pricePerUnit).to.equal(1n)
    const list = [
      candidate('slim-50', { pricePerUnit: 50n }),
      candidate('medium-50', { modelId: 'esrgan-medium', pricePerUnit: 50n }),
      candidate('llm-2', { pipeline: 'llm', modelId: 'x', pricePerUnit: 2n })
    ]
    expect(filterByMaxPrice(list, config).map(c => c.peerId)).to.deep.equal(['medium-50'])
  })

  it('drops candidates with an invalid price (zero or negative denominator, negative price)', () => {
    const list = [candidate('zero-den', { pixelsPerUnit: 0n }), candidate('negative', { pricePerUnit: -1n }), candidate('ok')]
    expect(filterByMaxPrice(list, {}).map(c => c.peerId)).to.deep.equal(['ok'])
  })
})
