import { expect } from 'chai'
import { filterByMaxPrice, filterByPriceCeiling, maxPriceFor, medianPrice, priceAtMost } from '../../../src/gateway/selection/price.js'
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

describe('gateway selection: price ceiling relative to the mesh', () => {
  const proven = new Set(['real-a', 'real-b', 'real-c', 'greedy'])
  const isProven = (c: { peerId: string }): boolean => proven.has(c.peerId)

  it('takes the lower median of exact rational prices', () => {
    expect(medianPrice([])).to.equal(undefined)
    expect(medianPrice([{ pricePerUnit: 3n, pixelsPerUnit: 1n }])).to.deep.equal({ pricePerUnit: 3n, pixelsPerUnit: 1n })
    // 1/2, 2/3, 3/1, 40/1: the lower middle is 2/3
    const m = medianPrice([{ pricePerUnit: 40n, pixelsPerUnit: 1n }, { pricePerUnit: 1n, pixelsPerUnit: 2n }, { pricePerUnit: 3n, pixelsPerUnit: 1n }, { pricePerUnit: 2n, pixelsPerUnit: 3n }])
    expect(m).to.deep.equal({ pricePerUnit: 2n, pixelsPerUnit: 3n })
  })

  it('excludes prices above the multiple of the proven median; 1-wei Sybils neither count nor lock real orchestrators out', () => {
    const list = [
      candidate('real-a', { pricePerUnit: 100n }), candidate('real-b', { pricePerUnit: 120n }), candidate('real-c', { pricePerUnit: 90n }),
      candidate('greedy', { pricePerUnit: 100_000n }),
      ...Array.from({ length: 300 }, (_, i) => candidate(`sybil${i}`, { pricePerUnit: 1n }))
    ]
    const { kept, excluded, median } = filterByPriceCeiling(list, isProven, 3)
    expect(median).to.deep.equal({ pricePerUnit: 100n, pixelsPerUnit: 1n })
    expect(excluded.map(c => c.peerId)).to.deep.equal(['greedy'])
    expect(kept.map(c => c.peerId)).to.include.members(['real-a', 'real-b', 'real-c'])
    // with the Sybils' price as the reference every real one would be out: only proven prices count
    expect(kept).to.have.length(303)
  })

  it('applies the multiple exactly, fractions included, across denominators', () => {
    const list = [candidate('real-a', { pricePerUnit: 10n, pixelsPerUnit: 1n }), candidate('x', { pricePerUnit: 50n, pixelsPerUnit: 2n }), candidate('y', { pricePerUnit: 51n, pixelsPerUnit: 2n })]
    // 2.5 x 10 = 25: x (25) kept, y (25.5) out
    expect(filterByPriceCeiling(list, isProven, 2.5).excluded.map(c => c.peerId)).to.deep.equal(['y'])
  })

  it('excludes nothing when off (0) or when no candidate is proven', () => {
    const list = [candidate('real-a', { pricePerUnit: 1n }), candidate('dear', { pricePerUnit: 1_000_000n })]
    expect(filterByPriceCeiling(list, isProven, 0).excluded).to.have.length(0)
    expect(filterByPriceCeiling(list, () => false, 3).excluded).to.have.length(0)
    expect(filterByPriceCeiling(list, isProven, 3).excluded.map(c => c.peerId)).to.deep.equal(['dear'])
  })
})
