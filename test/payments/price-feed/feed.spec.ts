import { expect } from 'chai'
import { Contract, Wallet, type JsonRpcProvider } from 'ethers'
import { Registry } from 'prom-client'
import { startAnvil, type LocalChain } from '../../../src/payments/chain/anvil.js'
import { deployPriceAggregator, loadContractArtifact } from '../../../src/payments/chain/index.js'
import { createProvider } from '../../../src/payments/chain/provider.js'
import { createPriceFeed, createPriceFeedMetrics, PriceFeedError, type UsdRate } from '../../../src/payments/price-feed/index.js'
import { pino, type Logger } from 'pino'

/** A logger that keeps its lines, to check what an operator is told. */
function recordingLogger (): { logger: Logger, lines: Array<{ level: number, msg: string }> } {
  const lines: Array<{ level: number, msg: string }> = []
  const logger = pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line) as { level: number, msg: string }) } })
  return { logger, lines }
}

async function metric (register: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const found = (await register.getMetricsAsJSON()).find(m => m.name === name)
  const value = found?.values.find(v => Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l))
  return value?.value ?? 0
}

/**
 * The price feed against a real aggregator (contracts/ShoalPriceAggregator.sol, Chainlink's
 * AggregatorV3Interface) on anvil: answers read, zero and stale answers refused with the
 * last good rate kept for a bounded time, then no rate (never zero).
 */
describe('payments/price-feed: an AggregatorV3Interface feed on a real chain', function () {
  this.timeout(60_000)
  let chain: LocalChain
  let provider: JsonRpcProvider
  let address: string
  let aggregator: Contract

  before(async () => {
    chain = await startAnvil({ accounts: 1 })
    provider = await createProvider(chain.rpcUrl, { chainId: chain.chainId, pollingIntervalMs: 50 })
    address = await deployPriceAggregator({ provider, privateKey: chain.accounts[0] as string, initialAnswer: 2500_00000000n })
    const artifact = await loadContractArtifact('ShoalPriceAggregator')
    aggregator = new Contract(address, artifact.abi as never, new Wallet(chain.accounts[0] as string, provider))
  })

  after(async () => {
    provider?.destroy()
    await chain?.stop()
  })

  async function post (answer: bigint, updatedAt?: bigint): Promise<void> {
    const tx = updatedAt === undefined
      ? await aggregator.getFunction('updateAnswer')(answer)
      : await aggregator.getFunction('updateRoundData')(answer, updatedAt)
    await (tx as { wait: () => Promise<unknown> }).wait()
  }

  it('reads the answer and decimals, follows new answers, and keeps the last good rate through zero and stale answers for keepLastGoodMs only', async () => {
    let clock = Date.now()
    const register = new Registry()
    const { logger, lines } = recordingLogger()
    const feed = createPriceFeed({
      source: { kind: 'aggregator', rpcUrl: chain.rpcUrl, address },
      options: { pollIntervalMs: 3_600_000, keepLastGoodMs: 60_000, maxAnswerAgeMs: 600_000 },
      logger,
      metrics: createPriceFeedMetrics(register),
      now: () => clock
    })
    const changes: Array<UsdRate | undefined> = []
    feed.onChange(rate => changes.push(rate))
    try {
      await feed.start()
      expect(feed.rate()).to.include({ answer: 2500_00000000n, decimals: 8, usdPerEth: '2500', source: 'aggregator' })
      expect(await metric(register, 'shoal_price_feed_usd_per_eth')).to.equal(2500)

      await post(3125_50000000n)
      await feed.refresh()
      expect(feed.rate().usdPerEth).to.equal('3125.5')
      expect(changes.map(c => c?.usdPerEth)).to.deep.equal(['2500', '3125.5'])

      // zero: refused, warned once, counted; the last good rate stays
      await post(0n)
      await feed.refresh()
      await feed.refresh()
      expect(feed.rate().usdPerEth).to.equal('3125.5')
      expect(await metric(register, 'shoal_price_feed_failures_total', { reason: 'PRICE_FEED_ERROR_INVALID_ANSWER' })).to.equal(2)
      expect(lines.filter(l => l.level === 40 && l.msg.includes('answered 0'))).to.have.length(1)

      // stale: an answer updated an hour ago, against a 10-minute bound
      await post(4000_00000000n, BigInt(Math.floor(clock / 1000) - 3600))
      await feed.refresh()
      expect(feed.rate().usdPerEth).to.equal('3125.5')
      expect(await metric(register, 'shoal_price_feed_failures_total', { reason: 'PRICE_FEED_ERROR_STALE' })).to.equal(1)

      // past keepLastGoodMs: no rate at all, an error, and listeners told
      clock += 61_000
      expect(() => feed.rate()).to.throw(PriceFeedError).with.property('code', 'PRICE_FEED_ERROR_NO_RATE')
      expect(feed.tryRate()).to.equal(undefined)
      await new Promise(resolve => setImmediate(resolve))
      expect(changes.at(-1)).to.equal(undefined)
      expect(lines.some(l => l.level === 50 && l.msg.includes('withdrawn'))).to.equal(true)

      // a good answer brings it back
      await post(2000_00000000n)
      await feed.refresh()
      expect(feed.rate().usdPerEth).to.equal('2000')
      expect(changes.at(-1)?.usdPerEth).to.equal('2000')
    } finally {
      feed.stop()
    }
  })

  it('a feed that cannot be read at start is a start-up failure naming the address', async () => {
    const feed = createPriceFeed({ source: { kind: 'aggregator', rpcUrl: chain.rpcUrl, address: '0x000000000000000000000000000000000000dead' }, options: { readTimeoutMs: 5_000 }, logger: recordingLogger().logger })
    try {
      await feed.start()
      expect.fail('started')
    } catch (err) {
      expect(err).to.be.instanceOf(PriceFeedError)
      expect((err as PriceFeedError).code).to.equal('PRICE_FEED_ERROR_UNAVAILABLE')
      expect((err as Error).message).to.include('0x000000000000000000000000000000000000dead')
    } finally {
      feed.stop()
    }
  })

  it('a fixed rate: used as given, never expires; a bad one is refused at start', async () => {
    let clock = Date.now()
    const feed = createPriceFeed({ source: { kind: 'fixed', usdPerEth: '1800.25' }, logger: recordingLogger().logger, now: () => clock })
    await feed.start()
    clock += 365 * 24 * 3_600_000
    expect(feed.rate()).to.include({ answer: 180025n, decimals: 2, usdPerEth: '1800.25', source: 'fixed' })
    feed.stop()
    const bad = createPriceFeed({ source: { kind: 'fixed', usdPerEth: '0' }, logger: recordingLogger().logger })
    try {
      await bad.start()
      expect.fail('started')
    } catch (err) {
      expect((err as PriceFeedError).code).to.equal('PRICE_FEED_ERROR_CONFIG')
    }
  })
})
