import { GATEWAY_PIPELINES, pipelineDefinition, type GatewayPipeline } from '../../kernel/pipelines.js'

/**
 * The default model per pipeline when a request names none: the reference gateway's
 * defaults (each pipeline's `defaultModel`). Operators override them (`defaultModels` option).
 */
export const REFERENCE_DEFAULT_MODELS: Readonly<Partial<Record<GatewayPipeline, string>>> = Object.fromEntries(
  GATEWAY_PIPELINES.flatMap(p => { const m = pipelineDefinition(p).defaultModel; return m === undefined ? [] : [[p, m]] })
)
import type { ModelAliasMap } from '../aliases.js'

export interface GatewayHttpOptions {
  /** interface to listen on */
  host: string
  /** TCP port; 0 picks a free one */
  port: number
  /** the largest request body, JSON or multipart, in bytes (413 above) */
  bodyLimitBytes: number
  /** the largest multipart text field, in bytes (413 above) */
  maxFieldBytes: number
  /**
   * a custom capability request body longer than this (by its Content-Length) is streamed
   * to the orchestrator as it arrives; this much of it is kept to send again to another
   * orchestrator, which is tried only until bytes past it were sent
   */
  customReplayBytes: number
  /** accepted `Authorization: Bearer` keys; empty: no authentication */
  apiKeys: string[]
  /** per-pipeline model used when a request names none; merged over the reference's defaults */
  defaultModels: Partial<Record<GatewayPipeline, string>>
  /** a model id clients ask for, served by another (`src/gateway/aliases.ts`), per pipeline */
  modelAliases: ModelAliasMap
  /** images declaring more pixels than this are refused with 422 */
  maxImagePixels: number
  /** how long an asynchronous job's result is kept after it completes */
  asyncResultTtlMs: number
  /** asynchronous jobs held at once (queued, running and finished) */
  maxAsyncJobs: number
  /** the largest asynchronous result kept, in bytes (larger ones fail with 502) */
  maxAsyncResultBytes: number
  /** asynchronous jobs dispatched at once; the others wait their turn in the store */
  maxAsyncDispatches: number
  /** results up to this size stay in memory; larger ones are written to `asyncSpillDir` */
  asyncMemoryResultBytes: number
  /** all asynchronous results held in memory together; past it results go to disk too */
  asyncMemoryBudgetBytes: number
  /** all asynchronous results held, memory and disk together; past it new async requests get 503 */
  asyncStoreBudgetBytes: number
  /** where results too large for memory are written (the gateway's data directory); unset: a temporary directory */
  asyncSpillDir?: string
  /** the request line and headers must arrive within this, ms (then 408) */
  headersTimeoutMs: number
  /** the whole request, headers and body, must arrive within this, ms (then 408) */
  requestTimeoutMs: number
  /**
   * the body must keep coming: after `bodyTimeoutMs` it is cut (408) unless at least
   * `bodyMinBytesPerSecond` on average have arrived since the headers, and no gap between
   * its bytes may exceed `bodyTimeoutMs`
   */
  bodyTimeoutMs: number
  bodyMinBytesPerSecond: number
  /** an idle keep-alive connection is closed after this, ms */
  keepAliveTimeoutMs: number
  /** the largest request line plus headers, bytes (431 above) */
  maxHeaderBytes: number
  /** open TCP connections at once; more are refused at accept */
  maxConnections: number
}

export const defaultGatewayHttpOptions: GatewayHttpOptions = {
  host: '127.0.0.1',
  // the reference gateway's HTTP port
  port: 8935,
  // the reference runner refuses audio and image-to-text inputs above 50 MB
  bodyLimitBytes: 50 * 1024 * 1024,
  maxFieldBytes: 1024 * 1024,
  customReplayBytes: 1024 * 1024,
  apiKeys: [],
  defaultModels: REFERENCE_DEFAULT_MODELS,
  modelAliases: {},
  // sharp's own default limit (0x3FFF x 0x3FFF)
  maxImagePixels: 268_402_689,
  asyncResultTtlMs: 60 * 60_000,
  maxAsyncJobs: 1_000,
  maxAsyncResultBytes: 256 * 1024 * 1024,
  // enough to keep a mesh busy; a burst beyond it queues instead of failing on capacity
  maxAsyncDispatches: 16,
  // JSON answers (text, LLM, masks) stay in memory; images and video go to disk
  asyncMemoryResultBytes: 256 * 1024,
  asyncMemoryBudgetBytes: 64 * 1024 * 1024,
  asyncStoreBudgetBytes: 4 * 1024 * 1024 * 1024,
  // Node's own default is 60 s; headers are a few hundred bytes
  headersTimeoutMs: 10_000,
  // a 50 MB body at 1 MB/s
  requestTimeoutMs: 120_000,
  bodyTimeoutMs: 10_000,
  // a 50 MB body at this rate takes 13 min, so requestTimeoutMs is what bounds large slow bodies
  bodyMinBytesPerSecond: 16 * 1024,
  // Node's default (fastify's own is 72 s)
  keepAliveTimeoutMs: 5_000,
  // Node's default
  maxHeaderBytes: 16 * 1024,
  // well under the usual open-file limits, leaving room for libp2p
  maxConnections: 1_024
}

/** Options with defaults applied; `defaultModels` is merged over the reference defaults. */
export function resolveGatewayHttpOptions (init: Partial<GatewayHttpOptions> = {}): GatewayHttpOptions {
  return {
    ...defaultGatewayHttpOptions,
    ...init,
    defaultModels: { ...defaultGatewayHttpOptions.defaultModels, ...init.defaultModels }
  }
}
