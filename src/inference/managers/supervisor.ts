/**
 * One runner's life, the same for a child process and a Docker container: start it and
 * wait until it is healthy with the right model; then watch `/health`, take it out of
 * rotation while it reports LOADING, remove it when it reports ERROR, fails
 * `failuresBeforeRestart` checks in a row or dies; restart a warm one with back-off.
 * The managers supply only how an instance is launched and disposed of (a backend) and
 * the bookkeeping around it (slots, capacity). Every decision is on typed values
 * (`HealthCheck`, `RemovalReason`), never on message strings.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from '../../observability/logger.js'
import type { PipelineName } from '../../kernel/pipelines.js'
import type { RunnerClient } from '../runner-client/index.js'
import { RunnerStartError } from './errors.js'
import { anySignal } from '../../signals/any-signal.js'

/** What one `/health` (and `/version`) check found. */
export type HealthCheck =
  | { kind: 'ready', version: string }
  /** the model is (re)loading: alive, but not for jobs now */
  | { kind: 'loading' }
  /** the runner says it is broken: final */
  | { kind: 'error' }
  | { kind: 'wrong-model', pipeline: string, modelId: string }
  /** no answer, a bad answer, or a status this code does not know */
  | { kind: 'unreachable', message: string }

/** One line for logs and error messages. */
export function describeHealth (health: HealthCheck): string {
  switch (health.kind) {
    case 'ready': return `ready (${health.version})`
    case 'loading': return 'health LOADING'
    case 'error': return 'health ERROR'
    case 'wrong-model': return `serves ${health.pipeline} ${health.modelId}`
    case 'unreachable': return health.message
  }
}

/** Checks one runner: OK/IDLE with the configured model is ready; anything else says why not. */
export async function checkRunner (client: RunnerClient, pipeline: PipelineName, modelId: string, signal: AbortSignal): Promise<HealthCheck> {
  try {
    const { status } = await client.health({ signal })
    if (status === 'LOADING') return { kind: 'loading' }
    if (status === 'ERROR') return { kind: 'error' }
    if (status !== 'OK' && status !== 'IDLE') return { kind: 'unreachable', message: `health ${String(status)}` }
    const version = await client.version({ signal })
    if (version.pipeline !== pipeline || version.model_id !== modelId) return { kind: 'wrong-model', pipeline: version.pipeline, modelId: version.model_id }
    return { kind: 'ready', version: version.version }
  } catch (err) {
    return { kind: 'unreachable', message: (err as Error).message }
  }
}

/** How an instance ended on its own. */
export interface InstanceExit { code: number | null, signal: string | null }

/** Why an instance leaves service. */
export type RemovalReason =
  | { kind: 'exited', exit: InstanceExit }
  /** did not become healthy */
  | { kind: 'start-failed' }
  | { kind: 'reported-error' }
  | { kind: 'failed-checks', failures: number, last: HealthCheck }
  /** its slot went to another model (Docker) */
  | { kind: 'evicted' }
  | { kind: 'stopped' }

export function describeRemoval (reason: RemovalReason): string {
  switch (reason.kind) {
    case 'exited': return `exited (code ${reason.exit.code ?? '?'}${reason.exit.signal === null ? '' : `, signal ${reason.exit.signal}`})`
    case 'start-failed': return 'start failed'
    case 'reported-error': return 'reported ERROR'
    case 'failed-checks': return `${reason.failures} failed health checks (${describeHealth(reason.last)})`
    case 'evicted': return 'evicted'
    case 'stopped': return 'stopped'
  }
}

/** A started process or container with its client. */
export interface RunnerInstance {
  readonly client: RunnerClient
  /** settles when the instance dies on its own (never rejects) */
  readonly exited: Promise<InstanceExit>
  /** asks whether it still runs, for backends whose exit notice may be late (Docker); null: running */
  probe?: () => Promise<InstanceExit | null>
  /** its last output lines, for error messages */
  tail: () => Promise<string>
  /** fields naming it in logs (pid, container) */
  describe: () => Record<string, unknown>
}

export interface RunnerBackend<I extends RunnerInstance> {
  /**
   * Starts one instance and resolves once it listens (it may still be loading its model).
   * Cleans up after itself when it throws; a `RunnerStartError` is passed on as it is.
   */
  launch: (signal: AbortSignal) => Promise<I>
  /** Stops the instance (gracefully when `reason` is 'stopped') and frees what it held. */
  dispose: (instance: I, reason: RemovalReason) => Promise<void>
}

export interface SupervisorOptions {
  pipeline: PipelineName
  modelId: string
  /** restart after an exit or a removal (warm entries) */
  restart: boolean
  startupTimeoutMs: number
  /** /health polling while starting */
  startupPollMs: number
  healthIntervalMs: number
  healthTimeoutMs: number
  failuresBeforeRestart: number
  /** first restart delay; doubles up to `maxRestartDelayMs`, back to this once ready */
  restartDelayMs: number
  /** @default 30000 */
  maxRestartDelayMs?: number
  logger: Logger
  /** the state, the instance or its version changed */
  onChange: () => void
}

/** idle: no instance; starting: launched, not yet healthy; ready: in rotation; loading: up, out of rotation. */
export type SupervisorState = 'idle' | 'starting' | 'ready' | 'loading'

export interface RunnerSupervisor<I extends RunnerInstance> {
  readonly state: SupervisorState
  readonly instance: I | null
  /** the runner's `/version`, once ready */
  readonly version: string | null
  /** a start in progress */
  readonly starting: Promise<RunnerClient> | null
  /** Starts the runner unless it runs or starts; resolves with its client once healthy. */
  ensureStarted: () => Promise<RunnerClient>
  /** Takes the instance out of service at once and disposes of it; a warm runner restarts. */
  remove: (reason: RemovalReason) => void
  /** Stops the runner for good (waits for a start in progress to end first). */
  stop: () => Promise<void>
}

const DEFAULT_MAX_RESTART_DELAY_MS = 30_000

export function createRunnerSupervisor<I extends RunnerInstance> (backend: RunnerBackend<I>, opts: SupervisorOptions): RunnerSupervisor<I> {
  const { pipeline, modelId, logger } = opts
  const lifetime = new AbortController()
  let state: SupervisorState = 'idle'
  let instance: I | null = null
  let version: string | null = null
  let starting: Promise<RunnerClient> | null = null
  let failures = 0
  let restartDelay = opts.restartDelayMs
  let restartTimer: NodeJS.Timeout | null = null
  let healthTimer: NodeJS.Timeout | null = null
  const disposals = new Set<Promise<void>>()

  const describe = (): Record<string, unknown> => ({ pipeline, modelId, ...instance?.describe() })

  function dispose (target: I, reason: RemovalReason): void {
    // started synchronously: a backend frees what it held (a Docker slot) before its first await
    const done = backend.dispose(target, reason).catch((err: unknown) => {
      logger.error({ err, pipeline, modelId, ...target.describe() }, 'could not dispose of runner')
    })
    disposals.add(done)
    void done.finally(() => disposals.delete(done))
  }

  async function launchAndWait (): Promise<RunnerClient> {
    const signal = anySignal([lifetime.signal, AbortSignal.timeout(opts.startupTimeoutMs)])
    const began = Date.now()
    const launched = await backend.launch(signal)
    instance = launched
    const fail = async (message: string, cause?: unknown): Promise<RunnerStartError> => {
      const tail = (await launched.tail().catch(() => '')).trim().split('\n').slice(-3).join('\n')
      return new RunnerStartError(`runner for ${pipeline} ${modelId} ${message}${tail === '' ? '' : `: ${tail}`}`, describe(), { cause })
    }
    const exitedWhileLoading = launched.exited.then((exit) => ({ exit }))
    try {
      // LOADING is expected while the model loads; ERROR or an exit is final
      for (;;) {
        const result = await Promise.race([
          checkRunner(launched.client, pipeline, modelId, anySignal([signal, AbortSignal.timeout(opts.healthTimeoutMs)])),
          exitedWhileLoading
        ])
        if ('exit' in result) throw await fail(`${describeRemoval({ kind: 'exited', exit: result.exit })} while loading its model`)
        if (result.kind === 'ready') {
          version = result.version
          break
        }
        if (result.kind === 'error') throw await fail('reported ERROR while loading its model')
        if (lifetime.signal.aborted) throw await fail('start cancelled')
        if (signal.aborted) throw await fail(`was not healthy within ${opts.startupTimeoutMs} ms (${describeHealth(result)})`)
        if (result.kind !== 'loading' && launched.probe !== undefined) {
          const exit = await launched.probe()
          if (exit !== null) throw await fail(`${describeRemoval({ kind: 'exited', exit })} while starting`)
        }
        await sleep(opts.startupPollMs, undefined, { signal }).catch(() => {})
      }
    } catch (err) {
      instance = null
      version = null
      await backend.dispose(launched, lifetime.signal.aborted ? { kind: 'stopped' } : { kind: 'start-failed' }).catch(() => {})
      throw err instanceof RunnerStartError ? err : await fail((err as Error).message, err)
    }
    state = 'ready'
    failures = 0
    restartDelay = opts.restartDelayMs
    logger.info({ ...describe(), ms: Date.now() - began }, 'runner ready')
    void launched.exited.then((exit) => {
      if (instance === launched && !lifetime.signal.aborted) remove({ kind: 'exited', exit })
    })
    scheduleHealth(launched)
    opts.onChange()
    return launched.client
  }

  function ensureStarted (): Promise<RunnerClient> {
    if (lifetime.signal.aborted) return Promise.reject(new RunnerStartError(`runner for ${pipeline} ${modelId} is stopped`, { pipeline, modelId }))
    if (instance !== null && (state === 'ready' || state === 'loading')) return Promise.resolve(instance.client)
    if (starting !== null) return starting
    state = 'starting'
    const promise = launchAndWait().catch((err: unknown) => {
      state = 'idle'
      opts.onChange()
      throw err
    }).finally(() => { starting = null })
    // a caller may stop waiting (abort); the outcome is handled above either way
    promise.catch(() => {})
    starting = promise
    opts.onChange()
    return promise
  }

  async function check (target: I): Promise<void> {
    const result = await checkRunner(target.client, pipeline, modelId, anySignal([lifetime.signal, AbortSignal.timeout(opts.healthTimeoutMs)]))
    if (lifetime.signal.aborted || instance !== target) return
    switch (result.kind) {
      case 'ready':
        failures = 0
        version = result.version
        if (state === 'loading') {
          logger.info(describe(), 'runner back in rotation')
          state = 'ready'
          opts.onChange()
        }
        return
      case 'loading':
        failures = 0
        if (state === 'ready') {
          logger.warn(describe(), 'runner LOADING: out of rotation')
          state = 'loading'
          opts.onChange()
        }
        return
      case 'error':
        remove({ kind: 'reported-error' })
        return
      case 'wrong-model':
      case 'unreachable':
        failures++
        logger.warn({ ...describe(), reason: describeHealth(result), failures }, 'runner health check failed')
        if (failures >= opts.failuresBeforeRestart) remove({ kind: 'failed-checks', failures, last: result })
    }
  }

  function scheduleHealth (target: I): void {
    healthTimer = setTimeout(() => {
      healthTimer = null
      void check(target).catch((err: unknown) => { logger.error({ err, ...describe() }, 'runner health check crashed') })
        .finally(() => { if (instance === target && !lifetime.signal.aborted) scheduleHealth(target) })
    }, opts.healthIntervalMs)
    healthTimer.unref()
  }

  function remove (reason: RemovalReason): void {
    const target = instance
    if (target === null) return
    logger.warn({ ...describe(), reason: describeRemoval(reason) }, 'runner out of service')
    instance = null
    version = null
    state = 'idle'
    failures = 0
    if (healthTimer !== null) clearTimeout(healthTimer)
    healthTimer = null
    dispose(target, reason)
    opts.onChange()
    if (opts.restart && reason.kind !== 'stopped') scheduleRestart()
  }

  function scheduleRestart (): void {
    if (restartTimer !== null || lifetime.signal.aborted) return
    const delay = restartDelay
    restartDelay = Math.min(delay * 2, opts.maxRestartDelayMs ?? DEFAULT_MAX_RESTART_DELAY_MS)
    restartTimer = setTimeout(() => {
      restartTimer = null
      if (lifetime.signal.aborted || state !== 'idle') return
      logger.info({ pipeline, modelId, delay }, 'restarting runner')
      ensureStarted().catch((err: unknown) => {
        if (lifetime.signal.aborted) return
        logger.error({ err, pipeline, modelId }, 'runner restart failed')
        scheduleRestart()
      })
    }, delay)
    restartTimer.unref()
  }

  async function stop (): Promise<void> {
    if (lifetime.signal.aborted) return
    lifetime.abort()
    if (restartTimer !== null) clearTimeout(restartTimer)
    if (healthTimer !== null) clearTimeout(healthTimer)
    await starting?.catch(() => {})
    const target = instance
    instance = null
    version = null
    state = 'idle'
    if (target !== null) dispose(target, { kind: 'stopped' })
    await Promise.all([...disposals])
  }

  return {
    get state () { return state },
    get instance () { return instance },
    get version () { return version },
    get starting () { return starting },
    ensureStarted,
    remove,
    stop
  }
}
