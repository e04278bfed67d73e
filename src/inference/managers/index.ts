/**
 * Runner managers: who runs the models an orchestrator serves, and how many jobs each
 * takes at once. `createRunnerManager(entries)` builds the usual composition from
 * `aiModels.json`: entries with `url` are external runners, the others CPU runner
 * processes (`shoal runner`).
 *
 * @example
 * const manager = createRunnerManager(await loadModelsConfig('aiModels.json'), { logger })
 * await manager.start({ signal })
 * manager.on('change', () => announce(manager.capabilities()))
 * const lease = await manager.acquire('upscale', 'upscalerjs/esrgan-slim-x2')
 * try { const res = await lease.client.run(job, { signal }) ... } finally { lease.release() }
 */
import type { Logger } from '../../observability/logger.js'
import type { ModelEntry } from '../models-config.js'
import { createCompositeRunnerManager } from './composite.js'
import { createExternalRunnerManager, type ExternalRunnerManagerOptions } from './external.js'
import { createProcessRunnerManager, type ProcessRunnerManagerOptions } from './process.js'
import type { RunnerManager } from './types.js'

export type { ModelCapability, RunnerLease, RunnerManager, RunnerManagerEvents } from './types.js'
export { InsufficientCapacityError, UnsupportedModelError, RunnerUnavailableError, RunnerStartError, type RunnerManagerErrorCode } from './errors.js'
export { createExternalRunnerManager, defaultExternalRunnerManagerOptions, type ExternalRunnerManagerOptions } from './external.js'
export { createProcessRunnerManager, defaultProcessRunnerManagerOptions, type ProcessRunnerManagerOptions } from './process.js'
export { createCompositeRunnerManager } from './composite.js'
export { defaultRunnerCommand, type RunnerCommand } from './runner-command.js'

export interface RunnerManagerOptions {
  logger?: Logger
  external?: Omit<ExternalRunnerManagerOptions, 'entries' | 'logger'>
  process?: Omit<ProcessRunnerManagerOptions, 'entries' | 'logger'>
}

/** External runners for entries with `url`, CPU runner processes for the rest, as one manager. */
export function createRunnerManager (entries: readonly ModelEntry[], options: RunnerManagerOptions = {}): RunnerManager {
  const external = entries.filter((e) => e.url !== undefined)
  const managed = entries.filter((e) => e.url === undefined)
  const managers: RunnerManager[] = []
  if (external.length > 0) managers.push(createExternalRunnerManager({ ...options.external, entries: external, ...(options.logger === undefined ? {} : { logger: options.logger }) }))
  if (managed.length > 0) managers.push(createProcessRunnerManager({ ...options.process, entries: managed, ...(options.logger === undefined ? {} : { logger: options.logger }) }))
  return managers.length === 1 ? managers[0] : createCompositeRunnerManager(managers)
}
