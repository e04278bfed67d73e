import { Contract, type Provider } from 'ethers'

/** The part of Chainlink's AggregatorV3Interface the feed reads. */
export const AGGREGATOR_V3_ABI = [
  'function decimals() view returns (uint8)',
  'function description() view returns (string)',
  'function latestRoundData() view returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)'
] as const

export interface AggregatorRound {
  roundId: bigint
  answer: bigint
  /** seconds since the epoch, as the chain's clock says */
  updatedAt: bigint
  answeredInRound: bigint
}

/** Reads an aggregator: its decimals (once) and its latest round. */
export interface AggregatorReader {
  decimals: () => Promise<number>
  description: () => Promise<string>
  latestRoundData: () => Promise<AggregatorRound>
}

export function createAggregatorReader (provider: Provider, address: string): AggregatorReader {
  const contract = new Contract(address, AGGREGATOR_V3_ABI, provider)
  let decimals: Promise<number> | undefined
  return {
    async decimals () {
      decimals ??= (contract.getFunction('decimals')() as Promise<bigint>).then(Number).catch((err: unknown) => { decimals = undefined; throw err })
      return await decimals
    },
    async description () {
      return await (contract.getFunction('description')() as Promise<string>)
    },
    async latestRoundData () {
      const [roundId, answer, , updatedAt, answeredInRound] = await (contract.getFunction('latestRoundData')() as Promise<[bigint, bigint, bigint, bigint, bigint]>)
      return { roundId, answer, updatedAt, answeredInRound }
    }
  }
}
