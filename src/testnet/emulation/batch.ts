/**
 * Lab commands (`ip netns exec NS iptables ...`, `tc ...`) run as one shell script in one
 * child process. Node spawns synchronously: each spawn forks the calling process, which
 * for a scenario's process (the load generator, hundreds of MB) took about 50 ms at a load
 * average of 20 and more under heavier load. A heal of 50 hosts was 50 spawns, and blocked
 * the load generator's event loop for seconds while the load ran. One spawn per event
 * instead; the shell forks for the commands, and is small.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { EmulationError } from './errors.js'

const run = promisify(execFile)

/** One argument, quoted for sh. */
function quoteArg (arg: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`
}

/** A command line, quoted for sh. */
export function shellCommand (argv: readonly string[]): string {
  return argv.map(quoteArg).join(' ')
}

/**
 * Runs `groups` in parallel (each group's lines in order, stopping at its first failure)
 * in one `sh`; fails naming the first line that failed and its stderr. A line may be any
 * shell text; build commands with `shellCommand`.
 */
export async function runLabScript (what: string, groups: ReadonlyArray<readonly string[]>, timeoutMs = 30_000): Promise<void> {
  const body = groups.filter(g => g.length > 0).map((lines, i) =>
    `( set -e\n${lines.join('\n')}\n) & p${i}=$!`).join('\n')
  const waits = groups.filter(g => g.length > 0).map((_g, i) => `wait $p${i} || fail=1`).join('\n')
  const script = `fail=0\n${body}\n${waits}\nexit $fail\n`
  try {
    await run('sh', ['-c', script], { timeout: timeoutMs })
  } catch (err) {
    const detail = ((err as { stderr?: string }).stderr ?? '').trim() || (err as Error).message.split('\n')[0]
    throw new EmulationError('EMULATION_ERROR_COMMAND', `${what}: ${detail}`)
  }
}
