import { Wallet, parseEther, type JsonRpcProvider } from 'ethers'
import { Contract } from 'ethers'
import { createChainOperations, createProvider, deployPriceAggregator, deployTicketBroker, loadContractArtifact, startAnvil, type AnvilOptions, type LocalChain } from '../payments/chain/index.js'
import { parseUsdPerEth } from '../payments/price-feed/index.js'

/** The testnet's ETH/USD answer at start (the aggregator's 8 decimals, as Chainlink's USD feeds). */
export const TESTNET_USD_PER_ETH = '2500'

export interface TestnetChain {
  rpcUrl: string
  brokerAddress: string
  /** the ETH/USD aggregator (AggregatorV3Interface) deployed beside the broker */
  priceFeedAddress: string
  /** posts a new ETH/USD answer (e.g. "3000.5") to the aggregator */
  postUsdPerEth: (usdPerEth: string) => Promise<void>
  chain: LocalChain
  provider: JsonRpcProvider
  /** sends ether for gas from anvil's first account */
  sendEth: (to: string, wei: bigint) => Promise<void>
  /** gives a gateway's account ether and funds its deposit and reserve on the TicketBroker */
  fundSender: (privateKey: string, depositWei: bigint, reserveWei: bigint, maxRecipients: number) => Promise<void>
  stop: () => Promise<void>
}

/**
 * A local chain for a testnet: anvil (from npm) mining a block every `blockTimeSec` so
 * ticket params expire and winners get redeemed, with Shoal's TicketBroker deployed.
 */
export async function startTestnetChain (options: { blockTimeSec?: number, signal?: AbortSignal, logFile?: string, detached?: boolean, placement?: Pick<AnvilOptions, 'exec' | 'host' | 'port' | 'rpcUrl'> } = {}): Promise<TestnetChain> {
  const chain = await startAnvil({ blockTimeSec: options.blockTimeSec ?? 1, signal: options.signal, logFile: options.logFile, detached: options.detached, ...options.placement })
  try {
    const provider = await createProvider(chain.rpcUrl, { chainId: chain.chainId, signal: options.signal })
    const deployment = await deployTicketBroker({ provider, privateKey: chain.accounts[0], signal: options.signal })
    const funder = new Wallet(chain.accounts[0], provider)
    // the answer with the aggregator's 8 decimals
    const answerOf = (usd: string): bigint => { const r = parseUsdPerEth(usd); return r.answer * 10n ** BigInt(8 - Math.min(8, r.decimals)) / 10n ** BigInt(Math.max(0, r.decimals - 8)) }
    const priceFeedAddress = await deployPriceAggregator({ provider, privateKey: chain.accounts[0], initialAnswer: answerOf(TESTNET_USD_PER_ETH), signal: options.signal })
    const aggregator = new Contract(priceFeedAddress, (await loadContractArtifact('ShoalPriceAggregator')).abi as never, funder)
    // one transaction at a time from the funder: anvil's nonces are strict
    let queue: Promise<unknown> = Promise.resolve()
    const sendEth = async (to: string, wei: bigint): Promise<void> => {
      const next = queue.then(async () => { await (await funder.sendTransaction({ to, value: wei })).wait() })
      queue = next.catch(() => {})
      await next
    }
    return {
      rpcUrl: chain.rpcUrl,
      brokerAddress: deployment.address,
      priceFeedAddress,
      async postUsdPerEth (usdPerEth) {
        const next = queue.then(async () => { await (await aggregator.getFunction('updateAnswer')(answerOf(usdPerEth)) as { wait: () => Promise<unknown> }).wait() })
        queue = next.catch(() => {})
        await next
      },
      chain,
      provider,
      sendEth,
      async fundSender (privateKey, depositWei, reserveWei, maxRecipients) {
        await sendEth(new Wallet(privateKey).address, depositWei + reserveWei + parseEther('10'))
        await createChainOperations({ provider, broker: deployment.address, privateKey }).fund(depositWei, reserveWei, maxRecipients)
      },
      async stop () {
        provider.destroy()
        await chain.stop()
      }
    }
  } catch (err) {
    await chain.stop()
    throw err
  }
}
