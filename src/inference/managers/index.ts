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
import { createDockerRunnerManager, type DockerRunnerManagerOptions } from './docker.js'
import type { RunnerManager } from './types.js'

export type { ModelCapability, RunnerLease, RunnerManager, RunnerManagerEvents } from './types.js'
export { InsufficientCapacityError, UnsupportedModelError, RunnerUnavailableError, RunnerStartError, type RunnerManagerErrorCode } from './errors.js'
export { createExternalRunnerManager, defaultExternalRunnerManagerOptions, type ExternalRunnerManagerOptions } from './external.js'
export { createProcessRunnerManager, defaultProcessRunnerManagerOptions, type ProcessRunnerManagerOptions } from './process.js'
export { createCompositeRunnerManager } from './composite.js'
export { defaultRunnerCommand, type RunnerCommand } from './runner-command.js'
export { createDockerRunnerManager, defaultDockerRunnerManagerOptions, type DockerRunnerManagerOptions } from './docker.js'

export interface RunnerManagerOptions {
  logger?: Logger
  /** who runs entries without `url`: CPU runner processes, or ai-runner containers through Docker @default 'process' */
  managed?: 'process' | 'docker'
  external?: Omit<ExternalRunnerManagerOptions, 'entries' | 'logger'>
  process?: Omit<ProcessRunnerManagerOptions, 'entries' | 'logger'>
  docker?: Omit<DockerRunnerManagerOptions, 'entries' | 'logger'>
  /** more managers to merge in, e.g. remote workers */
  extra?: RunnerManager[]
}

/** External runners for entries with `url`, CPU runner processes (or Docker containers) for the rest, plus any extra managers, as one. */
export function createRunnerManager (entries: readonly ModelEntry[], options: RunnerManagerOptions = {}): RunnerManager {
  const external = entries.filter((e) => e.url !== undefined)
  const managed = entries.filter((e) => e.url === undefined)
  const managers: RunnerManager[] = []
  if (external.length > 0) managers.push(createExternalRunnerManager({ ...options.external, entries: external, ...(options.logger === undefined ? {} : { logger: options.logger }) }))
  if (managed.length > 0) {
    if (options.managed === 'docker') {
      if (options.docker === undefined) throw new TypeError('createRunnerManager: managed "docker" needs docker options (at least an owner)')
      managers.push(createDockerRunnerManager({ ...options.docker, entries: managed, ...(options.logger === undefined ? {} : { logger: options.logger }) }))
    } else {
      managers.push(createProcessRunnerManager({ ...options.process, entries: managed, ...(options.logger === undefined ? {} : { logger: options.logger }) }))
    }
  }
  managers.push(...(options.extra ?? []))
  return managers.length === 1 ? managers[0] : createCompositeRunnerManager(managers)
}
