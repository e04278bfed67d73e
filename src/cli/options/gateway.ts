import type { Options } from 'yargs'
import type { DispatcherOptions } from '../../gateway/dispatch/index.js'
import { defaultGatewayHttpOptions as httpDefaults, isGatewayPipeline, type GatewayHttpOptions } from '../../gateway/http/index.js'
import { defaultCandidateLookupOptions as lookupDefaults, type CandidateLookupOptions } from '../../gateway/lookup/index.js'
import { CliError } from '../errors.js'
import { listOption, parsePipelineMap, parsePort } from './node.js'

export interface GatewayCliOptions {
  http: Partial<GatewayHttpOptions>
  dispatch: Partial<DispatcherOptions>
  dhtLookupTimeoutMs: number
  lookup: Partial<Omit<CandidateLookupOptions, 'timeoutMs'>>
  allowOpenGateway: boolean
}

/** The HTTP hardening flags: flag name -> option, all positive integers. */
const HTTP_LIMIT_FLAGS = {
  headersTimeout: ['headers-timeout', 'headersTimeoutMs', 'the request line and headers must arrive within this, ms (408 after)'],
  requestTimeout: ['request-timeout', 'requestTimeoutMs', 'the whole request, headers and body, must arrive within this, ms (408 after)'],
  bodyTimeout: ['body-timeout', 'bodyTimeoutMs', 'a request body that stalls this long, or is slower than --body-min-rate after it, is cut (408), ms'],
  bodyMinRate: ['body-min-rate', 'bodyMinBytesPerSecond', 'the slowest average request body accepted after --body-timeout, bytes/s'],
  keepAliveTimeout: ['keep-alive-timeout', 'keepAliveTimeoutMs', 'an idle keep-alive connection is closed after this, ms'],
  maxConnections: ['max-connections', 'maxConnections', 'open HTTP connections at once; more are refused'],
  maxAsyncDispatches: ['max-async-dispatches', 'maxAsyncDispatches', 'asynchronous jobs dispatched at once; more wait their turn'],
  asyncStoreBudget: ['async-store-budget', 'asyncStoreBudgetBytes', 'bytes of asynchronous results held (memory and the data directory); past it new async requests get 503']
} as const satisfies Record<string, readonly [string, keyof GatewayHttpOptions, string]>

function positiveInt (flag: string, value: unknown): number {
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 1) throw new CliError('CLI_ERROR_CONFIG', `--${flag}: ${String(value)} must be a positive integer`)
  return n
}

export function gatewayFlags (): Record<string, Options> {
  return {
    'http-host': { type: 'string', default: '127.0.0.1', describe: 'interface for the HTTP API', group: 'Gateway:' },
    'http-port': { type: 'number', default: 8935, describe: 'port for the HTTP API (0 picks one)', group: 'Gateway:' },
    'api-key': { type: 'array', string: true, describe: 'accepted Bearer API keys; none: no authentication', group: 'Gateway:' },
    'body-limit': { type: 'number', default: 50 * 1024 * 1024, describe: 'largest request body in bytes (413 above)', group: 'Gateway:' },
    'default-model': { type: 'array', string: true, describe: 'model used when a request names none, as PIPELINE=MODEL_ID (e.g. upscale=upscalerjs/esrgan-slim-x2)', group: 'Gateway:' },
    'max-price': { type: 'string', describe: 'the most to pay, as "WEI/UNITS" (e.g. 10/1 = 10 wei per pixel); orchestrators above it are not used', group: 'Gateway:' },
    'retry-budget': { type: 'number', default: 30_000, describe: 'no new attempt starts later than this after a request arrives, ms', group: 'Gateway:' },
    'dht-lookup-timeout': { type: 'number', default: 3_000, describe: 'how long to look orchestrators up in the DHT when gossip has none, ms', group: 'Gateway:' },
    'dht-lookup-concurrency': { type: 'number', default: lookupDefaults.maxConcurrent, describe: 'DHT lookups at once for models gossip has no orchestrator for', group: 'Gateway:' },
    'dht-negative-ttl': { type: 'number', default: lookupDefaults.negativeTtlMs, describe: 'how long a model the DHT did not find is not looked up again, ms', group: 'Gateway:' },
    'allow-open-gateway': { type: 'boolean', default: false, describe: 'let a gateway with payments on listen beyond loopback without --api-key (anyone who reaches it spends its deposit)', group: 'Gateway:' },
    ...Object.fromEntries(Object.values(HTTP_LIMIT_FLAGS).map(([flag, option, describe]) => [flag, { type: 'number', default: httpDefaults[option], describe, group: 'Gateway:' } satisfies Options]))
  }
}

function parseMaxPrice (text: unknown): DispatcherOptions['maxPrice'] {
  if (text === undefined) return {}
  const match = /^(\d+)\/(\d+)$/.exec(String(text).trim())
  if (match === null || BigInt(match[2]) === 0n) throw new CliError('CLI_ERROR_CONFIG', `--max-price: "${String(text)}" must be WEI/UNITS with UNITS > 0, e.g. 10/1`)
  return { global: { pricePerUnit: BigInt(match[1]), pixelsPerUnit: BigInt(match[2]) } }
}

export function parseGatewayArgs (args: Record<string, unknown>): GatewayCliOptions {
  const bodyLimit = Number(args.bodyLimit)
  if (!Number.isInteger(bodyLimit) || bodyLimit < 1024) throw new CliError('CLI_ERROR_CONFIG', `--body-limit: ${String(args.bodyLimit)} must be an integer of at least 1024 bytes`)
  return {
    http: {
      host: String(args.httpHost ?? '127.0.0.1'),
      port: parsePort('http-port', args.httpPort ?? 8935),
      apiKeys: listOption(args.apiKey),
      bodyLimitBytes: bodyLimit,
      defaultModels: parsePipelineMap('default-model', listOption(args.defaultModel), isGatewayPipeline, 'MODEL_ID'),
      ...Object.fromEntries(Object.entries(HTTP_LIMIT_FLAGS).flatMap(([key, [flag, option]]) => args[key] === undefined ? [] : [[option, positiveInt(flag, args[key])]]))
    },
    dispatch: {
      maxPrice: parseMaxPrice(args.maxPrice),
      retryBudgetMs: Number(args.retryBudget ?? 30_000)
    },
    dhtLookupTimeoutMs: Number(args.dhtLookupTimeout ?? 3_000),
    lookup: {
      maxConcurrent: positiveInt('dht-lookup-concurrency', args.dhtLookupConcurrency ?? lookupDefaults.maxConcurrent),
      negativeTtlMs: Number(args.dhtNegativeTtl ?? lookupDefaults.negativeTtlMs)
    },
    allowOpenGateway: args.allowOpenGateway === true
  }
}
