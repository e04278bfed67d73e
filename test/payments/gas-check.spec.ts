import { expect } from 'chai'
import { Wallet, parseEther, parseUnits } from 'ethers'
import pino from 'pino'
import { Writable } from 'node:stream'
import { startAnvil, createProvider, type LocalChain } from '../../src/payments/chain/index.js'
import { checkRedemptionGas, warnIfCannotRedeem } from '../../src/payments/gas-check.js'
import type { Logger } from '../../src/observability/logger.js'

function capturingLogger (): { logger: Logger, lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done() } })
  return { logger: pino({ level: 'info' }, stream) as unknown as Logger, lines }
}

describe('payments/gas-check: an orchestrator wallet that cannot pay redemption gas is named at start', function () {
  this.timeout(60_000)
  let chain: LocalChain
  before(async () => { chain = await startAnvil({ accounts: 1 }) })
  after(async () => { await chain?.stop() })

  it('an empty wallet: not enough, and a warning naming the address and both amounts', async () => {
    const provider = await createProvider(chain.rpcUrl, { chainId: chain.chainId })
    try {
      const empty = Wallet.createRandom().address
      const check = await checkRedemptionGas({ provider, address: empty, gasPriceWei: parseUnits('1', 'gwei') })
      expect(check).to.deep.include({ address: empty, balanceWei: 0n, costWei: 150_000n * 1_000_000_000n, enough: false })
      const { logger, lines } = capturingLogger()
      expect(warnIfCannotRedeem(check, logger)).to.equal(true)
      await new Promise(resolve => setImmediate(resolve))
      expect(lines).to.have.length(1)
      expect(lines[0]).to.deep.include({ level: 40, address: empty, balanceEth: '0.0', redemptionCostEth: '0.00015' })
      expect(String(lines[0]?.msg)).to.contain('cannot be redeemed until it is funded')
    } finally {
      provider.destroy()
    }
  })

  it("a funded wallet passes at the chain's own gas price; the same wallet fails at a gas price its balance cannot pay", async () => {
    const provider = await createProvider(chain.rpcUrl, { chainId: chain.chainId })
    try {
      const funded = chain.addresses[0] as string
      const check = await checkRedemptionGas({ provider, address: funded })
      expect(check.enough).to.equal(true)
      expect(check.gasPriceWei > 0n).to.equal(true)
      const { logger, lines } = capturingLogger()
      expect(warnIfCannotRedeem(check, logger)).to.equal(false)
      expect(lines).to.have.length(0)
      // at 1 ETH a unit of gas, one redemption costs 150,000 ETH: more than the 10,000 it holds
      const priced = await checkRedemptionGas({ provider, address: funded, gasPriceWei: parseEther('1') })
      expect(priced.enough).to.equal(false)
    } finally {
      provider.destroy()
    }
  })
})
