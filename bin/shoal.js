#!/usr/bin/env node
// The polyfill must be evaluated before any libp2p module, so it is imported first.
import '../dist/src/p2p/polyfill.js'
const { main } = await import('../dist/src/cli/main.js')
await main(process.argv.slice(2))
