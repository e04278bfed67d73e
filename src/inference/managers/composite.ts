/**
 * Several managers as one (e.g. external runners and managed CPU runners): their
 * capabilities merged per (pipeline, modelId), a job sent to the first manager with a
 * free slot, warm ones first.
 */
import { EventEmitter } from 'node:events'
import type { PipelineName } from '../../kernel/pipelines.js'
import { InsufficientCapacityError, RunnerUnavailableError, UnsupportedModelError } from './errors.js'
import { mergeCapabilities } from './slots.js'
import type { ModelCapability, RunnerLease, RunnerManager, RunnerManagerEvents } from './types.js'

export function createCompositeRunnerManager (managers: readonly RunnerManager[]): RunnerManager {
  const emitter = new EventEmitter<RunnerManagerEvents>()
  const forward = (): void => { emitter.emit('change') }
  let started = false

  /** Managers serving the model, those with a warm free slot first, then any free slot, then full ones. */
  function candidates (pipeline: PipelineName, modelId: string): RunnerManager[] {
    const ranked: Array<{ manager: RunnerManager, rank: number }> = []
    for (const manager of managers) {
      const cap = manager.capabilities().find((c) => c.pipeline === pipeline && c.modelId === modelId)
      if (cap === undefined) continue
      const free = cap.inUse < cap.capacity
      ranked.push({ manager, rank: free ? (cap.warm ? 0 : 1) : 2 })
    }
    return ranked.sort((a, b) => a.rank - b.rank).map((r) => r.manager)
  }

  return Object.assign(emitter, {
    start: async (options: { signal?: AbortSignal } = {}) => {
      if (!started) for (const m of managers) m.on('change', forward)
      started = true
      await Promise.all(managers.map(async (m) => { await m.start(options) }))
    },
    stop: async () => {
      await Promise.all(managers.map(async (m) => { await m.stop() }))
      for (const m of managers) m.off('change', forward)
    },
    capabilities: (): ModelCapability[] => mergeCapabilities(managers.map((m) => m.capabilities())),
    acquire: async (pipeline: PipelineName, modelId: string, options: { signal?: AbortSignal } = {}): Promise<RunnerLease> => {
      let last: Error | null = null
      for (const manager of candidates(pipeline, modelId)) {
        try {
          return await manager.acquire(pipeline, modelId, options)
        } catch (err) {
          // full or down here: the next manager may have room
          if (err instanceof InsufficientCapacityError || err instanceof RunnerUnavailableError) { last = err; continue }
          throw err
        }
      }
      if (last !== null) {
        if (last instanceof InsufficientCapacityError) {
          const capacity = managers.flatMap((m) => m.capabilities()).filter((c) => c.pipeline === pipeline && c.modelId === modelId).reduce((n, c) => n + c.capacity, 0)
          throw new InsufficientCapacityError(pipeline, modelId, capacity)
        }
        throw last
      }
      throw new UnsupportedModelError(pipeline, modelId)
    }
  })
}
