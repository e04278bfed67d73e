import { expect } from 'chai'
import { livePriceTable, PriceConfigError, weiPriceOf } from '../../src/orchestrator/offers.js'
import { modelKey } from '../../src/kernel/model-key.js'
import type { ModelEntry } from '../../src/inference/models-config.js'

function entry (over: Partial<ModelEntry>): ModelEntry {
  return { pipeline: 'upscale', modelId: 'a/b', warm: false, capacity: 1, optimizationFlags: {}, pricePerUnit: '1', pixelsPerUnit: '1', currency: 'WEI', ...over }
}

describe('orchestrator/offers: prices in wei and in USD', () => {
  const rate = { answer: 2500_00000000n, decimals: 8 }

  it('converts a USD entry exactly at the rate, with pixels_per_unit', () => {
    // $0.001 per 1000 pixels at 2500 USD/ETH: 4e-7 ETH per 1000 pixels = 4e11 wei / 1000 = 4e8 wei a pixel
    expect(weiPriceOf(entry({ currency: 'USD', pricePerUnit: '0.001', pixelsPerUnit: '1000' }), rate)).to.deep.equal({ pricePerUnit: 400_000_000n, pixelsPerUnit: 1n })
    // a third of a cent a unit at 3000 USD/ETH: 10^13/9 wei, exactly
    expect(weiPriceOf(entry({ currency: 'usd', pricePerUnit: '0.01', pixelsPerUnit: '3' }), { answer: 3000n, decimals: 0 })).to.deep.equal({ pricePerUnit: 10n ** 13n, pixelsPerUnit: 9n })
    expect(weiPriceOf(entry({ pricePerUnit: '0.5', pixelsPerUnit: '1' }))).to.deep.equal({ pricePerUnit: 5n, pixelsPerUnit: 10n })
  })

  it('a USD entry without a rate, or another currency, is refused naming the way out', () => {
    expect(() => weiPriceOf(entry({ currency: 'USD' }))).to.throw(PriceConfigError, /--price-feed ADDRESS .* or --usd-per-eth N/)
    expect(() => weiPriceOf(entry({ currency: 'EUR' }), rate)).to.throw(PriceConfigError, /currency EUR is not supported; price it in WEI or USD/)
  })

  it('the live table re-prices USD entries, withdraws them without a rate (never zero), and keeps WEI ones', () => {
    const usd = entry({ modelId: 'usd/model', currency: 'USD', pricePerUnit: '0.000001' })
    const wei = entry({ modelId: 'wei/model', pricePerUnit: '7' })
    const book = livePriceTable([usd, wei], rate)
    expect(book.table.get(modelKey(usd))).to.deep.equal({ pricePerUnit: 400_000_000n, pixelsPerUnit: 1n })
    book.update({ answer: 2000n, decimals: 0 })
    expect(book.table.get(modelKey(usd))).to.deep.equal({ pricePerUnit: 500_000_000n, pixelsPerUnit: 1n })
    book.update(undefined)
    expect(book.table.has(modelKey(usd))).to.equal(false)
    expect(book.table.get(modelKey(wei))).to.deep.equal({ pricePerUnit: 7n, pixelsPerUnit: 1n })
  })
})
