import type { Options } from 'yargs'
import { join } from 'node:path'
import { loadModelsConfig, ModelsConfigError, type ModelEntry } from '../../inference/models-config.js'
import { CliError } from '../errors.js'
import { parsePort, type NodeOptions } from './node.js'
import { DEFAULT_ANNOUNCEMENT_TTL_MS } from '../../discovery/constants.js'
import { DEFAULT_INPUT_IDLE_TIMEOUT_MS, DEFAULT_MAX_BUFFERED_INPUT_BYTES, DEFAULT_MAX_BUFFERED_INPUT_BYTES_PER_PEER, DEFAULT_QUOTE_TIMEOUT_MS, DEFAULT_QUOTE_WAIT_MS } from '../../protocols/ai/constants.js'
import type { AiServerLimits } from '../../protocols/ai/index.js'
import { DEFAULT_STREAM_PAYMENT_INTERVAL_MS } from '../../protocols/stream/index.js'
import { CustomCapabilitiesError, loadCustomCapabilities, type CustomCapability } from '../../inference/custom/config.js'

export interface OrchestratorCliOptions {
  aiModelsPath: string
  /** the custom capabilities file, when one is given */
  customCapabilitiesPath?: string
  announcementTtlMs: number
  metricsPort?: number
  /** memory budget, receive deadline and quote wait of the /shoal/ai handler */
  aiLimits: Pick<AiServerLimits, 'maxBufferedInputBytes' | 'maxBufferedInputBytesPerPeer' | 'inputIdleTimeoutMs' | 'quoteTimeoutMs'>
  /** live video: how often the balance is sent and tickets expected, ms */
  livePaymentIntervalMs: number
  /** custom capability stream sessions: how often compute time is debited and the balance sent, ms */
  streamPaymentIntervalMs: number
}

export function orchestratorFlags (): Record<string, Options> {
  return {
    'ai-models': { type: 'string', describe: 'aiModels.json: the models served, their capacity and price [default: <data-dir>/aiModels.json]', group: 'Orchestrator:' },
    'custom-capabilities': { type: 'string', describe: 'a JSON file of custom capabilities (your own containers, commands or URLs) served under a name, billed per second of compute: docs/custom-capabilities.md [default: none]', group: 'Orchestrator:' },
    'metrics-port': { type: 'number', describe: 'serve Prometheus metrics at http://127.0.0.1:PORT/metrics (0 picks a port) [default: off]', group: 'Orchestrator:' },
    'announcement-ttl': { type: 'number', default: DEFAULT_ANNOUNCEMENT_TTL_MS, describe: 'how long an announcement stays valid, ms; republished at a third of it and on every change', group: 'Orchestrator:' },
    'max-buffered-input': { type: 'number', default: DEFAULT_MAX_BUFFERED_INPUT_BYTES, describe: 'bytes of job input held in memory at once, all gateways together; a job whose declared input does not fit is refused (INSUFFICIENT_CAPACITY) before it is uploaded', group: 'Orchestrator:' },
    'max-buffered-input-per-peer': { type: 'number', default: DEFAULT_MAX_BUFFERED_INPUT_BYTES_PER_PEER, describe: 'the same for one gateway; also the largest input one job may have', group: 'Orchestrator:' },
    'input-idle-timeout': { type: 'number', default: DEFAULT_INPUT_IDLE_TIMEOUT_MS, describe: 'ms an upload may go without an input frame before it is ended and its memory freed', group: 'Orchestrator:' },
    'quote-timeout': { type: 'number', default: DEFAULT_QUOTE_TIMEOUT_MS, describe: `ms to wait for this node's prices and ticket parameters when a gateway opens a stream or asks for a quote; past it the gateway is answered without prices (raise it on a CPU-starved host; at most ${DEFAULT_QUOTE_WAIT_MS}, how long gateways wait for the answer)`, group: 'Orchestrator:' },
    'live-payment-interval': { type: 'number', default: 5_000, describe: 'live video: how often gateways are sent their balance and must pay for the pixels delivered, ms', group: 'Orchestrator:' },
    'stream-payment-interval': { type: 'number', default: DEFAULT_STREAM_PAYMENT_INTERVAL_MS, describe: 'custom capability stream sessions: how often the compute time is debited and gateways are sent their balance, ms', group: 'Orchestrator:' }
  }
}

export function parseOrchestratorArgs (node: NodeOptions, args: Record<string, unknown>): OrchestratorCliOptions {
  const ttl = Number(args.announcementTtl ?? DEFAULT_ANNOUNCEMENT_TTL_MS)
  if (!Number.isInteger(ttl) || ttl < 1_000 || ttl > 600_000) throw new CliError('CLI_ERROR_CONFIG', `--announcement-ttl: ${String(args.announcementTtl)} must be an integer number of ms in [1000, 600000]`)
  const positive = (flag: string, value: unknown, min: number): number => {
    const n = Number(value)
    if (!Number.isSafeInteger(n) || n < min) throw new CliError('CLI_ERROR_CONFIG', `--${flag}: ${String(value)} must be an integer >= ${min}`)
    return n
  }
  const aiLimits = {
    maxBufferedInputBytes: positive('max-buffered-input', args.maxBufferedInput ?? DEFAULT_MAX_BUFFERED_INPUT_BYTES, 1024),
    maxBufferedInputBytesPerPeer: positive('max-buffered-input-per-peer', args.maxBufferedInputPerPeer ?? DEFAULT_MAX_BUFFERED_INPUT_BYTES_PER_PEER, 1024),
    inputIdleTimeoutMs: positive('input-idle-timeout', args.inputIdleTimeout ?? DEFAULT_INPUT_IDLE_TIMEOUT_MS, 100),
    quoteTimeoutMs: positive('quote-timeout', args.quoteTimeout ?? DEFAULT_QUOTE_TIMEOUT_MS, 100)
  }
  // a gateway stops waiting for the Hello or Quote after DEFAULT_QUOTE_WAIT_MS: a longer wait here only answers nobody
  if (aiLimits.quoteTimeoutMs > DEFAULT_QUOTE_WAIT_MS) throw new CliError('CLI_ERROR_CONFIG', `--quote-timeout: ${String(args.quoteTimeout)} must be at most ${DEFAULT_QUOTE_WAIT_MS} (gateways wait that long for the quote)`)
  return {
    aiLimits,
    aiModelsPath: typeof args.aiModels === 'string' ? args.aiModels : join(node.dataDir, 'aiModels.json'),
    ...(typeof args.customCapabilities === 'string' && args.customCapabilities !== '' ? { customCapabilitiesPath: args.customCapabilities } : {}),
    announcementTtlMs: ttl,
    livePaymentIntervalMs: positive('live-payment-interval', args.livePaymentInterval ?? 5_000, 100),
    streamPaymentIntervalMs: positive('stream-payment-interval', args.streamPaymentInterval ?? DEFAULT_STREAM_PAYMENT_INTERVAL_MS, 100),
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

/** Reads the custom capabilities file; a bad entry is a start-up error naming the entry and field. */
export async function readCustomCapabilities (path: string | undefined): Promise<CustomCapability[]> {
  if (path === undefined) return []
  try {
    return await loadCustomCapabilities(path)
  } catch (err) {
    if (err instanceof CustomCapabilitiesError) throw new CliError('CLI_ERROR_CONFIG', err.message)
    throw err
  }
}
