import { expect } from 'chai'
import { decimalToRational, formatRational, parseUsdPerEth, usdToWei, weiToUsd } from '../../../src/payments/price-feed/index.js'

describe('payments/price-feed: exact USD <-> wei arithmetic', () => {
  it('parses fixed rates exactly and refuses zero, negative and non-numbers', () => {
    expect(parseUsdPerEth('2500')).to.deep.equal({ answer: 2500n, decimals: 0 })
    expect(parseUsdPerEth('2500.250')).to.deep.equal({ answer: 250025n, decimals: 2 })
    expect(parseUsdPerEth('3e3')).to.deep.equal({ answer: 3000n, decimals: 0 })
    for (const bad of ['0', '0.000', '-5', 'abc', '', '1e400']) expect(() => parseUsdPerEth(bad), bad).to.throw(/positive decimal/)
  })

  it('converts a USD price to wei and back without rounding', () => {
    // $0.000001 a pixel at 2500 USD/ETH (Chainlink's 8 decimals): 400,000,000 wei a pixel
    const rate = { answer: 2500_00000000n, decimals: 8 }
    expect(usdToWei(decimalToRational('0.000001') as [bigint, bigint], rate)).to.deep.equal([400_000_000n, 1n])
    // 1 cent at 3000 USD/ETH: 10^13/3 wei, kept as a fraction
    expect(usdToWei([1n, 100n], { answer: 3000n, decimals: 0 })).to.deep.equal([10n ** 13n, 3n])
    expect(weiToUsd([10n ** 13n, 3n], { answer: 3000n, decimals: 0 })).to.deep.equal([1n, 100n])
    expect(() => usdToWei([1n, 1n], { answer: 0n, decimals: 8 })).to.throw(/cannot price/)
  })

  it('formats rationals with significant digits', () => {
    expect(formatRational([1n, 3n], 4)).to.equal('0.3333')
    expect(formatRational([2n, 3n], 3)).to.equal('0.667')
    expect(formatRational([123_456_789n, 1n], 6)).to.equal('123456789')
    expect(formatRational([25n, 10_000_000n], 6)).to.equal('0.0000025')
    expect(formatRational([0n, 1n])).to.equal('0')
    expect(formatRational([5n, 2n], 6)).to.equal('2.5')
  })
})
