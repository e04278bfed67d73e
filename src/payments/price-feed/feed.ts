import type { JsonRpcProvider } from 'ethers'
import type { Logger } from '../../observability/logger.js'
import { createProvider } from '../chain/provider.js'
import { createAggregatorReader, type AggregatorReader } from './aggregator.js'
import { PriceFeedError, type PriceFeedErrorCode } from './errors.js'
import type { PriceFeedMetrics } from './metrics.js'
import { defaultPriceFeedOptions, type PriceFeedOptions, type PriceFeedSource } from './options.js'
import { formatUsdPerEth, parseUsdPerEth, type UsdPerEth } from './usd.js'
import { anySignal } from '../../signals/any-signal.js'

/** The rate in use, and where it came from. */
export interface UsdRate extends UsdPerEth {
  /** the rate as a decimal string, e.g. "2500.25" */
  usdPerEth: string
  source: 'aggregator' | 'fixed'
  /** when the aggregator updated it (ms since the epoch), or when the fixed rate was set */
  updatedAtMs: number
}

export interface PriceFeed {
  readonly source: PriceFeedSource
  /**
   * reads the feed once and starts polling. A failure of that first read is a start-up
   * failure (there is no last good rate) unless `required` is false: then it is logged
   * and polling goes on until the feed answers (a gateway only shows USD).
   */
  start: (options?: { signal?: AbortSignal, required?: boolean }) => Promise<void>
  stop: () => void
  /** the rate in use: the last good one while it is younger than `keepLastGoodMs`; throws PriceFeedError NO_RATE otherwise */
  rate: () => UsdRate
  /** the rate in use, or undefined when there is none */
  tryRate: () => UsdRate | undefined
  /** reads the aggregator now (the poll does this every `pollIntervalMs`) */
  refresh: (options?: { signal?: AbortSignal }) => Promise<void>
  /** called when the rate in use changes, or goes (undefined) */
  onChange: (listener: (rate: UsdRate | undefined) => void) => () => void
}

export interface PriceFeedInit {
  source: PriceFeedSource
  options?: Partial<PriceFeedOptions>
  logger: Logger
  metrics?: PriceFeedMetrics | null
  /** an aggregator reader instead of one on `source.rpcUrl` (tests) */
  reader?: AggregatorReader
  now?: () => number
}

/**
 * The ETH/USD rate that USD prices are converted with. A fixed rate never changes. An
 * aggregator is polled; an answer that is zero or less, stale, or a read that fails is
 * logged (warn) and counted, and the last good rate stays in use for `keepLastGoodMs`;
 * after that there is no rate (error), and nothing is priced with it: never at zero.
 */
export function createPriceFeed (init: PriceFeedInit): PriceFeed {
  const { source, logger, metrics = null } = init
  const options = { ...defaultPriceFeedOptions, ...init.options, ...(source.kind === 'aggregator' && source.pollIntervalMs !== undefined ? { pollIntervalMs: source.pollIntervalMs } : {}) }
  const now = init.now ?? Date.now
  const listeners = new Set<(rate: UsdRate | undefined) => void>()
  let current: UsdRate | undefined
  let lastGoodAtMs = 0
  let failing: PriceFeedErrorCode | undefined
  let expired = false
  let provider: JsonRpcProvider | undefined
  let reader = init.reader
  let timer: NodeJS.Timeout | undefined
  const controller = new AbortController()

  const emit = (rate: UsdRate | undefined): void => {
    metrics?.usdPerEth.set(rate === undefined ? 0 : Number(rate.usdPerEth))
    for (const listener of listeners) {
      try { listener(rate) } catch (err) { logger.error({ err }, 'price feed listener failed') }
    }
  }

  function inUse (): UsdRate | undefined {
    if (current === undefined) return undefined
    if (source.kind === 'aggregator' && now() - lastGoodAtMs > options.keepLastGoodMs) {
      if (!expired) {
        expired = true
        logger.error({ feed: source.address, lastGoodAgeMs: now() - lastGoodAtMs, usdPerEth: current.usdPerEth }, 'price feed: no good ETH/USD rate for longer than keepLastGoodMs; prices in USD are withdrawn until it answers again')
        queueMicrotask(() => { emit(undefined) })
      }
      return undefined
    }
    return current
  }

  function fail (code: PriceFeedErrorCode, message: string): void {
    metrics?.failures.inc({ reason: code })
    const kept = inUse()
    // one warning per kind of failure, not one per poll
    if (failing !== code) {
      logger.warn({ feed: source.kind === 'aggregator' ? source.address : 'fixed', code, keptUsdPerEth: kept?.usdPerEth ?? null, keepLastGoodMs: options.keepLastGoodMs }, `price feed: ${message}${kept === undefined ? '' : '; the last good rate stays in use for now'}`)
    }
    failing = code
  }

  async function read (signal: AbortSignal): Promise<UsdRate> {
    if (source.kind === 'fixed') {
      return { ...parseUsdPerEth(source.usdPerEth), usdPerEth: formatUsdPerEth(parseUsdPerEth(source.usdPerEth)), source: 'fixed', updatedAtMs: now() }
    }
    if (reader === undefined) {
      provider = await createProvider(source.rpcUrl, { signal, connectTimeoutMs: options.readTimeoutMs })
      reader = createAggregatorReader(provider, source.address)
    }
    const timeout = anySignal([signal, AbortSignal.timeout(options.readTimeoutMs)])
    const within = async <T>(p: Promise<T>): Promise<T> => await new Promise<T>((resolve, reject) => {
      const onAbort = (): void => { reject(timeout.reason instanceof Error ? timeout.reason : new Error('aborted')) }
      timeout.addEventListener('abort', onAbort, { once: true })
      p.then(resolve, reject).finally(() => { timeout.removeEventListener('abort', onAbort) })
    })
    let decimals: number
    let round: Awaited<ReturnType<AggregatorReader['latestRoundData']>>
    try {
      [decimals, round] = await within(Promise.all([reader.decimals(), reader.latestRoundData()]))
    } catch (err) {
      throw new PriceFeedError('PRICE_FEED_ERROR_UNAVAILABLE', `cannot read the aggregator ${source.address}: ${(err as Error).message}`, { address: source.address }, { cause: err })
    }
    if (round.answer <= 0n) {
      throw new PriceFeedError('PRICE_FEED_ERROR_INVALID_ANSWER', `the aggregator ${source.address} answered ${round.answer} (round ${round.roundId}): a rate must be positive`, { address: source.address })
    }
    const updatedAtMs = Number(round.updatedAt) * 1000
    if (updatedAtMs <= 0 || now() - updatedAtMs > options.maxAnswerAgeMs) {
      throw new PriceFeedError('PRICE_FEED_ERROR_STALE', `the aggregator ${source.address}'s answer was updated ${Math.round((now() - updatedAtMs) / 1000)} s ago, more than ${options.maxAnswerAgeMs / 1000} s`, { address: source.address })
    }
    const rate = { answer: round.answer, decimals }
    return { ...rate, usdPerEth: formatUsdPerEth(rate), source: 'aggregator', updatedAtMs }
  }

  async function refresh (opts: { signal?: AbortSignal } = {}): Promise<void> {
    const signal = opts.signal === undefined ? controller.signal : anySignal([opts.signal, controller.signal])
    let rate: UsdRate
    try {
      rate = await read(signal)
    } catch (err) {
      if (signal.aborted) throw err
      const code = err instanceof PriceFeedError ? err.code : 'PRICE_FEED_ERROR_UNAVAILABLE'
      fail(code, (err as Error).message)
      if (current === undefined) throw err instanceof PriceFeedError ? err : new PriceFeedError(code, (err as Error).message, undefined, { cause: err })
      return
    }
    const changed = current === undefined || expired || current.answer !== rate.answer || current.decimals !== rate.decimals
    if (failing !== undefined || expired) logger.info({ usdPerEth: rate.usdPerEth }, 'price feed: a good ETH/USD rate again')
    failing = undefined
    expired = false
    current = rate
    lastGoodAtMs = now()
    metrics?.ageSeconds.set(Math.max(0, (now() - rate.updatedAtMs) / 1000))
    if (changed) emit(rate)
  }

  function schedule (): void {
    timer = setTimeout(() => {
      refresh().catch(() => {}).finally(() => {
        // a rate past keepLastGoodMs is withdrawn even when nothing else asks for it
        inUse()
        if (!controller.signal.aborted) schedule()
      })
    }, options.pollIntervalMs)
    timer.unref()
  }

  return {
    source,
    async start (opts = {}) {
      try {
        await refresh(opts.signal === undefined ? {} : { signal: opts.signal })
      } catch (err) {
        if (opts.required !== false || source.kind === 'fixed' || opts.signal?.aborted === true) throw err
        schedule()
        return
      }
      logger.info({ source: source.kind, ...(source.kind === 'aggregator' ? { feed: source.address } : {}), usdPerEth: current?.usdPerEth }, 'price feed: ETH/USD rate')
      if (source.kind === 'aggregator') schedule()
    },
    stop () {
      controller.abort()
      clearTimeout(timer)
      provider?.destroy()
    },
    rate () {
      const rate = inUse()
      if (rate === undefined) throw new PriceFeedError('PRICE_FEED_ERROR_NO_RATE', `no good ETH/USD rate from ${source.kind === 'aggregator' ? `the aggregator ${source.address}` : 'the fixed rate'}`)
      return rate
    },
    tryRate: inUse,
    refresh,
    onChange (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    }
  }
}
