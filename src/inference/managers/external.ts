/**
 * Runners someone else runs (`aiModels.json` entries with `url`, optional `token`):
 * checked with `/health` (and `/version` once healthy) at start and then periodically;
 * a runner that fails `failuresBeforeUnhealthy` checks in a row is out of the pool
 * until a check succeeds again.
 */
import { EventEmitter } from 'node:events'
import { silentLogger, type Logger } from '../../observability/logger.js'
import type { ModelEntry } from '../models-config.js'
import { createRunnerClient, type RunnerClient, type RunnerClientOptions } from '../runner-client/index.js'
import type { PipelineName } from '../../kernel/pipelines.js'
import { capabilitiesOf, pickRunner, takeSlot, type RunnerSlots } from './slots.js'
import { checkRunner, describeHealth } from './supervisor.js'
import type { ModelCapability, RunnerLease, RunnerManager, RunnerManagerEvents } from './types.js'
import { anySignal } from '../../signals/any-signal.js'

export interface ExternalRunnerManagerOptions {
  /** entries with `url`; others are refused */
  entries: readonly ModelEntry[]
  logger?: Logger
  /** @default 5000 */
  healthIntervalMs?: number
  /** @default 2000 */
  healthTimeoutMs?: number
  /** failed checks in a row before a healthy runner leaves the pool. @default 2 */
  failuresBeforeUnhealthy?: number
  /** passed to each runner's client */
  client?: Omit<RunnerClientOptions, 'url' | 'token'>
}

export const defaultExternalRunnerManagerOptions = {
  healthIntervalMs: 5_000,
  healthTimeoutMs: 2_000,
  failuresBeforeUnhealthy: 2
} as const

interface ExternalRunner extends RunnerSlots {
  readonly url: string
  readonly client: RunnerClient
  failures: number
}

export function createExternalRunnerManager (options: ExternalRunnerManagerOptions): RunnerManager {
  const opts = { ...defaultExternalRunnerManagerOptions, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as Required<Omit<ExternalRunnerManagerOptions, 'logger' | 'client'>> & ExternalRunnerManagerOptions
  const logger = opts.logger ?? silentLogger()
  const emitter = new EventEmitter<RunnerManagerEvents>()
  const emitChange = (): void => { emitter.emit('change') }
  const runners: ExternalRunner[] = opts.entries.map((entry, index) => {
    if (entry.url === undefined) throw new TypeError(`entry ${index} (${entry.pipeline} ${entry.modelId}) has no url; it is not an external runner`)
    return {
      pipeline: entry.pipeline,
      modelId: entry.modelId,
      capacity: entry.capacity,
      url: entry.url,
      client: createRunnerClient({ ...opts.client, url: entry.url, ...(entry.token === undefined ? {} : { token: entry.token }) }),
      inUse: 0,
      warm: false,
      available: false,
      version: null,
      failures: 0
    }
  })
  let controller: AbortController | null = null
  let timer: NodeJS.Timeout | null = null

  async function check (runner: ExternalRunner, signal: AbortSignal): Promise<void> {
    const result = await checkRunner(runner.client, runner.pipeline, runner.modelId, anySignal([signal, AbortSignal.timeout(opts.healthTimeoutMs)]))
    if (signal.aborted) return
    const before = runner.available
    if (result.kind === 'ready') {
      runner.failures = 0
      runner.available = runner.warm = true
      runner.version = result.version
    } else {
      runner.failures++
      if (!runner.available || runner.failures >= opts.failuresBeforeUnhealthy) runner.available = runner.warm = false
    }
    if (before !== runner.available) {
      logger.info({ url: runner.url, pipeline: runner.pipeline, modelId: runner.modelId, healthy: runner.available, reason: describeHealth(result) }, 'external runner health changed')
      emitChange()
    }
  }

  async function checkAll (signal: AbortSignal): Promise<void> {
    await Promise.all(runners.map(async (runner) => { await check(runner, signal) }))
  }

  function schedule (signal: AbortSignal): void {
    timer = setTimeout(() => {
      void checkAll(signal).finally(() => { if (!signal.aborted) schedule(signal) })
    }, opts.healthIntervalMs)
    timer.unref()
  }

  return Object.assign(emitter, {
    start: async ({ signal }: { signal?: AbortSignal } = {}) => {
      if (controller !== null) return
      controller = new AbortController()
      const own = controller.signal
      await checkAll(signal === undefined ? own : anySignal([own, signal]))
      for (const runner of runners) {
        if (!runner.available) logger.warn({ url: runner.url, pipeline: runner.pipeline, modelId: runner.modelId }, 'external runner not healthy at start')
      }
      schedule(own)
    },
    stop: async () => {
      controller?.abort()
      if (timer !== null) clearTimeout(timer)
      for (const runner of runners) runner.client.close()
    },
    capabilities: (): ModelCapability[] => capabilitiesOf(runners),
    acquire: async (pipeline: PipelineName, modelId: string, { signal }: { signal?: AbortSignal } = {}): Promise<RunnerLease> => {
      signal?.throwIfAborted()
      const runner = pickRunner(runners, pipeline, modelId)
      return { client: runner.client, release: takeSlot(runner, emitChange) }
    }
  })
}
