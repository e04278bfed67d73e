import { formatEther, type JsonRpcProvider } from 'ethers'
import type { Logger } from '../observability/logger.js'
import { defaultRecipientOptions } from './options.js'

export interface RedemptionGasCheck {
  address: string
  balanceWei: bigint
  /** what one redemption costs at the gas price used: redeemGas x gasPrice */
  costWei: bigint
  gasPriceWei: bigint
  /** whether the balance pays at least one redemption */
  enough: boolean
}

/**
 * Whether an orchestrator's wallet can pay the gas of one winning-ticket redemption
 * (`redeemGas` x the configured gas price, else the chain's current one). Winning tickets
 * of a wallet that cannot are never redeemed: their value is lost when they expire.
 */
export async function checkRedemptionGas (options: { provider: Pick<JsonRpcProvider, 'getBalance' | 'getFeeData'>, address: string, gasPriceWei?: bigint, redeemGas?: bigint }): Promise<RedemptionGasCheck> {
  const balanceWei = await options.provider.getBalance(options.address)
  let gasPriceWei = options.gasPriceWei
  if (gasPriceWei === undefined) {
    const fees = await options.provider.getFeeData()
    gasPriceWei = fees.maxFeePerGas ?? fees.gasPrice ?? 0n
  }
  const costWei = (options.redeemGas ?? defaultRecipientOptions.redeemGas) * gasPriceWei
  return { address: options.address, balanceWei, costWei, gasPriceWei, enough: balanceWei >= costWei && balanceWei > 0n }
}

/** Logs a warning naming the wallet and the amounts when it cannot pay for a redemption. */
export function warnIfCannotRedeem (check: RedemptionGasCheck, logger: Logger): boolean {
  if (check.enough) return false
  logger.warn({
    address: check.address,
    balanceEth: formatEther(check.balanceWei),
    redemptionCostEth: formatEther(check.costWei),
    gasPriceWei: check.gasPriceWei.toString()
  }, `this orchestrator's wallet ${check.address} holds ${formatEther(check.balanceWei)} ETH, less than the gas of one ticket redemption (${formatEther(check.costWei)} ETH): winning tickets cannot be redeemed until it is funded`)
  return true
}
