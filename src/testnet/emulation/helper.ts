/**
 * A delay proxy process (delay-proxy-main.ts, built into dist/) started inside a host's
 * namespace: the only way to listen or connect there, since Node.js cannot enter a
 * namespace from a running process. It stops when its stdin ends, so it never outlives
 * the process that started it.
 */
import { execFile, spawn } from 'node:child_process'
import { createWriteStream, existsSync } from 'node:fs'
import { getPriority } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { packageRoot } from '../package-root.js'
import type { NetnsHost } from '../netns.js'
import type { DelayProxyOptions } from './delay-proxy.js'
import { EmulationError } from './errors.js'

export interface HelperProcess {
  name: string
  pid: number
  /** one JSON line to its stdin, e.g. `{ delayMs: 50 }` */
  send: (message: Record<string, unknown>) => void
  stop: () => Promise<void>
}

/** The built proxy script: helpers run from dist/ whether the caller runs from src/ (tests) or dist/. */
export function delayProxyScript (): string {
  const script = join(packageRoot(), 'dist', 'src', 'testnet', 'emulation', 'delay-proxy-main.js')
  if (!existsSync(script)) throw new EmulationError('EMULATION_ERROR_UNSUPPORTED', `${script} is missing: run \`npm run build\``)
  return script
}

/**
 * `nice -n N` before a command so that it runs at priority `nice` (it execs the command:
 * same pid, every thread at that priority), or nothing when it would inherit that priority.
 * `nice -n` adds to the caller's: a scenario's process may run at another priority itself.
 */
export function niceArgv (nice: number | undefined): string[] {
  if (nice === undefined) return []
  const change = nice - getPriority()
  return change === 0 ? [] : ['nice', '-n', String(change)]
}

export async function startHelper (name: string, host: NetnsHost, options: DelayProxyOptions, logFile: string, nice?: number): Promise<HelperProcess> {
  const [cmd, ...args] = host.exec([...niceArgv(nice), process.execPath, delayProxyScript(), JSON.stringify(options)])
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] })
  if (child.pid === undefined) throw new EmulationError('EMULATION_ERROR_NODE', `cannot start ${name}`)
  const log = createWriteStream(logFile, { flags: 'a', mode: 0o600 })
  child.stderr.pipe(log)
  const exited = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new EmulationError('EMULATION_ERROR_NODE', `${name} did not listen within 30 s (log: ${logFile})`)) }, 30_000)
    createInterface({ input: child.stdout }).on('line', (line) => {
      log.write(`[stdout] ${line}\n`)
      if (line.includes('"listening"')) { clearTimeout(timer); resolve() }
    })
    void exited.then(() => { clearTimeout(timer); reject(new EmulationError('EMULATION_ERROR_NODE', `${name} exited before listening (log: ${logFile})`)) })
  })
  let stopped = false
  return {
    name,
    pid: child.pid,
    send: (message) => { child.stdin.write(`${JSON.stringify(message)}\n`) },
    stop: async () => {
      if (stopped) return
      stopped = true
      child.stdin.end()
      const timer = setTimeout(() => { child.kill('SIGKILL') }, 5_000)
      await exited
      clearTimeout(timer)
      log.end()
    }
  }
}

/**
 * Sends every TCP connection that arrives at `host` from the lab for `port` to `proxyPort`
 * instead (iptables REDIRECT in its namespace). The proxy's own connection to `port` is
 * made locally (OUTPUT, not PREROUTING), so it is not redirected again.
 */
export async function redirectInbound (host: NetnsHost, port: number, proxyPort: number): Promise<void> {
  const [cmd, ...args] = host.exec(['iptables', '-w', '-t', 'nat', '-A', 'PREROUTING', '-i', host.device, '-p', 'tcp', '--dport', String(port), '-j', 'REDIRECT', '--to-ports', String(proxyPort)])
  try {
    await promisify(execFile)(cmd, args, { timeout: 10_000 })
  } catch (err) {
    const detail = ((err as { stderr?: string }).stderr ?? (err as Error).message).trim()
    throw new EmulationError('EMULATION_ERROR_COMMAND', `iptables REDIRECT in ${host.namespace}: ${detail}`)
  }
}
