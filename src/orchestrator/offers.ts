import { modelKey, parseModelKey, type ModelKey } from '../kernel/model-key.js'
import type { LiveOffer } from '../discovery/publisher.js'
import type { ModelCapability } from '../inference/managers/types.js'
import type { ModelEntry } from '../inference/models-config.js'
import { PIPELINE_UNIT } from '../kernel/pipelines.js'
import type { AiPrice } from '../protocols/ai/index.js'
import { ShoalError } from '../kernel/errors.js'
import { reduce, usdToWei, type UsdPerEth } from '../payments/price-feed/index.js'

export class PriceConfigError extends ShoalError<'PRICE_ERROR_CURRENCY' | 'PRICE_ERROR_VALUE'> {
  static override readonly name = 'PriceConfigError'
}

/** An exact price: `pricePerUnit` wei per `pixelsPerUnit` units of work, plus `pricePerRequest` wei per job when set (custom capabilities). */
export interface WeiPrice { pricePerUnit: bigint, pixelsPerUnit: bigint, pricePerRequest?: bigint }

/** A price entry as configured: aiModels.json's fields, and a custom capability's price per request (wei). */
type PriceEntry = Pick<ModelEntry, 'pricePerUnit' | 'pixelsPerUnit' | 'currency' | 'pipeline' | 'modelId'> & { pricePerRequest?: string }

/** "0.5" -> [5n, 10n]; "1e3" -> [1000n, 1n]. Decimal strings from aiModels.json, exactly. */
function decimalToRational (text: string): [bigint, bigint] {
  const match = /^[+]?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim())
  if (match === null) throw new PriceConfigError('PRICE_ERROR_VALUE', `"${text}" is not a decimal number`)
  const [, whole = '', fraction = '', exponentText = '0'] = match
  let numerator = BigInt((whole + fraction) === '' ? '0' : whole + fraction)
  let denominator = 10n ** BigInt(fraction.length)
  const exponent = Number(exponentText)
  if (exponent > 0) numerator *= 10n ** BigInt(exponent)
  else denominator *= 10n ** BigInt(-exponent)
  return [numerator, denominator]
}

/** How an operator who prices in USD gives the rate. */
export const USD_RATE_HINT = '--price-feed ADDRESS (an ETH/USD AggregatorV3Interface on the --rpc-url chain) or --usd-per-eth N'

/**
 * The price of an aiModels.json entry as integers for the wire: `price_per_unit` wei
 * for `pixels_per_unit` units, fractions scaled up exactly. A price in USD is converted
 * with `rate` (USD per ETH), exactly, and needs one.
 */
export function weiPriceOf (entry: PriceEntry, rate?: UsdPerEth): WeiPrice {
  const perRequest = entry.pricePerRequest === undefined ? undefined : decimalToRational(entry.pricePerRequest)
  const price = unitPriceOf(entry, rate)
  if (perRequest === undefined || perRequest[0] === 0n) return price
  if (entry.currency.toUpperCase() !== 'WEI') throw new PriceConfigError('PRICE_ERROR_CURRENCY', `${entry.pipeline} ${entry.modelId}: a price per request is in WEI only`)
  // whole wei, rounded up
  return { ...price, pricePerRequest: (perRequest[0] + perRequest[1] - 1n) / perRequest[1] }
}

function unitPriceOf (entry: PriceEntry, rate?: UsdPerEth): WeiPrice {
  const currency = entry.currency.toUpperCase()
  if (currency !== 'WEI' && currency !== 'USD') {
    throw new PriceConfigError('PRICE_ERROR_CURRENCY', `${entry.pipeline} ${entry.modelId}: currency ${entry.currency} is not supported; price it in WEI or USD`)
  }
  const [pn, pd] = decimalToRational(entry.pricePerUnit)
  const [un, ud] = decimalToRational(entry.pixelsPerUnit)
  if (un === 0n) throw new PriceConfigError('PRICE_ERROR_VALUE', `${entry.pipeline} ${entry.modelId}: pixels_per_unit must be positive`)
  if (currency === 'USD') {
    if (rate === undefined) throw new PriceConfigError('PRICE_ERROR_CURRENCY', `${entry.pipeline} ${entry.modelId}: priced in USD, which needs an ETH/USD rate: ${USD_RATE_HINT}`)
    // (wn/wd) wei per (un/ud) units  ==  (wn*ud) wei per (wd*un) units
    const [wn, wd] = usdToWei([pn, pd], rate)
    const [pricePerUnit, pixelsPerUnit] = reduce(wn * ud, wd * un)
    return { pricePerUnit, pixelsPerUnit }
  }
  // (pn/pd) wei per (un/ud) units  ==  (pn*ud) wei per (un*pd) units
  return { pricePerUnit: pn * ud, pixelsPerUnit: un * pd }
}

/**
 * Offers for the publisher: what the runners serve now, with the configured prices and
 * live slot use (the publisher turns that into the coarse load gossip carries).
 */
export function offersFrom (capabilities: ModelCapability[], prices: PriceTable, custom: ReadonlyMap<string, { description: string, streaming: boolean }> = new Map()): LiveOffer[] {
  const offers: LiveOffer[] = []
  for (const c of capabilities) {
    const price = prices.get(modelKey(c))
    if (price === undefined) continue
    // custom capabilities carry their operator's description, and whether they serve stream sessions
    const declared = c.pipeline === 'custom' ? custom.get(c.modelId) : undefined
    offers.push({
      ...(declared === undefined || declared.description === '' ? {} : { description: declared.description }),
      ...(declared?.streaming === true ? { streaming: true } : {}),
      pipeline: c.pipeline,
      modelId: c.modelId,
      warm: c.warm,
      capacity: c.capacity,
      inUse: Math.min(c.inUse, c.capacity),
      pricePerUnit: price.pricePerUnit.toString(),
      pixelsPerUnit: price.pixelsPerUnit.toString(),
      ...(price.pricePerRequest === undefined ? {} : { pricePerRequest: price.pricePerRequest.toString() }),
      unit: PIPELINE_UNIT[c.pipeline],
      runnerVersion: c.runnerVersion ?? 'unknown'
    })
  }
  return offers
}

/** Prices per (pipeline, model). */
export type PriceTable = ReadonlyMap<ModelKey, WeiPrice>

export function priceTable (entries: readonly ModelEntry[], rate?: UsdPerEth): PriceTable {
  return new Map(entries.map(e => [modelKey(e), weiPriceOf(e, rate)]))
}

/** Whether any entry is priced in USD (and so needs a rate). */
export function pricedInUsd (entries: ReadonlyArray<Pick<ModelEntry, 'currency'>>): boolean {
  return entries.some(e => e.currency.toUpperCase() === 'USD')
}

/**
 * The prices of a node whose USD entries follow a rate: `table` is read by quotes,
 * debits and announcements at each use, and `update` rewrites it when the rate changes.
 * Without a rate, USD entries have no price, so they are neither offered nor served:
 * never priced at zero.
 */
export function livePriceTable (entries: readonly PriceEntry[], rate: UsdPerEth | undefined): { table: PriceTable, update: (rate: UsdPerEth | undefined) => void } {
  const table = new Map<ModelKey, WeiPrice>()
  const update = (next: UsdPerEth | undefined): void => {
    for (const entry of entries) {
      const usd = entry.currency.toUpperCase() === 'USD'
      if (usd && next === undefined) table.delete(modelKey(entry))
      else table.set(modelKey(entry), weiPriceOf(entry, next))
    }
  }
  update(rate)
  return { table, update }
}

/** Prices as quoted on `/shoal/ai` streams (decimal strings, as in announcements). */
export function quotePrices (prices: PriceTable): AiPrice[] {
  return [...prices.entries()].map(([key, p]) => {
    const { pipeline, modelId } = parseModelKey(key)
    return { pipeline, modelId, pricePerUnit: p.pricePerUnit.toString(), pixelsPerUnit: p.pixelsPerUnit.toString(), ...(p.pricePerRequest === undefined ? {} : { pricePerRequest: p.pricePerRequest.toString() }) }
  })
}
