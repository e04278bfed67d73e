/**
 * Payment options and their defaults, in one place. Amounts are wei.
 */

/** Recipient (orchestrator) side. */
export interface RecipientOptions {
  /**
   * Expected value asked per ticket. Each valid ticket credits this much to the sender,
   * so it sets the payment granularity: a job costing F needs about F / ticketEV tickets.
   */
  ticketEV: bigint
  /** gas a redemption uses: faceValue is based on redeemGas x gasPrice (measured on anvil: 73k paid from the deposit, 125k for a first reserve claim; 150k leaves headroom) */
  redeemGas: bigint
  /** faceValue = redeemGas x gasPrice x txCostMultiplier, so gas costs at most 1/multiplier of a win */
  txCostMultiplier: bigint
  /** a fixed gas price instead of the chain's (for tests and chains with unstable fees) */
  gasPrice?: bigint
  /** blocks a set of params stays valid; redemption waits until they pass (the recipientRand stays secret meanwhile) */
  paramsExpirationBlocks: bigint
  /**
   * Count the sender's deposit in its max float. The deposit is shared by every recipient
   * and may be drained by others before this recipient redeems; only the reserve share is
   * guaranteed. Off by default (as the reference); a private mesh or testnet may turn it on.
   */
  countDeposit: boolean
  /** tickets accepted in one batch */
  maxTicketsPerBatch: number
  /** nonces remembered per params (recipientRandHash); beyond this the sender must get new params */
  maxNoncesPerParams: number
  /** params sets whose nonces are remembered at once (unexpired ones are never dropped: new ones are refused) */
  maxTrackedParams: number
  /** how long the sender's on-chain state is reused before it is read again */
  senderInfoTtlMs: number
  /** how long the block number is reused */
  blockTtlMs: number
}

export const defaultRecipientOptions: RecipientOptions = {
  ticketEV: 1_000_000_000_000n, // 1e12 wei (1000 gwei), as the reference's default order of magnitude
  redeemGas: 150_000n,
  txCostMultiplier: 100n,
  paramsExpirationBlocks: 10n,
  countDeposit: false,
  maxTicketsPerBatch: 1000,
  maxNoncesPerParams: 10_000,
  maxTrackedParams: 100_000,
  senderInfoTtlMs: 5000,
  blockTtlMs: 1000
}

/** Sender (gateway) limits. */
export interface SenderCaps {
  /** highest expected value accepted for one ticket */
  maxTicketEV: bigint
  /** highest expected value sent for one job (all its tickets); undefined: no cap beyond maxTicketsPerBatch */
  maxJobEV?: bigint
  /** highest face value accepted, whatever the max float */
  maxFaceValue?: bigint
  /** most tickets in one batch (a recipient refuses more) */
  maxTicketsPerBatch: number
  /** params whose expiration is further than this many blocks ahead are refused (unlock safety) */
  maxParamsLifetimeBlocks: bigint
}

export const defaultSenderCaps: SenderCaps = {
  maxTicketEV: 10_000_000_000_000n, // 1e13 wei
  maxTicketsPerBatch: 1000,
  maxParamsLifetimeBlocks: 1000n
}

export interface SenderOptions {
  /** how long this sender's own on-chain state is reused */
  senderInfoTtlMs: number
  blockTtlMs: number
  /** recipients whose credit is remembered (least recently used go first) */
  maxRecipients: number
  /** params sessions (nonce counters) kept */
  maxSessions: number
}

export const defaultSenderOptions: SenderOptions = {
  senderInfoTtlMs: 5000,
  blockTtlMs: 1000,
  maxRecipients: 10_000,
  maxSessions: 10_000
}

/** Redemption loop. */
export interface RedeemerOptions {
  /** time between passes over the store */
  intervalMs: number
  /** winners looked at per pass */
  batchSize: number
  /** first retry delay after a transient failure; doubles per attempt */
  retryBaseMs: number
  /** longest delay between retries */
  retryMaxMs: number
  /** when a win would not cover gas, look again after this long */
  gasRecheckMs: number
  /** blocks to wait after the params' expiration block before redeeming (reorg margin) */
  confirmationsAfterExpiry: bigint
}

export const defaultRedeemerOptions: RedeemerOptions = {
  intervalMs: 5000,
  batchSize: 50,
  retryBaseMs: 2000,
  retryMaxMs: 5 * 60_000,
  gasRecheckMs: 60_000,
  confirmationsAfterExpiry: 1n
}
