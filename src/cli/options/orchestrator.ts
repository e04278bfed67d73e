import type { Options } from 'yargs'
import { join } from 'node:path'
import { loadModelsConfig, ModelsConfigError, type ModelEntry } from '../../inference/models-config.js'
import { CliError } from '../errors.js'
import { parsePort, type NodeOptions } from './node.js'
import { DEFAULT_ANNOUNCEMENT_TTL_MS } from '../../discovery/constants.js'

export interface OrchestratorCliOptions {
  aiModelsPath: string
  announcementTtlMs: number
  metricsPort?: number
}

export function orchestratorFlags (): Record<string, Options> {
  return {
    'ai-models': { type: 'string', describe: 'aiModels.json: the models served, their capacity and price [default: <data-dir>/aiModels.json]', group: 'Orchestrator:' },
    'metrics-port': { type: 'number', describe: 'serve Prometheus metrics at http://127.0.0.1:PORT/metrics (0 picks a port) [default: off]', group: 'Orchestrator:' },
    'announcement-ttl': { type: 'number', default: DEFAULT_ANNOUNCEMENT_TTL_MS, describe: 'how long an announcement stays valid, ms; republished at a third of it and on every change', group: 'Orchestrator:' }
  }
}

export function parseOrchestratorArgs (node: NodeOptions, args: Record<string, unknown>): OrchestratorCliOptions {
  const ttl = Number(args.announcementTtl ?? DEFAULT_ANNOUNCEMENT_TTL_MS)
  if (!Number.isInteger(ttl) || ttl < 1_000 || ttl > 600_000) throw new CliError('CLI_ERROR_CONFIG', `--announcement-ttl: ${String(args.announcementTtl)} must be an integer number of ms in [1000, 600000]`)
  return {
    aiModelsPath: typeof args.aiModels === 'string' ? args.aiModels : join(node.dataDir, 'aiModels.json'),
    announcementTtlMs: ttl,
    ...(args.metricsPort === undefined ? {} : { metricsPort: parsePort('metrics-port', args.metricsPort) })
  }
}

/** Reads aiModels.json; an empty list is allowed only when remote workers will serve the models. */
export async function readModels (path: string, options: { allowEmpty?: boolean } = {}): Promise<ModelEntry[]> {
  try {
    const models = await loadModelsConfig(path)
    if (models.length === 0 && options.allowEmpty !== true) throw new CliError('CLI_ERROR_CONFIG', `${path} lists no models; an orchestrator needs at least one (or --worker-allow for remote workers)`)
    return models
  } catch (err) {
    if (err instanceof ModelsConfigError) throw new CliError('CLI_ERROR_CONFIG', err.message)
    throw err
  }
}
