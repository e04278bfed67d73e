/**
 * Exact arithmetic between USD and wei: a rate is `answer / 10^decimals` USD per ETH (as
 * Chainlink aggregators answer), prices are rationals of bigints. Nothing is rounded
 * until a value is shown.
 */
import { PriceFeedError } from './errors.js'

/** USD per ETH: `answer / 10^decimals`. */
export interface UsdPerEth { answer: bigint, decimals: number }

/** a non-negative decimal: integer, fraction or exponent (as aiModels.json prices) */
const DECIMAL = /^[+]?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/

/** "0.5" -> [5n, 10n]; "1e3" -> [1000n, 1n]; undefined when `text` is not a decimal. */
export function decimalToRational (text: string): [bigint, bigint] | undefined {
  const match = DECIMAL.exec(text.trim())
  if (match === null || (match[1] === '' && (match[2] ?? '') === '')) return undefined
  const [, whole = '', fraction = '', exponentText = '0'] = match
  const exponent = Number(exponentText)
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 100) return undefined
  let numerator = BigInt(whole + fraction)
  let denominator = 10n ** BigInt(fraction.length)
  if (exponent > 0) numerator *= 10n ** BigInt(exponent)
  else denominator *= 10n ** BigInt(-exponent)
  return [numerator, denominator]
}

/** A fixed rate given by the operator ("2500", "2500.25") as a rate; refused unless positive. */
export function parseUsdPerEth (text: string): UsdPerEth {
  const rational = decimalToRational(text)
  if (rational === undefined || rational[0] <= 0n) {
    throw new PriceFeedError('PRICE_FEED_ERROR_CONFIG', `a USD per ETH rate must be a positive decimal number (got ${JSON.stringify(text)})`)
  }
  // answer / 10^decimals == numerator / denominator, the denominator being a power of ten
  let [answer, denominator] = rational
  let decimals = 0
  while (denominator > 1n) { denominator /= 10n; decimals++ }
  while (decimals > 0 && answer % 10n === 0n) { answer /= 10n; decimals-- }
  return { answer, decimals }
}

function gcd (a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b]
  return a
}

/** `n / d` in lowest terms. */
export function reduce (n: bigint, d: bigint): [bigint, bigint] {
  const g = gcd(n, d)
  return g <= 1n ? [n, d] : [n / g, d / g]
}

/**
 * A price of `usd` (a rational) for some units, in wei for the same units, exactly:
 * usd x 10^18 x 10^decimals / answer.
 */
export function usdToWei ([n, d]: [bigint, bigint], rate: UsdPerEth): [bigint, bigint] {
  if (rate.answer <= 0n) throw new PriceFeedError('PRICE_FEED_ERROR_INVALID_ANSWER', `a rate of ${rate.answer} cannot price anything`)
  return reduce(n * 10n ** BigInt(18 + rate.decimals), d * rate.answer)
}

/** A price of `wei` (a rational) in USD, exactly. */
export function weiToUsd ([n, d]: [bigint, bigint], rate: UsdPerEth): [bigint, bigint] {
  return reduce(n * rate.answer, d * 10n ** BigInt(18 + rate.decimals))
}

/**
 * `n / d` as a decimal string with `significant` significant digits (rounded half up),
 * without exponent: "0.000000123", "2500", "0".
 */
export function formatRational ([n, d]: [bigint, bigint], significant = 6): string {
  if (n === 0n) return '0'
  const whole = n / d
  if (whole.toString().length >= significant) return ((n * 2n + d) / (d * 2n)).toString()
  // scale so that `significant` digits sit left of the point
  let scale = 0
  while ((n * 10n ** BigInt(scale)) / d < 10n ** BigInt(significant - 1)) scale++
  const scaled = (n * 10n ** BigInt(scale) * 2n + d) / (d * 2n)
  const digits = scaled.toString().padStart(scale + 1, '0')
  const point = digits.length - scale
  const text = `${digits.slice(0, point)}.${digits.slice(point)}`.replace(/\.?0+$/, '')
  return text === '' ? '0' : text
}

/** The rate as a decimal string ("2500.25"). */
export function formatUsdPerEth (rate: UsdPerEth): string {
  return formatRational([rate.answer, 10n ** BigInt(rate.decimals)], 12)
}
