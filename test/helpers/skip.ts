import type { NetnsSupport } from '../../src/testnet/netns.js'

/**
 * From a suite's `before` hook: skips the suite where this machine cannot run it
 * (`netnsSupport()`, `scenarioSupport()`), saying why.
 */
export function skipUnsupported (ctx: Mocha.Context, support: NetnsSupport): void {
  if (support.ok) return
  console.log(`    skipped: ${support.reason}`)
  ctx.skip()
}
