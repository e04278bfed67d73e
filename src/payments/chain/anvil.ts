import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { ChainError } from '../errors.js'

/** A running local anvil chain. */
export interface LocalChain {
  /** http://127.0.0.1:<port> */
  rpcUrl: string
  chainId: bigint
  /** funded accounts' private keys (0x-hex), in anvil's order */
  accounts: string[]
  /** their addresses (lower-case 0x-hex), same order */
  addresses: string[]
  /** process id of anvil */
  pid: number
  /** Stops anvil (SIGTERM, then SIGKILL after 2 s) and removes its temp files. Idempotent. */
  stop: () => Promise<void>
}

export interface AnvilOptions {
  /** how many funded accounts; default 10 */
  accounts?: number
  /** ether per account; default 10000 */
  balanceEth?: number
  /** chain id; default 31337 */
  chainId?: number
  /** seconds between blocks; default none (a block per transaction) */
  blockTimeSec?: number
  /** path to the anvil binary; default the one in @foundry-rs/anvil-<platform> */
  binary?: string
  /** aborting stops the chain (or the start in progress) */
  signal?: AbortSignal
  /** how long to wait for the RPC to answer; default 15 s */
  startTimeoutMs?: number
  /** anvil's output is appended here (mode 0600); default: read and dropped */
  logFile?: string
  /**
   * its own process group, so a Ctrl-C in the terminal reaches only the parent, which stops
   * the chain after the nodes that use it; default false
   */
  detached?: boolean
  /** wraps anvil's argv, e.g. to run it in a network namespace (`ip netns exec NS ...`, which keeps the pid) */
  exec?: (argv: string[]) => string[]
  /** the address anvil listens on; default 127.0.0.1 */
  host?: string
  /** its port; default 0 (anvil picks one) */
  port?: number
  /** the URL this process reaches it at, when not http://<host>:<port> (a bridge into a namespace) */
  rpcUrl?: string
}

/** The anvil binary shipped by `@foundry-rs/anvil` for this platform. */
export function anvilBinary (): string {
  const require = createRequire(import.meta.url)
  const arch = process.arch === 'x64' ? 'amd64' : process.arch
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`
  try {
    return join(dirname(require.resolve(`${pkg}/package.json`)), 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil')
  } catch (err) {
    throw new ChainError('CHAIN_ERROR_ANVIL', `${pkg} is not installed (needed to run a local chain)`, undefined, { cause: err })
  }
}

/**
 * Starts anvil on a free 127.0.0.1 port (anvil picks it: `--port 0`; or where `host`,
 * `port` and `exec` say), waits until its
 * RPC answers, and returns its URL and funded keys. The process is spawned directly
 * (not through npx) and stopped by its pid.
 */
export async function startAnvil (options: AnvilOptions = {}): Promise<LocalChain> {
  options.signal?.throwIfAborted()
  const dir = await mkdtemp(join(tmpdir(), 'shoal-anvil-'))
  const configFile = join(dir, 'config.json')
  const chainId = options.chainId ?? 31337
  const args = [
    '--host', options.host ?? '127.0.0.1', '--port', String(options.port ?? 0),
    '--accounts', String(options.accounts ?? 10),
    '--balance', String(options.balanceEth ?? 10000),
    '--chain-id', String(chainId),
    '--config-out', configFile
  ]
  if (options.blockTimeSec !== undefined) args.push('--block-time', String(options.blockTimeSec))

  const argv = (options.exec ?? (a => a))([options.binary ?? anvilBinary(), ...args])
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached === true })
  if (options.logFile !== undefined) {
    const log = createWriteStream(options.logFile, { flags: 'a', mode: 0o600 })
    child.stdout?.pipe(log, { end: false })
    child.stderr?.pipe(log, { end: false })
    child.once('exit', () => { log.end() })
  }
  // a parent that exits without stopping the chain (an uncaught error) must not leave anvil behind
  const onExit = (): void => { child.kill('SIGKILL') }
  process.once('exit', onExit)
  let stopped: Promise<void> | undefined
  const stop = async (): Promise<void> => {
    stopped ??= (async () => {
      process.off('exit', onExit)
      options.signal?.removeEventListener('abort', onAbort)
      await killChild(child)
      await rm(dir, { recursive: true, force: true })
    })()
    await stopped
  }
  const onAbort = (): void => { void stop() }
  options.signal?.addEventListener('abort', onAbort, { once: true })

  try {
    const port = await waitForListening(child, options.startTimeoutMs ?? 15_000, options.signal)
    const rpcUrl = options.rpcUrl ?? `http://${options.host ?? '127.0.0.1'}:${port}`
    const config = JSON.parse(await readFile(configFile, 'utf8')) as { available_accounts: string[], private_keys: string[] }
    await waitForRpc(rpcUrl, options.startTimeoutMs ?? 15_000, options.signal)
    return {
      rpcUrl,
      chainId: BigInt(chainId),
      accounts: config.private_keys,
      addresses: config.available_accounts.map(a => a.toLowerCase()),
      pid: child.pid ?? -1,
      stop
    }
  } catch (err) {
    await stop()
    if (err instanceof ChainError) throw err
    throw new ChainError('CHAIN_ERROR_ANVIL', `anvil did not start: ${(err as Error).message}`, undefined, { cause: err })
  }
}

async function waitForListening (child: ChildProcess, timeoutMs: number, signal?: AbortSignal): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => { done(new ChainError('CHAIN_ERROR_ANVIL', `anvil did not listen within ${timeoutMs} ms: ${out.slice(-500)}`)) }, timeoutMs)
    const onData = (chunk: Buffer): void => {
      out += chunk.toString('utf8')
      const m = /Listening on [\d.]+:(\d+)/.exec(out)
      if (m !== null) done(undefined, Number(m[1]))
    }
    const onExit = (code: number | null): void => { done(new ChainError('CHAIN_ERROR_ANVIL', `anvil exited with ${code}: ${out.slice(-500)}`)) }
    const onError = (err: Error): void => { done(new ChainError('CHAIN_ERROR_ANVIL', `anvil could not be spawned: ${err.message}`, undefined, { cause: err })) }
    const onAbort = (): void => { done(new ChainError('CHAIN_ERROR_ANVIL', 'aborted')) }
    const done = (err?: Error, port?: number): void => {
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      child.stderr?.off('data', onData)
      child.off('exit', onExit)
      child.off('error', onError)
      signal?.removeEventListener('abort', onAbort)
      // keep draining the pipes so anvil never blocks on a full stdout
      child.stdout?.resume()
      child.stderr?.resume()
      if (err !== undefined) reject(err)
      else resolve(port as number)
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', onExit)
    child.once('error', onError)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Polls `eth_chainId` until the node answers, backing off from 100 ms to 2 s between
 * tries: many nodes starting at once on a busy machine (an emulated testnet of 50 hosts)
 * must not flood a slow chain with tries that make it slower. Each try may take up to 5 s.
 */
export async function waitForRpc (rpcUrl: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let pause = 100
  let last = 'no answer'
  for (;;) {
    signal?.throwIfAborted()
    try {
      const res = await fetch(rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
        signal: AbortSignal.timeout(Math.min(5_000, Math.max(1_000, deadline - Date.now())))
      })
      if (res.ok) { await res.json(); return }
      last = `HTTP ${res.status}`
    } catch (err) {
      const cause = (err as { cause?: { code?: unknown, message?: unknown } }).cause
      last = typeof cause?.code === 'string' ? cause.code : (typeof cause?.message === 'string' ? cause.message : (err as Error).message)
    }
    if (Date.now() > deadline) throw new ChainError('CHAIN_ERROR_RPC', `${rpcUrl} did not answer within ${Math.round(timeoutMs / 1000)} s (last try: ${last})`)
    await new Promise(resolve => setTimeout(resolve, Math.min(pause, Math.max(0, deadline - Date.now()))))
    pause = Math.min(2_000, Math.round(pause * 1.5))
  }
}

async function killChild (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
  const exited = new Promise<void>(resolve => child.once('exit', () => { resolve() }))
  child.kill('SIGTERM')
  const timer = setTimeout(() => { child.kill('SIGKILL') }, 2000)
  await exited
  clearTimeout(timer)
}
