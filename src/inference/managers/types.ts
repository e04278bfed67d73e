import type { EventEmitter } from 'node:events'
import type { PipelineName } from '../../kernel/pipelines.js'
import type { RunnerClient } from '../runner-client/index.js'

/** What a manager serves now for one (pipeline, model). */
export interface ModelCapability {
  pipeline: PipelineName
  modelId: string
  /** a runner with the model loaded is up (no cold start needed) */
  warm: boolean
  /** jobs that may run at once */
  capacity: number
  /** jobs running now (leases held) */
  inUse: number
  /** the runner's `/version`, when known */
  runnerVersion: string | null
}

/** One reserved job slot on a runner. Call `release()` when the job is done (idempotent). */
export interface RunnerLease {
  client: RunnerClient
  release: () => void
}

export interface RunnerManagerEvents {
  /** `capabilities()` changed: a slot was taken or freed, a model warmed, a runner came or went */
  change: []
}

/**
 * Owns a set of runners and hands out job slots on them. Capacity is per model entry:
 * `capacity` jobs at once; a full model is refused at once, never queued.
 */
export interface RunnerManager extends EventEmitter<RunnerManagerEvents> {
  /** Starts the runners marked warm (and health checks); rejects if one cannot start. */
  start: (options?: { signal?: AbortSignal }) => Promise<void>
  /** Stops every runner it started (by pid), stops health checks. Idempotent. */
  stop: () => Promise<void>
  /** What is served now, one entry per (pipeline, modelId). */
  capabilities: () => ModelCapability[]
  /**
   * Reserves a slot, starting a cold runner when needed. Throws
   * `InsufficientCapacityError` when all slots are taken, `UnsupportedModelError` when the
   * model is not served, `RunnerUnavailableError` when its runners are down,
   * `RunnerStartError` when a cold start fails.
   */
  acquire: (pipeline: PipelineName, modelId: string, options?: { signal?: AbortSignal }) => Promise<RunnerLease>
}
