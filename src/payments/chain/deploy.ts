import { ContractFactory, Wallet, type JsonRpcProvider } from 'ethers'
import { ChainError } from '../errors.js'
import { loadTicketBrokerArtifact } from './compile.js'
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
