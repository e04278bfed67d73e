import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, createWriteStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { shoalBin } from './package-root.js'

/**
 * Environment flag set on every `shoal` this module starts: stop gracefully when standard
 * input ends (the parent closed it or died). The CLI's lifecycle honours it.
 */
export const STOP_ON_STDIN_END = 'SHOAL_STOP_ON_STDIN_END'

export interface ShoalChild {
  name: string
  process: ChildProcess
  pid: number
  logFile: string
  /** resolves with the first stdout event line named `event` */
  waitForEvent: (event: string, options?: { signal?: AbortSignal, timeoutMs?: number }) => Promise<Record<string, unknown>>
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited */
  stop: (graceMs?: number) => Promise<void>
  /** SIGKILL now to the node and everything it started (its process group), for crash tests */
  kill: () => Promise<void>
  exited: Promise<number | null>
}

/**
 * Why a node exited, from the last lines of its stderr: its one-line `shoal: ...` CLI
 * error, else the last error logged (pino JSON, level 50 or more), else undefined.
 */
export function exitCause (lines: readonly string[]): string | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] ?? ''
    if (line.startsWith('shoal: ')) return line.slice('shoal: '.length)
  }
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const entry = JSON.parse(lines[i] ?? '') as { level?: number, msg?: string, err?: { message?: string } }
      if (typeof entry.level === 'number' && entry.level >= 50) {
        return [entry.msg, entry.err?.message].filter(m => typeof m === 'string' && m !== '').join(': ') || undefined
      }
    } catch { /* not a log line */ }
  }
  return undefined
}

/**
 * Starts `shoal <args>` as a child process. Its stdout events are parsed, its stderr
 * (structured logs) goes to `logFile`. Stopped only by its own pid.
 */
export function spawnShoal (name: string, args: string[], options: { logFile: string, env?: NodeJS.ProcessEnv, prefix?: string[] }): ShoalChild {
  // e.g. SHOAL_CHILD_EXEC_ARGV="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile every node of a testnet
  const execArgv = (process.env.SHOAL_CHILD_EXEC_ARGV ?? '').split(' ').filter(a => a.length > 0)
  // e.g. SHOAL_CHILD_BIN=/tmp/old/bin/shoal.js to run another build's nodes beside this one's (bench/overhead's before/after)
  const bin = process.env.SHOAL_CHILD_BIN ?? shoalBin()
  // a prefix that execs its argument (e.g. `ip netns exec NS`) keeps the pid and process group
  const argv = [...(options.prefix ?? []), process.execPath, ...execArgv, bin, ...args]
  const child = spawn(argv[0], argv.slice(1), {
    // its own process group: a Ctrl-C in the terminal reaches only the parent, which stops children in order;
    // stdin stays open so the child stops by itself if the parent dies
    detached: true,
    env: { ...process.env, ...options.env, [STOP_ON_STDIN_END]: '1' },
    stdio: ['pipe', 'pipe', 'pipe']
  })
  if (child.pid === undefined) throw new Error(`cannot start ${name}`)
  // logs name peers, jobs and payment addresses: readable by the operator alone
  const log = createWriteStream(options.logFile, { flags: 'a', mode: 0o600 })
  try { chmodSync(options.logFile, 0o600) } catch { /* created by the stream's open, with its mode */ }
  child.stderr?.pipe(log)
  // the last lines of its stderr, to name the cause when it exits before it is ready
  const tail: string[] = []
  createInterface({ input: child.stderr! }).on('line', (line) => {
    tail.push(line)
    if (tail.length > 50) tail.shift()
  })
  const events: Array<Record<string, unknown>> = []
  const waiters: Array<() => void> = []
  const lines = createInterface({ input: child.stdout! })
  lines.on('line', (line) => {
    log.write(`[stdout] ${line}\n`)
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>
      if (typeof parsed.event === 'string') {
        events.push(parsed)
        for (const wake of waiters.splice(0)) wake()
      }
    } catch { /* not an event line */ }
  })
  const exited = new Promise<number | null>(resolve => {
    child.once('exit', (code) => {
      for (const wake of waiters.splice(0)) wake()
      resolve(code)
    })
  })
  let exitCode: number | null | undefined
  void exited.then(code => { exitCode = code })
  /**
   * SIGKILL to the child's whole process group (it was started detached, so the group is
   * its own): the node and the runner processes it started die together, as when the
   * host running them fails; nothing is left orphaned.
   */
  const killGroup = (): void => {
    try {
      process.kill(-(child.pid as number), 'SIGKILL')
    } catch {
      child.kill('SIGKILL')
    }
  }

  return {
    name,
    process: child,
    pid: child.pid,
    logFile: options.logFile,
    exited,
    async waitForEvent (event, waitOptions = {}) {
      const deadline = Date.now() + (waitOptions.timeoutMs ?? 60_000)
      for (;;) {
        const found = events.find(e => e.event === event)
        if (found !== undefined) return found
        if (exitCode !== undefined) {
          // its stderr may still hold the last lines: let them arrive
          await new Promise(resolve => setTimeout(resolve, 50))
          const cause = exitCause(tail)
          throw new Error(`${name} exited with code ${String(exitCode)} before "${event}"${cause === undefined ? '' : `: ${cause}`} (log: ${options.logFile})`)
        }
        if (Date.now() > deadline) throw new Error(`${name} did not report "${event}" in time; see ${options.logFile}`)
        if (waitOptions.signal?.aborted === true) throw new Error('aborted')
        await new Promise<void>(resolve => {
          waiters.push(resolve)
          setTimeout(resolve, 200)
        })
      }
    },
    async stop (graceMs = 10_000) {
      if (exitCode !== undefined) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => { killGroup() }, graceMs)
      await exited
      clearTimeout(timer)
      log.end()
    },
    async kill () {
      if (exitCode !== undefined) return
      killGroup()
      await exited
      log.end()
    }
  }
}
