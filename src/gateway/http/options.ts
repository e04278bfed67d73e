import { REFERENCE_DEFAULT_MODELS, type GatewayPipeline } from './schemas/pipelines.js'

export interface GatewayHttpOptions {
  /** interface to listen on */
  host: string
  /** TCP port; 0 picks a free one */
  port: number
  /** the largest request body, JSON or multipart, in bytes (413 above) */
  bodyLimitBytes: number
  /** the largest multipart text field, in bytes (413 above) */
  maxFieldBytes: number
  /** accepted `Authorization: Bearer` keys; empty: no authentication */
  apiKeys: string[]
  /** per-pipeline model used when a request names none; merged over the reference's defaults */
  defaultModels: Partial<Record<GatewayPipeline, string>>
  /** images declaring more pixels than this are refused with 422 */
  maxImagePixels: number
  /** how long an asynchronous job's result is kept after it completes */
  asyncResultTtlMs: number
  /** asynchronous jobs held at once */
  maxAsyncJobs: number
  /** the largest asynchronous result kept, in bytes (larger ones fail with 502) */
  maxAsyncResultBytes: number
}

export const defaultGatewayHttpOptions: GatewayHttpOptions = {
  host: '127.0.0.1',
  // the reference gateway's HTTP port
  port: 8935,
  // the reference runner refuses audio and image-to-text inputs above 50 MB
  bodyLimitBytes: 50 * 1024 * 1024,
  maxFieldBytes: 1024 * 1024,
  apiKeys: [],
  defaultModels: REFERENCE_DEFAULT_MODELS,
  // sharp's own default limit (0x3FFF x 0x3FFF)
  maxImagePixels: 268_402_689,
  asyncResultTtlMs: 60 * 60_000,
  maxAsyncJobs: 1_000,
  maxAsyncResultBytes: 256 * 1024 * 1024
}

/** Options with defaults applied; `defaultModels` is merged over the reference defaults. */
export function resolveGatewayHttpOptions (init: Partial<GatewayHttpOptions> = {}): GatewayHttpOptions {
  return {
    ...defaultGatewayHttpOptions,
    ...init,
    defaultModels: { ...defaultGatewayHttpOptions.defaultModels, ...init.defaultModels }
  }
}
