/**
 * Managed CPU runners: one `shoal runner` child process per `aiModels.json` entry
 * (without `url`), serving `capacity` jobs at once. Warm entries start with the manager
 * and are restarted (with backoff) when they die; cold ones start on their first
 * `acquire` and restart only on demand. Children are health-checked (a LOADING runner is
 * out of rotation until it answers OK; see supervisor.ts), listen on
 * 127.0.0.1 on a port they pick, exit when this process's pipe to them closes (so
 * they do not outlive a killed orchestrator), and are stopped by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { EventEmitter, once } from 'node:events'
import { availableParallelism } from 'node:os'
import { createInterface } from 'node:readline'
import { silentLogger, type Logger } from '../../observability/logger.js'
import { raceSignal } from '../../signals/race-signal.js'
import type { ModelEntry } from '../models-config.js'
import type { PipelineName } from '../../kernel/pipelines.js'
import { assertCpuModelSupported } from '../../cpu-runner/models/index.js'
import { createRunnerClient, type RunnerClientOptions } from '../runner-client/index.js'
import { RunnerStartError } from './errors.js'
import { defaultRunnerCommand, type RunnerCommand } from './runner-command.js'
import { capabilitiesOf, pickRunner, takeSlot, type RunnerSlots } from './slots.js'
import { createRunnerSupervisor, type RunnerInstance, type RunnerSupervisor } from './supervisor.js'
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

const STDERR_TAIL_BYTES = 4096
const STARTUP_POLL_MS = 100

interface ProcessInstance extends RunnerInstance {
  readonly child: ChildProcess
}

interface ProcessRunner extends RunnerSlots {
  readonly entry: ModelEntry
  readonly supervisor: RunnerSupervisor<ProcessInstance>
}

export function createProcessRunnerManager (options: ProcessRunnerManagerOptions): RunnerManager {
  const opts = { ...defaultProcessRunnerManagerOptions, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof defaultProcessRunnerManagerOptions & ProcessRunnerManagerOptions
  const logger = opts.logger ?? silentLogger()
  const command = opts.command ?? defaultRunnerCommand()
  const emitter = new EventEmitter<RunnerManagerEvents>()
  const emitChange = (): void => { emitter.emit('change') }
  const children = new Set<ChildProcess>()
  let started = false
  let stopped = false

  /** Spawns `shoal runner` and resolves once it prints the URL it listens on. */
  async function spawnRunner (entry: ModelEntry, signal: AbortSignal): Promise<ProcessInstance> {
    // a fresh token per child: only this manager may send it jobs, even from another local user
    const token = randomBytes(24).toString('base64url')
    const flags = Object.fromEntries(Object.entries(entry.optimizationFlags).map(([name, value]) => [name, String(value)]))
    const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env, ...flags, PIPELINE: entry.pipeline, MODEL_ID: entry.modelId, HOST: '127.0.0.1', PORT: '0', AUTH_TOKEN: token }
    const args = [
      ...command.args,
      '--exit-with-stdin',
      '--workers', String(Math.max(1, Math.min(entry.capacity, availableParallelism()))),
      '--max-queue', String(entry.capacity),
      ...(opts.maxInputPixels === undefined ? [] : ['--max-input-pixels', String(opts.maxInputPixels)])
    ]
    const child = spawn(command.execPath, args, { env, stdio: ['pipe', 'pipe', 'pipe'] })
    children.add(child)
    let stderrTail = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES)
    })
    const exited = once(child, 'exit').then(([code, sig]) => ({ code: code as number | null, signal: sig as string | null }), () => ({ code: null, signal: null }))
    void exited.then(() => children.delete(child))
    const tail = async (): Promise<string> => stderrTail
    const fail = (message: string, cause?: unknown): RunnerStartError => {
      const last = stderrTail.trim().split('\n').slice(-3).join('\n')
      return new RunnerStartError(`runner for ${entry.pipeline} ${entry.modelId} ${message}${last === '' ? '' : `: ${last}`}`, { pipeline: entry.pipeline, modelId: entry.modelId, pid: child.pid ?? null }, { cause })
    }
    const lines = createInterface({ input: child.stdout! })
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const onAbort = (): void => { reject(fail(stopped ? 'start cancelled' : `did not listen within ${opts.startupTimeoutMs} ms`)) }
        if (signal.aborted) onAbort()
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
      lines.close()
      child.stdout?.resume()
      logger.info({ pipeline: entry.pipeline, modelId: entry.modelId, pid: child.pid, url }, 'runner listening')
      return { child, client: createRunnerClient({ ...opts.client, url, token }), exited, tail, describe: () => ({ pid: child.pid ?? null }) }
    } catch (err) {
      lines.close()
      await terminate(child, opts.stopTimeoutMs)
      throw err
    }
  }

  const runners: ProcessRunner[] = opts.entries.map((entry, index) => {
    if (entry.url !== undefined) throw new TypeError(`entry ${index} (${entry.pipeline} ${entry.modelId}) has a url; it is an external runner`)
    // refuse at once what `shoal runner` would refuse at its start
    assertCpuModelSupported(entry.pipeline, entry.modelId)
    const supervisor = createRunnerSupervisor<ProcessInstance>({
      launch: async (signal) => await spawnRunner(entry, signal),
      dispose: async (instance, reason) => {
        instance.client.close()
        // a runner that stopped answering or reported ERROR gets no grace period
        const grace = reason.kind === 'failed-checks' || reason.kind === 'reported-error' ? 0 : opts.stopTimeoutMs
        await terminate(instance.child, grace)
      }
    }, {
      pipeline: entry.pipeline,
      modelId: entry.modelId,
      restart: entry.warm,
      startupTimeoutMs: opts.startupTimeoutMs,
      startupPollMs: STARTUP_POLL_MS,
      healthIntervalMs: opts.healthIntervalMs,
      healthTimeoutMs: opts.healthTimeoutMs,
      failuresBeforeRestart: opts.failuresBeforeRestart,
      restartDelayMs: opts.restartDelayMs,
      logger,
      onChange: emitChange
    })
    return {
      entry,
      supervisor,
      pipeline: entry.pipeline,
      modelId: entry.modelId,
      capacity: entry.capacity,
      inUse: 0,
      // a runner that is not running starts on demand; one that is LOADING is out of rotation
      get available () { return !stopped && supervisor.state !== 'loading' },
      get warm () { return supervisor.state === 'ready' },
      get version () { return supervisor.version }
    }
  })
  const killAllNow = (): void => { for (const child of children) child.kill('SIGKILL') }

  return Object.assign(emitter, {
    start: async ({ signal }: { signal?: AbortSignal } = {}) => {
      if (started) return
      started = true
      process.once('exit', killAllNow)
      const warm = runners.filter((r) => r.entry.warm)
      await raceSignal(Promise.all(warm.map(async (r) => await r.supervisor.ensureStarted())), signal)
    },
    stop: async () => {
      if (stopped) return
      stopped = true
      await Promise.all(runners.map(async (r) => { await r.supervisor.stop() }))
      process.off('exit', killAllNow)
      emitChange()
    },
    capabilities: (): ModelCapability[] => capabilitiesOf(runners),
    acquire: async (pipeline: PipelineName, modelId: string, { signal }: { signal?: AbortSignal } = {}): Promise<RunnerLease> => {
      signal?.throwIfAborted()
      const runner = pickRunner(runners, pipeline, modelId)
      const release = takeSlot(runner, emitChange)
      try {
        const client = await raceSignal(runner.supervisor.ensureStarted(), signal)
        return { client, release }
      } catch (err) {
        release()
        throw err
      }
    }
  })
}

/** SIGTERM, then SIGKILL after `graceMs` (at once when 0); resolves when the child is gone. */
async function terminate (child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
  const exited = once(child, 'exit').catch(() => {})
  const pid = child.pid
  // SIGTERM alone: closing its stdin too would make it signal itself a second time (an abrupt exit)
  try { process.kill(pid, graceMs === 0 ? 'SIGKILL' : 'SIGTERM') } catch {}
  const timer = setTimeout(() => { try { process.kill(pid, 'SIGKILL') } catch {} }, graceMs)
  await exited
  clearTimeout(timer)
}
