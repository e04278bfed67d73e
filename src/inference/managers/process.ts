/**
 * Managed CPU runners: one `shoal runner` child process per `aiModels.json` entry
 * (without `url`), serving `capacity` jobs at once. Warm entries start with the manager
 * and are restarted (with backoff) when they die; cold ones start on their first
 * `acquire` and restart only on demand. Children are health-checked, listen on
 * 127.0.0.1 on a port they pick, exit when this process's pipe to them closes (so
 * they do not outlive a killed orchestrator), and are stopped by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { EventEmitter, once } from 'node:events'
import { availableParallelism } from 'node:os'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { silentLogger, type Logger } from '../../observability/logger.js'
import { raceSignal } from '../../signals/race-signal.js'
import type { ModelEntry } from '../models-config.js'
import type { PipelineName } from '../../kernel/pipelines.js'
import { assertCpuModelSupported } from '../../cpu-runner/models/index.js'
import { createRunnerClient, type RunnerClient, type RunnerClientOptions } from '../runner-client/index.js'
import { RunnerStartError } from './errors.js'
import { checkRunner } from './external.js'
import { defaultRunnerCommand, type RunnerCommand } from './runner-command.js'
import { capabilitiesOf, pickRunner, takeSlot, type RunnerSlots } from './slots.js'
import type { ModelCapability, RunnerLease, RunnerManager, RunnerManagerEvents } from './types.js'

export interface ProcessRunnerManagerOptions {
  /** entries without `url` */
  entries: readonly ModelEntry[]
  /** how to start `shoal runner`. @default defaultRunnerCommand() */
  command?: RunnerCommand
  logger?: Logger
  /** longest wait for a runner to answer /health OK after spawning. @default 120000 */
  startupTimeoutMs?: number
  /** @default 5000 */
  healthIntervalMs?: number
  /** @default 2000 */
  healthTimeoutMs?: number
  /** failed checks in a row before a runner is killed (and restarted if warm). @default 2 */
  failuresBeforeRestart?: number
  /** wait after SIGTERM before SIGKILL. @default 5000 */
  stopTimeoutMs?: number
  /** first delay before restarting a dead warm runner; doubles up to 30 s. @default 1000 */
  restartDelayMs?: number
  /** passed to each runner as `--max-input-pixels` */
  maxInputPixels?: number
  /** extra environment for the children */
  env?: Record<string, string>
  /** passed to each runner's client */
  client?: Omit<RunnerClientOptions, 'url' | 'token'>
}

export const defaultProcessRunnerManagerOptions = {
  startupTimeoutMs: 120_000,
  healthIntervalMs: 5_000,
  healthTimeoutMs: 2_000,
  failuresBeforeRestart: 2,
  stopTimeoutMs: 5_000,
  restartDelayMs: 1_000
} as const

const MAX_RESTART_DELAY_MS = 30_000
const STDERR_TAIL_BYTES = 4096
const STARTUP_POLL_MS = 100

interface ProcessRunner extends RunnerSlots {
  readonly entry: ModelEntry
  child: ChildProcess | null
  client: RunnerClient | null
  starting: Promise<RunnerClient> | null
  failures: number
  restartDelay: number
  restartTimer: NodeJS.Timeout | null
  stderrTail: string
}

export function createProcessRunnerManager (options: ProcessRunnerManagerOptions): RunnerManager {
  const opts = { ...defaultProcessRunnerManagerOptions, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof defaultProcessRunnerManagerOptions & ProcessRunnerManagerOptions
  const logger = opts.logger ?? silentLogger()
  const command = opts.command ?? defaultRunnerCommand()
  const emitter = new EventEmitter<RunnerManagerEvents>()
  const emitChange = (): void => { emitter.emit('change') }
  const runners: ProcessRunner[] = opts.entries.map((entry, index) => {
    if (entry.url !== undefined) throw new TypeError(`entry ${index} (${entry.pipeline} ${entry.modelId}) has a url; it is an external runner`)
    // refuse at once what `shoal runner` would refuse at its start
    assertCpuModelSupported(entry.pipeline, entry.modelId)
    return {
      entry,
      pipeline: entry.pipeline,
      modelId: entry.modelId,
      capacity: entry.capacity,
      inUse: 0,
      warm: false,
      available: true,
      version: null,
      child: null,
      client: null,
      starting: null,
      failures: 0,
      restartDelay: opts.restartDelayMs,
      restartTimer: null,
      stderrTail: ''
    }
  })
  const lifetime = new AbortController()
  let started = false
  let healthTimer: NodeJS.Timeout | null = null
  const killAllNow = (): void => { for (const r of runners) r.child?.kill('SIGKILL') }

  function describe (runner: ProcessRunner): Record<string, unknown> {
    return { pipeline: runner.pipeline, modelId: runner.modelId, pid: runner.child?.pid ?? null }
  }

  /** Spawns the child, waits for its URL and then for /health OK. */
  async function spawnRunner (runner: ProcessRunner): Promise<RunnerClient> {
    const signal = AbortSignal.any([lifetime.signal, AbortSignal.timeout(opts.startupTimeoutMs)])
    // a fresh token per child: only this manager may send it jobs, even from another local user
    const token = randomBytes(24).toString('base64url')
    const flags = Object.fromEntries(Object.entries(runner.entry.optimizationFlags).map(([name, value]) => [name, String(value)]))
    const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env, ...flags, PIPELINE: runner.pipeline, MODEL_ID: runner.modelId, HOST: '127.0.0.1', PORT: '0', AUTH_TOKEN: token }
    const args = [
      ...command.args,
      '--exit-with-stdin',
      '--workers', String(Math.max(1, Math.min(runner.capacity, availableParallelism()))),
      '--max-queue', String(runner.capacity),
      ...(opts.maxInputPixels === undefined ? [] : ['--max-input-pixels', String(opts.maxInputPixels)])
    ]
    const child = spawn(command.execPath, args, { env, stdio: ['pipe', 'pipe', 'pipe'] })
    runner.child = child
    runner.stderrTail = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      runner.stderrTail = (runner.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES)
    })
    const exited = once(child, 'exit').then(([code, sig]) => ({ code: code as number | null, signal: sig as string | null }))
    child.once('exit', (code, sig) => { onExit(runner, child, code, sig) })
    const fail = (message: string, cause?: unknown): RunnerStartError => {
      const tail = runner.stderrTail.trim().split('\n').slice(-3).join('\n')
      return new RunnerStartError(`runner for ${runner.pipeline} ${runner.modelId} ${message}${tail === '' ? '' : `: ${tail}`}`, describe(runner), { cause })
    }
    let client: RunnerClient | null = null
    try {
      const lines = createInterface({ input: child.stdout! })
      const url = await new Promise<string>((resolve, reject) => {
        const onAbort = (): void => { reject(fail(lifetime.signal.aborted ? 'start cancelled' : `did not listen within ${opts.startupTimeoutMs} ms`)) }
        signal.addEventListener('abort', onAbort, { once: true })
        exited.then(({ code, signal: sig }) => { reject(fail(`exited (code ${code}, signal ${sig}) before listening`)) }, reject)
        child.once('error', (err) => { reject(fail(`could not be spawned (${err.message})`, err)) })
        lines.on('line', (line) => {
          try {
            const event = JSON.parse(line) as { event?: string, url?: string }
            if (event.event === 'listening' && typeof event.url === 'string') {
              signal.removeEventListener('abort', onAbort)
              resolve(event.url)
            }
          } catch {}
        })
      })
      client = createRunnerClient({ ...opts.client, url, token })
      const exitedWhileLoading = exited.then(({ code, signal: sig }) => { throw fail(`exited (code ${code}, signal ${sig}) while loading its model`) })
      exitedWhileLoading.catch(() => {})
      // poll until the model is loaded; LOADING is expected, ERROR or an exit is final
      for (;;) {
        const result = await Promise.race([
          checkRunner(client, runner.pipeline, runner.modelId, AbortSignal.any([signal, AbortSignal.timeout(opts.healthTimeoutMs)])),
          exitedWhileLoading
        ])
        if (result.healthy) {
          runner.version = result.version
          break
        }
        if (result.reason === 'health ERROR') throw fail('reported ERROR while loading its model')
        if (signal.aborted) throw fail(lifetime.signal.aborted ? 'start cancelled' : `was not healthy within ${opts.startupTimeoutMs} ms (${result.reason})`)
        await sleep(STARTUP_POLL_MS, undefined, { signal }).catch(() => {})
      }
      runner.client = client
      runner.warm = true
      runner.failures = 0
      runner.restartDelay = opts.restartDelayMs
      lines.close()
      child.stdout?.resume()
      logger.info({ ...describe(runner), url }, 'runner ready')
      emitChange()
      return client
    } catch (err) {
      client?.close()
      await terminate(child)
      if (runner.child === child) runner.child = null
      throw err instanceof RunnerStartError ? err : fail((err as Error).message, err)
    }
  }

  function onExit (runner: ProcessRunner, child: ChildProcess, code: number | null, sig: string | null): void {
    if (runner.child !== child) return
    const wasWarm = runner.warm
    runner.child = null
    runner.client?.close()
    runner.client = null
    runner.warm = false
    if (lifetime.signal.aborted) return
    if (wasWarm) {
      logger.warn({ pipeline: runner.pipeline, modelId: runner.modelId, code, signal: sig }, 'runner exited')
      emitChange()
    }
    if (runner.entry.warm && started && wasWarm) scheduleRestart(runner)
  }

  function scheduleRestart (runner: ProcessRunner): void {
    if (runner.restartTimer !== null || lifetime.signal.aborted) return
    const delay = runner.restartDelay
    runner.restartDelay = Math.min(delay * 2, MAX_RESTART_DELAY_MS)
    runner.restartTimer = setTimeout(() => {
      runner.restartTimer = null
      ensureRunning(runner).catch((err: unknown) => {
        logger.error({ err, pipeline: runner.pipeline, modelId: runner.modelId }, 'runner restart failed')
        scheduleRestart(runner)
      })
    }, delay)
    runner.restartTimer.unref()
  }

  async function ensureRunning (runner: ProcessRunner): Promise<RunnerClient> {
    if (runner.client !== null) return runner.client
    runner.starting ??= spawnRunner(runner).finally(() => { runner.starting = null })
    return await runner.starting
  }

  async function terminate (child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
    const exited = once(child, 'exit').catch(() => {})
    // SIGTERM alone: closing its stdin too would make it signal itself a second time (an abrupt exit)
    try { process.kill(child.pid, 'SIGTERM') } catch {}
    const timer = setTimeout(() => { try { if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL') } catch {} }, opts.stopTimeoutMs)
    await exited
    clearTimeout(timer)
  }

  async function checkHealth (): Promise<void> {
    await Promise.all(runners.map(async (runner) => {
      const client = runner.client
      const child = runner.child
      if (client === null || child === null) return
      const result = await checkRunner(client, runner.pipeline, runner.modelId, AbortSignal.any([lifetime.signal, AbortSignal.timeout(opts.healthTimeoutMs)]))
      if (lifetime.signal.aborted || runner.child !== child) return
      if (result.healthy) { runner.failures = 0; return }
      runner.failures++
      logger.warn({ ...describe(runner), reason: result.reason, failures: runner.failures }, 'runner health check failed')
      // the exit handler takes it out of the pool and restarts warm runners
      if (runner.failures >= opts.failuresBeforeRestart) child.kill('SIGKILL')
    }))
  }

  function scheduleHealth (): void {
    healthTimer = setTimeout(() => {
      void checkHealth().finally(() => { if (!lifetime.signal.aborted) scheduleHealth() })
    }, opts.healthIntervalMs)
    healthTimer.unref()
  }

  return Object.assign(emitter, {
    start: async ({ signal }: { signal?: AbortSignal } = {}) => {
      if (started) return
      started = true
      process.once('exit', killAllNow)
      const warm = runners.filter((r) => r.entry.warm)
      await raceSignal(Promise.all(warm.map(async (r) => await ensureRunning(r))), signal)
      scheduleHealth()
    },
    stop: async () => {
      if (lifetime.signal.aborted) return
      lifetime.abort()
      process.off('exit', killAllNow)
      if (healthTimer !== null) clearTimeout(healthTimer)
      for (const runner of runners) if (runner.restartTimer !== null) clearTimeout(runner.restartTimer)
      await Promise.all(runners.map(async (runner) => {
        await runner.starting?.catch(() => {})
        const child = runner.child
        if (child !== null) await terminate(child)
        runner.client?.close()
        runner.client = null
        runner.warm = false
        runner.available = false
      }))
      emitChange()
    },
    capabilities: (): ModelCapability[] => capabilitiesOf(runners),
    acquire: async (pipeline: PipelineName, modelId: string, { signal }: { signal?: AbortSignal } = {}): Promise<RunnerLease> => {
      signal?.throwIfAborted()
      const runner = pickRunner(runners, pipeline, modelId)
      const release = takeSlot(runner, emitChange)
      try {
        const client = await raceSignal(ensureRunning(runner), signal)
        return { client, release }
      } catch (err) {
        release()
        throw err
      }
    }
  })
}
