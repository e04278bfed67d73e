#!/usr/bin/env node
// Runs the built CLI (dist/, made by `npm run build`, which `npm ci` runs). It never builds
// by itself: without dist/ it says so and exits.
import { existsSync } from 'node:fs'
const dist = new URL('../dist/src/cli/main.js', import.meta.url)
if (!existsSync(dist)) {
  process.stderr.write('shoal: the CLI is not built (dist/ is missing): run `npm run build` in the shoal folder (`npm ci` does it)\n')
  process.exit(1)
}
// The polyfill must be evaluated before any libp2p module, so it is imported first.
await import('../dist/src/p2p/polyfill.js')
const { main } = await import('../dist/src/cli/main.js')
await main(process.argv.slice(2))
