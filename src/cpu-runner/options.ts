import type { Registry } from 'prom-client'
import type { Logger } from '../observability/logger.js'

export interface CpuRunnerOptions {
  /** the ai-runner `PIPELINE`, e.g. `upscale` */
  pipeline: string
  /** the ai-runner `MODEL_ID`, e.g. `upscalerjs/esrgan-slim-x2` or `shoal/noop` */
  modelId: string
  /** @default '127.0.0.1' (the `shoal runner` command defaults to 0.0.0.0 like ai-runner) */
  host?: string
  /** 0 picks a free port. @default 8000 */
  port?: number
  /** when set, pipeline routes require `Authorization: Bearer <authToken>` (401 otherwise) */
  authToken?: string
  logger?: Logger
  /** where /metrics reads from; a fresh registry when absent */
  registry?: Registry
  /** also export prom-client's default process metrics. @default false */
  defaultMetrics?: boolean
  /** largest request body or uploaded file, in bytes (413 above). @default 52428800 (50 MB, as ai-runner) */
  maxBodyBytes?: number
  /** largest image an upscale model accepts, width x height (400 above). @default 262144 (512 x 512) */
  maxInputPixels?: number
  /** model threads, i.e. jobs running at once for real models. @default 1 */
  workers?: number
  /** jobs waiting for a model thread beyond `workers`; more get 503. @default 32 */
  maxQueue?: number
}

export type ResolvedCpuRunnerOptions = Required<Omit<CpuRunnerOptions, 'authToken' | 'logger' | 'registry'>> &
  Pick<CpuRunnerOptions, 'authToken' | 'logger' | 'registry'>

export const defaultCpuRunnerOptions = {
  host: '127.0.0.1',
  port: 8000,
  defaultMetrics: false,
  maxBodyBytes: 50 * 1024 * 1024,
  maxInputPixels: 512 * 512,
  workers: 1,
  maxQueue: 32
} as const

export function resolveCpuRunnerOptions (options: CpuRunnerOptions): ResolvedCpuRunnerOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined))
  return { ...defaultCpuRunnerOptions, ...defined } as ResolvedCpuRunnerOptions
}
