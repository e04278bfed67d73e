/**
 * Remote workers as a `RunnerManager`: the capacity of every registered worker, job
 * slots counted here, jobs sent over `/shoal/worker-job`. Compose it with the local
 * manager (`createCompositeRunnerManager([local, workers])`) and the announcement
 * carries worker capacity, gaining it on registration and losing it at once when a
 * worker goes away (its running jobs fail with `RUNNER_ERROR_UNREACHABLE`).
 */
import { modelKey, type ModelKey } from '../../kernel/model-key.js'
import { EventEmitter } from 'node:events'
import { RunnerUnavailableError } from '../../inference/managers/errors.js'
import { capabilitiesOf, pickRunner, takeSlot, type RunnerSlots } from '../../inference/managers/slots.js'
import type { ModelCapability, RunnerLease, RunnerManager, RunnerManagerEvents } from '../../inference/managers/types.js'
import type { PipelineName } from '../../kernel/pipelines.js'
import type { RunnerClient } from '../../inference/runner-client/index.js'
import { silentLogger } from '../../observability/logger.js'
import type { AiMetrics } from '../../protocols/ai/index.js'
import {
  createWorkerJobClient,
  createWorkerServer,
  DEFAULT_WORKER_JOB_DEADLINE_MS,
  type WorkerMetrics,
  type WorkerRegistrar,
  type WorkerServer,
  type WorkerServerInit,
  type WorkerSession
} from '../../protocols/worker/index.js'
import { createWorkerRunnerClient } from './runner-client.js'

export interface WorkerRunnerManagerInit extends Omit<WorkerServerInit, 'metrics'> {
  /** where `/shoal/worker/2.0.0` is registered: the orchestrator's libp2p node */
  registrar: WorkerRegistrar
  metrics?: WorkerMetrics | null
  /** metrics of the job streams to workers (a registry without the orchestrator's own ai metrics) @default none */
  jobMetrics?: AiMetrics | null
  /** a job's budget on a worker when `run()` gets no signal @default 600_000 */
  jobDeadlineMs?: number
}

/** One registered worker, for diagnostics and the CLI. */
export interface WorkerStatus {
  peerId: string
  registeredAt: number
  capabilities: ModelCapability[]
}

export interface WorkerRunnerManager extends RunnerManager {
  /** the control protocol end (sessions and their events) */
  readonly server: WorkerServer
  workers: () => WorkerStatus[]
}

/** A worker's runner: slots counted by this orchestrator, the worker's capacity and warmth. */
interface WorkerSlots extends RunnerSlots {
  capacity: number
  client: RunnerClient
}

export function createWorkerRunnerManager (init: WorkerRunnerManagerInit): WorkerRunnerManager {
  const log = (init.logger ?? silentLogger()).child({ component: 'worker-manager' })
  const metrics = init.metrics ?? null
  const jobDeadlineMs = init.jobDeadlineMs ?? DEFAULT_WORKER_JOB_DEADLINE_MS
  const emitter = new EventEmitter<RunnerManagerEvents>()
  const server = createWorkerServer({ ...init, logger: log, metrics })
  const jobs = createWorkerJobClient({ session: (peer) => server.session(peer), logger: log, metrics: init.jobMetrics ?? null })
  /** per worker session, its runners by (pipeline, model) */
  const workers = new Map<WorkerSession, Map<ModelKey, WorkerSlots>>()
  let started = false

  const changed = (): void => {
    if (metrics !== null) {
      let slots = 0
      for (const runners of workers.values()) for (const r of runners.values()) if (r.available) slots += r.capacity
      metrics.workerSlots.set(slots)
    }
    emitter.emit('change')
  }

  /** Applies the session's runner list, keeping the slots (and their leases) of runners still offered. */
  function apply (session: WorkerSession): void {
    const previous = workers.get(session) ?? new Map<ModelKey, WorkerSlots>()
    const next = new Map<ModelKey, WorkerSlots>()
    for (const runner of session.runners) {
      const pipeline = runner.pipeline as PipelineName
      const key = modelKey({ pipeline, modelId: runner.modelId })
      let slots = previous.get(key)
      if (slots === undefined) {
        const created: WorkerSlots = {
          pipeline,
          modelId: runner.modelId,
          capacity: runner.capacity,
          inUse: 0,
          warm: runner.warm,
          available: runner.capacity > 0,
          version: runner.runnerVersion,
          client: undefined as unknown as RunnerClient
        }
        created.client = createWorkerRunnerClient({
          session,
          pipeline,
          modelId: runner.modelId,
          runnerVersion: () => created.version,
          capacity: () => created.capacity,
          jobs,
          jobDeadlineMs,
          metrics
        })
        slots = created
      }
      slots.capacity = runner.capacity
      slots.warm = runner.warm
      slots.available = runner.capacity > 0
      slots.version = runner.runnerVersion
      next.set(key, slots)
    }
    // runners no longer offered: leases still out release into objects nobody counts
    for (const [key, slots] of previous) if (!next.has(key)) slots.available = false
    workers.set(session, next)
    changed()
  }

  server.on('registered', apply)
  server.on('updated', apply)
  server.on('ended', (session, reason) => {
    const runners = workers.get(session)
    if (runners === undefined) return
    workers.delete(session)
    for (const slots of runners.values()) slots.available = false
    const running = [...runners.values()].reduce((n, s) => n + s.inUse, 0)
    log.info({ worker: session.peerId.toString(), reason, running }, running > 0 ? 'worker gone: its capacity is withdrawn and its running jobs fail over' : 'worker gone: its capacity is withdrawn')
    changed()
  })

  function allSlots (): WorkerSlots[] {
    const out: WorkerSlots[] = []
    for (const runners of workers.values()) out.push(...runners.values())
    return out
  }

  return Object.assign(emitter, {
    server,
    async start (options: { signal?: AbortSignal } = {}): Promise<void> {
      options.signal?.throwIfAborted()
      if (started) return
      await server.start()
      await jobs.start()
      started = true
    },
    async stop (): Promise<void> {
      if (!started) return
      started = false
      await server.stop()
      await jobs.stop()
      workers.clear()
      changed()
    },
    capabilities: (): ModelCapability[] => capabilitiesOf(allSlots()),
    async acquire (pipeline: PipelineName, modelId: string, options: { signal?: AbortSignal } = {}): Promise<RunnerLease> {
      options.signal?.throwIfAborted()
      if (!started) throw new RunnerUnavailableError(pipeline, modelId)
      const slots = pickRunner(allSlots(), pipeline, modelId)
      const release = takeSlot(slots, changed)
      return { client: slots.client, release }
    },
    workers: (): WorkerStatus[] => [...workers].map(([session, runners]) => ({
      peerId: session.peerId.toString(),
      registeredAt: session.registeredAt,
      capabilities: capabilitiesOf(runners.values())
    }))
  })
}
