/**
 * Slot bookkeeping shared by the managers: per runner, how many jobs it may run and
 * runs, and the choice of a runner for a job.
 */
import { modelKey, type ModelKey } from '../../kernel/model-key.js'
import type { PipelineName } from '../../kernel/pipelines.js'
import { InsufficientCapacityError, RunnerUnavailableError, UnsupportedModelError } from './errors.js'
import type { ModelCapability } from './types.js'

export interface RunnerSlots {
  readonly pipeline: PipelineName
  readonly modelId: string
  readonly capacity: number
  inUse: number
  /** healthy with the model loaded: takes a job without a cold start */
  warm: boolean
  /** can take jobs: warm, or (managed) startable on demand */
  available: boolean
  version: string | null
}

/** Merges runners into one capability per (pipeline, modelId); unavailable runners count for nothing. */
export function capabilitiesOf (runners: Iterable<RunnerSlots>): ModelCapability[] {
  const merged = new Map<ModelKey, ModelCapability>()
  for (const runner of runners) {
    if (!runner.available) continue
    const k = modelKey(runner)
    const current = merged.get(k)
    if (current === undefined) {
      merged.set(k, { pipeline: runner.pipeline, modelId: runner.modelId, warm: runner.warm, capacity: runner.capacity, inUse: runner.inUse, runnerVersion: runner.version })
    } else {
      current.warm ||= runner.warm
      current.capacity += runner.capacity
      current.inUse += runner.inUse
      current.runnerVersion ??= runner.version
    }
  }
  return [...merged.values()]
}

/** Merges capability lists of several managers (same rules as `capabilitiesOf`). */
export function mergeCapabilities (lists: Iterable<ModelCapability[]>): ModelCapability[] {
  const runners: RunnerSlots[] = []
  for (const list of lists) for (const c of list) runners.push({ ...c, available: true, version: c.runnerVersion })
  return capabilitiesOf(runners)
}

/**
 * The runner a job for (pipeline, modelId) should take: a free slot on a warm runner
 * first (least loaded), then on a cold one. Throws when there is none.
 */
export function pickRunner<R extends RunnerSlots> (runners: Iterable<R>, pipeline: PipelineName, modelId: string): R {
  let configured = false
  let available = false
  let capacity = 0
  let best: R | null = null
  for (const runner of runners) {
    if (runner.pipeline !== pipeline || runner.modelId !== modelId) continue
    configured = true
    if (!runner.available) continue
    available = true
    capacity += runner.capacity
    if (runner.inUse >= runner.capacity) continue
    if (best === null || better(runner, best)) best = runner
  }
  if (best !== null) return best
  if (!configured) throw new UnsupportedModelError(pipeline, modelId)
  if (!available) throw new RunnerUnavailableError(pipeline, modelId)
  throw new InsufficientCapacityError(pipeline, modelId, capacity)
}

function better (a: RunnerSlots, b: RunnerSlots): boolean {
  if (a.warm !== b.warm) return a.warm
  return a.inUse / a.capacity < b.inUse / b.capacity
}

/** Takes one slot; the returned function frees it once, however often it is called. */
export function takeSlot (runner: RunnerSlots, onChange: () => void): () => void {
  runner.inUse++
  onChange()
  let released = false
  return () => {
    if (released) return
    released = true
    runner.inUse--
    onChange()
  }
}
