// Development entry, equivalent to bin/shoal.js but running the TypeScript sources:
//   node --import tsx src/cli/run.ts <command> ...
// The polyfill is imported before anything loads libp2p (static imports run first).
import '../p2p/polyfill.js'

const { main } = await import('./main.js')
await main(process.argv.slice(2))
