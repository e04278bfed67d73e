import { expect } from 'chai'
import { silentLogger } from '../../src/observability/logger.js'
import { createChainOperations, readBond, type ChainOperations } from '../../src/payments/chain/operations.js'
import { ChainError } from '../../src/payments/errors.js'
import { createBondBook } from '../../src/gateway/stake/index.js'
import { startChainFixture, type ChainFixture } from './fixtures.js'

const ETH = 10n ** 18n

async function refused (p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p
  } catch (err) {
    expect(err).to.be.instanceOf(ChainError)
    return (err as ChainError).details?.reason as string | undefined
  }
  throw new Error('expected the broker to refuse')
}

/**
 * Orchestrator stake (issue 15): bond, unbond with the broker's unlock period as the
 * delay, withdraw; and a gateway's bond book reading it through the Ethereum address an
 * announcement binds.
 */
describe('payments: orchestrator bonds in the TicketBroker (anvil)', function () {
  this.timeout(240_000)
  let fx: ChainFixture
  let ops: ChainOperations
  let other: ChainOperations
  const UNLOCK = 5n

  before(async function () {
    this.timeout(400_000)
    fx = await startChainFixture({ unlockPeriodBlocks: UNLOCK })
    ops = createChainOperations({ provider: fx.provider, broker: fx.deployment.address, privateKey: fx.wallets[3]?.privateKey ?? '' })
    other = createChainOperations({ provider: fx.provider, broker: fx.deployment.address, privateKey: fx.wallets[4]?.privateKey ?? '' })
  })
  after(async () => { await fx?.stop() })

  it('bond adds, unbond moves funds out at once and waits the delay, withdraw-bond pays them back', async () => {
    expect((await ops.bond(2n * ETH)).bonded).to.equal(2n * ETH)
    expect((await ops.bond(ETH)).bonded).to.equal(3n * ETH)
    expect((await readBond(fx.provider, fx.deployment.address, ops.address)).bonded).to.equal(3n * ETH)

    const u = await ops.unbond(ETH)
    expect(u.bonded).to.equal(2n * ETH)
    expect(u.withdrawBlock).to.equal(u.blockNumber + UNLOCK)
    expect(await refused(ops.withdrawBond())).to.equal('UnlockPeriodNotOver')
    expect(await refused(ops.unbond(10n * ETH))).to.equal('InsufficientBond')
    expect(await refused(other.withdrawBond())).to.equal('NotUnlocking')
    const status = await ops.bondStatus()
    expect(status).to.include({ bonded: 2n * ETH, unbonding: ETH, withdrawable: false })

    await fx.mine(Number(UNLOCK))
    const before = await fx.provider.getBalance(ops.address)
    const w = await ops.withdrawBond()
    expect(w.amount).to.equal(ETH)
    expect(await fx.provider.getBalance(ops.address)).to.equal(before + ETH - w.feeWei)
    expect(await ops.bondStatus()).to.include({ bonded: 2n * ETH, unbonding: 0n })
    // what stays bonded was never withdrawable
    expect(await refused(ops.withdrawBond())).to.equal('NotUnlocking')
  })

  it('a gateway\'s bond book: a minimum excludes the unbonded, a claim at another broker counts as none, weights follow the bond', async () => {
    const seen: Array<[string, boolean]> = []
    const book = createBondBook({
      read: async (eth, { signal }) => (await readBond(fx.provider, fx.deployment.address, eth, { signal })).bonded,
      broker: fx.deployment.address,
      options: { minBondWei: ETH, weighByBond: true, fullWeightBondWei: 4n * ETH },
      logger: silentLogger(),
      onBond: (peer, bonded) => { seen.push([peer, bonded]) }
    })
    book.observe('bonded-peer', ops.address, fx.deployment.address)
    book.observe('unbonded-peer', other.address, fx.deployment.address)
    book.observe('elsewhere-peer', ops.address, '0x000000000000000000000000000000000000dead')
    expect(book.factor('bonded-peer')).to.equal(0) // not read yet: not eligible yet
    await book.settled()
    expect(book.bondOf('bonded-peer')).to.equal(2n * ETH)
    expect(book.factor('bonded-peer')).to.be.closeTo(0.25 + 0.75 * 0.5, 1e-9)
    expect(book.factor('unbonded-peer')).to.equal(0)
    expect(book.factor('elsewhere-peer')).to.equal(0)
    expect(seen).to.deep.include.members([['bonded-peer', true], ['unbonded-peer', false], ['elsewhere-peer', false]])
    book.stop()
  })
})
