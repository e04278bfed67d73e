import type { Logger } from '../observability/logger.js'
import { PERMANENT_REDEEM_REVERTS, type AbortOptions, type Broker, type Redemption } from './broker.js'
import type { Clock } from './clock.js'
import { ChainError } from './errors.js'
import { weiToMetric, type PaymentMetrics, type RedemptionResult } from './metrics.js'
import { defaultRedeemerOptions, type RedeemerOptions } from './options.js'
import type { StoredWinner, TicketStore } from './ticket-store.js'

/** Counts of one pass over the store. */
export type RedeemPass = Record<RedemptionResult | 'waiting', number>

/**
 * Submits stored winning tickets once their params have expired (so recipientRand is never
 * revealed while the params are in use), skips wins that would not cover the gas, retries
 * transient failures with backoff, and gives up only on the contract's permanent refusals
 * or when the redeem window closes. All state is in the TicketStore, so a restarted node
 * resumes where it stopped; a ticket redeemed by a transaction the node did not get to
 * record is found on-chain and marked redeemed.
 */
export interface Redeemer {
  /** runs a pass every `intervalMs` until stopped */
  start: () => void
  /** stops the loop and waits for a pass in progress */
  stop: () => Promise<void>
  /** one pass now */
  redeemDue: (options?: AbortOptions) => Promise<RedeemPass>
}

export interface RedeemerDeps {
  /** a broker with a key (it pays the gas) */
  broker: Broker
  store: TicketStore
  clock: Clock
  metrics: PaymentMetrics | null
  logger: Logger
  options?: Partial<RedeemerOptions>
}

export function createRedeemer (deps: RedeemerDeps): Redeemer {
  const { broker, store, clock, metrics, logger } = deps
  const options: RedeemerOptions = { ...defaultRedeemerOptions, ...deps.options }
  let timer: NodeJS.Timeout | undefined
  let running: Promise<unknown> | undefined
  let controller: AbortController | undefined
  let stopped = true

  const backoff = (attempts: number): number => Math.min(options.retryBaseMs * 2 ** Math.min(attempts, 20), options.retryMaxMs)

  const redeemOne = async (w: StoredWinner, ctx: { block: bigint, gasPrice: bigint, redeemWindow: bigint }, opts?: AbortOptions): Promise<RedemptionResult | 'waiting'> => {
    const now = clock.now()
    const log = logger.child({ ticketHash: w.ticketHash })
    // its redeem window closed: nothing can pay it any more
    if (ctx.block > w.ticket.expirationBlock + ctx.redeemWindow) {
      store.markFailed(w.ticketHash, { status: 'expired', error: 'redeem window closed', at: now })
      log.warn({ expirationBlock: w.ticket.expirationBlock.toString() }, 'winning ticket expired before redemption')
      return 'expired'
    }
    const recorded = async (): Promise<Redemption | null> =>
      await broker.findRedemption(w.ticketHash, w.ticket.expirationBlock - 10_000n, opts)
    const onChainError = async (err: unknown): Promise<RedemptionResult> => {
      const reason = err instanceof ChainError && err.code === 'CHAIN_ERROR_REVERTED' ? String(err.details?.reason) : undefined
      if (reason === 'TicketUsed') {
        const found = await recorded().catch(() => null)
        store.markRedeemed(w.ticketHash, { txHash: found?.txHash ?? null, paidWei: found?.paid ?? 0n, at: now })
        log.info({ txHash: found?.txHash }, 'winning ticket was already redeemed')
        return 'already_used'
      }
      if (reason !== undefined && PERMANENT_REDEEM_REVERTS.has(reason)) {
        store.markFailed(w.ticketHash, { status: 'failed', error: reason, at: now })
        log.error({ reason }, 'the broker refused a winning ticket')
        return 'refused'
      }
      // SenderUnfunded (it may fund again), RPC failures, dropped transactions: try again later
      const message = (err as Error).message ?? String(err)
      store.scheduleRetry(w.ticketHash, { error: message, at: now, nextAttemptAt: now + backoff(w.attempts), countAttempt: true })
      log.warn({ err: message, attempts: w.attempts + 1 }, 'redemption failed; will retry')
      return 'retry'
    }

    try {
      if (await broker.isTicketUsed(w.ticketHash, opts)) return await onChainError(new ChainError('CHAIN_ERROR_REVERTED', 'used', { reason: 'TicketUsed' }))
      const gas = await broker.estimateRedeemGas(w.ticket, w.signature, w.recipientRand, opts)
      const cost = gas * ctx.gasPrice
      if (w.ticket.faceValue <= cost) {
        store.scheduleRetry(w.ticketHash, { error: `gas ${cost} wei would eat the face value ${w.ticket.faceValue}`, at: now, nextAttemptAt: now + options.gasRecheckMs, countAttempt: false })
        return 'skipped_gas'
      }
      const r = await broker.redeemWinningTicket(w.ticket, w.signature, w.recipientRand, opts)
      store.markRedeemed(w.ticketHash, { txHash: r.txHash, paidWei: r.paid, at: clock.now() })
      metrics?.redeemedWei.inc(weiToMetric(r.paid))
      log.info({ txHash: r.txHash, paid: r.paid.toString(), fee: r.feeWei.toString() }, 'redeemed a winning ticket')
      return 'redeemed'
    } catch (err) {
      if (opts?.signal?.aborted === true) throw err
      return await onChainError(err)
    }
  }

  const redeemDue = async (opts?: AbortOptions): Promise<RedeemPass> => {
    const pass: RedeemPass = { redeemed: 0, already_used: 0, refused: 0, expired: 0, retry: 0, skipped_gas: 0, waiting: 0 }
    const due = store.due(clock.now(), options.batchSize)
    // nothing to redeem: no chain reads (an idle node would otherwise read the block and
    // gas price every pass; 48 orchestrators of one testnet did so against one chain)
    if (due.length === 0) {
      metrics?.pendingWinners.set(store.summary().pending.count)
      return pass
    }
    const [config, block, gasPrice] = await Promise.all([broker.config(opts), broker.blockNumber(opts), broker.gasPrice(opts)])
    for (const w of due) {
      opts?.signal?.throwIfAborted()
      if (w.domain.chainId !== config.chainId || w.domain.broker !== config.broker) {
        // won on another chain or broker than this node is configured for: keep it for that configuration
        store.scheduleRetry(w.ticketHash, { error: 'ticket is for another broker', at: clock.now(), nextAttemptAt: clock.now() + options.gasRecheckMs, countAttempt: false })
        pass.waiting++
        continue
      }
      // recipientRand must stay secret until the params can no longer be used
      if (block < w.ticket.expirationBlock + options.confirmationsAfterExpiry) {
        pass.waiting++
        continue
      }
      const result = await redeemOne(w, { block, gasPrice, redeemWindow: config.redeemWindow }, opts)
      pass[result]++
      if (result !== 'waiting') metrics?.redemptions.inc({ result })
    }
    metrics?.pendingWinners.set(store.summary().pending.count)
    return pass
  }

  const loop = (): void => {
    if (stopped) return
    controller = new AbortController()
    running = redeemDue({ signal: controller.signal })
      .catch((err: unknown) => {
        if (!stopped) logger.warn({ err: (err as Error).message }, 'redemption pass failed')
      })
      .finally(() => {
        running = undefined
        if (!stopped) timer = setTimeout(loop, options.intervalMs)
      })
  }

  return {
    start () {
      if (!stopped) return
      stopped = false
      loop()
    },
    async stop () {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
      controller?.abort()
      await running
    },
    redeemDue
  }
}
