import { formatRational, weiToUsd, type UsdRate } from '../payments/price-feed/index.js'

/** A price as announced: `pricePerUnit` wei for `pixelsPerUnit` units. */
interface AnnouncedPrice { pricePerUnit?: unknown, pixelsPerUnit?: unknown }

function rationalOf (model: AnnouncedPrice): [bigint, bigint] | undefined {
  try {
    const n = BigInt(String(model.pricePerUnit))
    const d = BigInt(String(model.pixelsPerUnit))
    return d > 0n && n >= 0n ? [n, d] : undefined
  } catch {
    return undefined
  }
}

/**
 * The directory's JSON view with each model's price per unit in wei and in USD
 * (`weiPerUnit`, `usdPerUnit`, and the `usdPerEth` used): USD through the gateway's own
 * feed or fixed rate, null when it has none.
 */
export function withUsdPrices (entries: unknown[], rate: UsdRate | undefined): unknown[] {
  return entries.map(entry => {
    const e = entry as { models?: unknown }
    if (!Array.isArray(e.models)) return entry
    return {
      ...e,
      models: e.models.map((m: AnnouncedPrice) => {
        const price = rationalOf(m)
        if (price === undefined) return m
        return {
          ...m,
          weiPerUnit: formatRational(price, 12),
          usdPerUnit: rate === undefined ? null : formatRational(weiToUsd(price, rate), 6),
          usdPerEth: rate?.usdPerEth ?? null
        }
      })
    }
  })
}
