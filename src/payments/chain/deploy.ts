import { ContractFactory, Wallet, type JsonRpcProvider } from 'ethers'
import { ChainError } from '../errors.js'
import { loadContractArtifact, loadTicketBrokerArtifact } from './compile.js'
import { toChainError } from './abi.js'

export interface DeployOptions {
  provider: JsonRpcProvider
  /** deployer key (pays gas) */
  privateKey: string
  /**
   * Blocks between unlock() and withdraw(). Must exceed the recipients' params lifetime
   * plus the time their redeemers need, or a sender could withdraw before winning tickets
   * accepted just before the unlock are redeemed. Default 100 (a local chain).
   */
  unlockPeriodBlocks?: bigint
  /** Blocks after a ticket's params expire during which it can still be redeemed. Default 1000. */
  redeemWindowBlocks?: bigint
  signal?: AbortSignal
}

export interface Deployment {
  /** contract address, lower-case */
  address: string
  chainId: bigint
  blockNumber: bigint
  txHash: string
  unlockPeriod: bigint
  redeemWindow: bigint
}

export const DEFAULT_UNLOCK_PERIOD_BLOCKS = 100n
export const DEFAULT_REDEEM_WINDOW_BLOCKS = 1000n

/** Compiles (or loads the cached build of) contracts/TicketBroker.sol and deploys it. */
export async function deployTicketBroker (options: DeployOptions): Promise<Deployment> {
  options.signal?.throwIfAborted()
  const artifact = await loadTicketBrokerArtifact()
  const wallet = new Wallet(options.privateKey, options.provider)
  const unlockPeriod = options.unlockPeriodBlocks ?? DEFAULT_UNLOCK_PERIOD_BLOCKS
  const redeemWindow = options.redeemWindowBlocks ?? DEFAULT_REDEEM_WINDOW_BLOCKS
  try {
    const factory = new ContractFactory(artifact.abi as never, artifact.bytecode, wallet)
    const contract = await factory.deploy(unlockPeriod, redeemWindow)
    const tx = contract.deploymentTransaction()
    if (tx === null) throw new ChainError('CHAIN_ERROR_RPC', 'deployment transaction missing')
    const receipt = await tx.wait(1)
    options.signal?.throwIfAborted()
    if (receipt === null || receipt.contractAddress === null) throw new ChainError('CHAIN_ERROR_RPC', 'deployment not mined')
    const network = await options.provider.getNetwork()
    return {
      address: receipt.contractAddress.toLowerCase(),
      chainId: network.chainId,
      blockNumber: BigInt(receipt.blockNumber),
      txHash: receipt.hash,
      unlockPeriod,
      redeemWindow
    }
  } catch (err) {
    throw toChainError(err, 'deploy TicketBroker')
  }
}

export interface AggregatorDeployOptions {
  provider: JsonRpcProvider
  /** deployer key (pays gas); the only account that may post answers */
  privateKey: string
  /** the first answer, `answer / 10^decimals` USD per ETH */
  initialAnswer: bigint
  /** @default 8, as Chainlink's USD feeds */
  decimals?: number
  /** @default "ETH / USD" */
  description?: string
  signal?: AbortSignal
}

/**
 * Deploys contracts/ShoalPriceAggregator.sol, a Chainlink AggregatorV3Interface whose
 * answers its deployer posts (`updateAnswer`): the testnet's ETH/USD feed. Returns its address, lower-case.
 */
export async function deployPriceAggregator (options: AggregatorDeployOptions): Promise<string> {
  options.signal?.throwIfAborted()
  const artifact = await loadContractArtifact('ShoalPriceAggregator')
  const wallet = new Wallet(options.privateKey, options.provider)
  try {
    const factory = new ContractFactory(artifact.abi as never, artifact.bytecode, wallet)
    const contract = await factory.deploy(options.decimals ?? 8, options.description ?? 'ETH / USD', options.initialAnswer)
    const receipt = await contract.deploymentTransaction()?.wait(1)
    options.signal?.throwIfAborted()
    if (receipt === null || receipt === undefined || receipt.contractAddress === null) throw new ChainError('CHAIN_ERROR_RPC', 'deployment not mined')
    return receipt.contractAddress.toLowerCase()
  } catch (err) {
    throw toChainError(err, 'deploy ShoalPriceAggregator')
  }
}
