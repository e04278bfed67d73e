import type { Options } from 'yargs'
import type { DispatcherOptions } from '../../gateway/dispatch/index.js'
import { isGatewayPipeline, type GatewayHttpOptions } from '../../gateway/http/index.js'
import { CliError } from '../errors.js'
import { listOption, parsePipelineMap, parsePort } from './node.js'

export interface GatewayCliOptions {
  http: Partial<GatewayHttpOptions>
  dispatch: Partial<DispatcherOptions>
  dhtLookupTimeoutMs: number
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
    'dht-lookup-timeout': { type: 'number', default: 3_000, describe: 'how long to look orchestrators up in the DHT when gossip has none, ms', group: 'Gateway:' }
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
      defaultModels: parsePipelineMap('default-model', listOption(args.defaultModel), isGatewayPipeline, 'MODEL_ID')
    },
    dispatch: {
      maxPrice: parseMaxPrice(args.maxPrice),
      retryBudgetMs: Number(args.retryBudget ?? 30_000)
    },
    dhtLookupTimeoutMs: Number(args.dhtLookupTimeout ?? 3_000)
  }
}
