/**
 * bench/cli: how long `shoal --help` and `shoal <command> --help` take as processes (the
 * built bin/shoal.js over dist/), against `node -e 0` measured in the same run, with the
 * load average. Goal: `shoal --help` under 300 ms, i.e. little above Node's own start.
 *
 *   npm run bench:cli [runs=10]
 */
import { execFileSync } from 'node:child_process'
import { loadavg } from 'node:os'
import { shoalBin } from '../../src/testnet/package-root.js'
import { percentile } from '../percentile.js'

const runs = Number(process.argv[2] ?? 10)

function timeIt (args: string[]): number[] {
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const started = performance.now()
    execFileSync(process.execPath, args, { stdio: 'ignore' })
    times.push(performance.now() - started)
  }
  return times
}

const cases: Array<[string, string[]]> = [
  ['node -e 0 (baseline)', ['-e', '0']],
  ['shoal --help', [shoalBin(), '--help']],
  ['shoal testnet --help', [shoalBin(), 'testnet', '--help']],
  ['shoal gateway --help', [shoalBin(), 'gateway', '--help']]
]
process.stdout.write(`bench/cli: ${runs} runs each, load average ${loadavg().map(l => l.toFixed(2)).join(' ')}\n`)
let baseline = 0
for (const [label, args] of cases) {
  const times = timeIt(args)
  const p50 = percentile(times, 50)
  if (baseline === 0) baseline = p50
  process.stdout.write(`  ${label.padEnd(24)} p50 ${p50.toFixed(0).padStart(5)} ms  p90 ${percentile(times, 90).toFixed(0).padStart(5)} ms  x${(p50 / baseline).toFixed(2)} of node -e 0\n`)
}
process.stdout.write(`load average after: ${loadavg().map(l => l.toFixed(2)).join(' ')}\n`)
