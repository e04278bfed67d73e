import type { Options } from 'yargs'
import type { DispatcherOptions } from '../../gateway/dispatch/index.js'
import { defaultGatewayHttpOptions as httpDefaults, isGatewayPipeline, type GatewayHttpOptions } from '../../gateway/http/index.js'
import { defaultCandidateLookupOptions as lookupDefaults, type CandidateLookupOptions } from '../../gateway/lookup/index.js'
import { isPipelineName, type PipelineName } from '../../kernel/pipelines.js'
import { CliError } from '../errors.js'
import { listOption, parsePipelineMap, parsePort } from './node.js'
import { ModelAliasSyntaxError, parseModelAliases, type ModelAliasMap } from '../../gateway/aliases.js'
import type { VerificationOptions } from '../../gateway/verification/index.js'
import type { StakeOptions } from '../../gateway/stake/index.js'
import { defaultGatewayLiveOptions as liveDefaults, type GatewayLiveOptions } from '../../gateway/live/options.js'

export interface GatewayCliOptions {
  http: Partial<GatewayHttpOptions>
  dispatch: Partial<DispatcherOptions>
  dhtLookupTimeoutMs: number
  lookup: Partial<Omit<CandidateLookupOptions, 'timeoutMs'>>
  allowOpenGateway: boolean
  verification: Partial<VerificationOptions>
  requireReceipts: boolean
  stake: Partial<StakeOptions>
  live: Partial<GatewayLiveOptions>
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
  asyncStoreBudget: ['async-store-budget', 'asyncStoreBudgetBytes', 'bytes of asynchronous results held (memory and the data directory); past it new async requests get 503'],
  customReplayBytes: ['custom-replay-bytes', 'customReplayBytes', 'a custom capability request body longer than this is streamed to the orchestrator as it arrives; this much is kept to try another orchestrator, which is tried only until bytes past it were sent']
} as const satisfies Record<string, readonly [string, keyof GatewayHttpOptions, string]>

function parseWei (flag: string, value: unknown): bigint {
  if (typeof value !== 'string' || !/^\d{1,78}$/.test(value)) throw new CliError('CLI_ERROR_CONFIG', `--${flag}: ${String(value)} must be a whole number of wei`)
  return BigInt(value)
}

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
    'model-alias': { type: 'array', string: true, describe: 'serve a model id clients ask for with another model, as PIPELINE:ALIAS=MODEL_ID (e.g. upscale:stabilityai/stable-diffusion-x4-upscaler=upscalerjs/esrgan-slim-x2); answers name the model that ran in X-Shoal-Model', group: 'Gateway:' },
    'max-price': { type: 'string', describe: 'the most to pay, as "WEI/UNITS" (e.g. 10/1 = 10 wei per pixel); orchestrators above it are not used', group: 'Gateway:' },
    'retry-budget': { type: 'number', default: 30_000, describe: 'no new attempt starts, and no request waits for a slot, later than this after a request arrives, ms', group: 'Gateway:' },
    'dht-lookup-timeout': { type: 'number', default: 3_000, describe: 'how long to look orchestrators up in the DHT when gossip has none, ms', group: 'Gateway:' },
    'dht-lookup-concurrency': { type: 'number', default: lookupDefaults.maxConcurrent, describe: 'DHT lookups at once for models gossip has no orchestrator for', group: 'Gateway:' },
    'dht-negative-ttl': { type: 'number', default: lookupDefaults.negativeTtlMs, describe: 'how long a model the DHT did not find is not looked up again, ms', group: 'Gateway:' },
    'allow-open-gateway': { type: 'boolean', default: false, describe: 'let a gateway with payments on listen beyond loopback without --api-key (anyone who reaches it spends its deposit)', group: 'Gateway:' },
    ...Object.fromEntries(Object.values(HTTP_LIMIT_FLAGS).map(([flag, option, describe]) => [flag, { type: 'number', default: httpDefaults[option], describe, group: 'Gateway:' } satisfies Options])),
    'max-price-multiple': { type: 'number', describe: 'refuse orchestrators priced above this multiple of the median price of proven orchestrators for the same model (default 3; 0: off)', group: 'Gateway:' },
    hedge: { type: 'array', string: true, describe: 'pipelines whose requests get a second attempt elsewhere once the first passes its expected p95 (default llm,text-to-speech,image-to-text; "none": never)', group: 'Gateway:' },
    'exploration-share': { type: 'number', describe: 'share of first attempts given to unproven orchestrators while proven ones exist, 0..1 (default 0.1)', group: 'Gateway:' },
    'busy-queue-length': { type: 'number', describe: 'requests waiting for a free slot per pipeline and model; beyond it 503 with Retry-After at once (default 256)', group: 'Gateway:' },
    'deadline-multiple': { type: 'number', describe: "an attempt's first-byte deadline as a multiple of its expected p95 time (default 3)", group: 'Gateway:' },
    'first-byte-deadline-floor': { type: 'number', describe: 'shortest first-byte deadline of an attempt, ms (default 2000)', group: 'Gateway:' },
    'first-byte-deadline-cap': { type: 'number', describe: 'longest first-byte deadline of an attempt, ms (default 600000)', group: 'Gateway:' },
    'unmeasured-first-byte': { type: 'array', string: true, describe: 'first-byte deadline when nothing is measured for the model, as PIPELINE=MS (defaults: 30 s to 300 s by pipeline)', group: 'Gateway:' },
    'total-deadline-floor': { type: 'number', describe: 'shortest total deadline of an attempt, ms (default 600000)', group: 'Gateway:' },
    'total-deadline-cap': { type: 'number', describe: 'longest total deadline of an attempt, ms (default 1800000)', group: 'Gateway:' },
    'require-receipts': { type: 'boolean', default: true, describe: 'an answer without a valid signed receipt from its orchestrator fails, and counts against it', group: 'Verification:' },
    'spot-check-rate': { type: 'number', describe: 'share of jobs re-run on an orchestrator of another operator to check the answer, 0..1 (default 0: off)', group: 'Verification:' },
    'spot-check-concurrency': { type: 'number', describe: 'spot checks running at once; sampled jobs beyond it are not checked (default 4)', group: 'Verification:' },
    'spot-check-image-threshold': { type: 'number', describe: 'images agree at or above this similarity, 0..1 (default 0.9)', group: 'Verification:' },
    'spot-check-text-threshold': { type: 'number', describe: 'texts agree at or above this share of equal tokens, 0..1 (default 0.8)', group: 'Verification:' },
    'exclude-after-faults': { type: 'number', describe: 'wrong answers confirmed by a referee after which an orchestrator gets no work (default 1)', group: 'Verification:' },
    'exclusion-time': { type: 'number', describe: 'how long such an orchestrator stays excluded, ms (default 86400000)', group: 'Verification:' },
    'min-bond': { type: 'string', describe: 'wei an orchestrator must have bonded in the broker (shoal chain bond) to get work; needs payments on (default 0: none)', group: 'Stake:' },
    'weigh-by-bond': { type: 'boolean', describe: 'weigh selection by bond, up to full weight at --full-weight-bond; needs payments on (default false)', group: 'Stake:' },
    'full-weight-bond': { type: 'string', describe: 'the bond in wei that earns full selection weight with --weigh-by-bond (default 1 ETH)', group: 'Stake:' },
    'live-default-model': { type: 'string', default: liveDefaults.defaultModelId, describe: 'live video: the model a start naming none gets', group: 'Live video:' },
    'live-max-sessions': { type: 'number', default: liveDefaults.maxSessions, describe: 'live video: sessions at once', group: 'Live video:' },
    'live-stall-timeout': { type: 'number', default: liveDefaults.stallTimeoutMs, describe: 'live video: an orchestrator with segments in flight and no progress for this long is swapped, ms', group: 'Live video:' },
    'live-max-swaps': { type: 'number', default: liveDefaults.maxSwaps, describe: 'live video: orchestrator swaps allowed per session in --live-swap-window', group: 'Live video:' },
    'live-swap-window': { type: 'number', default: liveDefaults.swapWindowMs, describe: 'live video: the window of --live-max-swaps, ms', group: 'Live video:' },
    'live-prepay-pixels': { type: 'number', default: liveDefaults.prepayPixels, describe: 'live video: pixels paid for before any output arrives; then each interval pays the pixels received', group: 'Live video:' },
    'live-max-wei-per-session': { type: 'string', describe: 'live video: the most one session may spend, wei; then no more tickets and the orchestrator ends it when its credit runs out [default: no cap]', group: 'Live video:' }
  }
}

function parseAliases (value: unknown): ModelAliasMap {
  try {
    return parseModelAliases(listOption(value))
  } catch (err) {
    if (err instanceof ModelAliasSyntaxError) throw new CliError('CLI_ERROR_CONFIG', `--model-alias: ${err.message}`)
    throw err
  }
}

function parseMaxPrice (text: unknown): DispatcherOptions['maxPrice'] {
  if (text === undefined) return {}
  const match = /^(\d+)\/(\d+)$/.exec(String(text).trim())
  if (match === null || BigInt(match[2]) === 0n) throw new CliError('CLI_ERROR_CONFIG', `--max-price: "${String(text)}" must be WEI/UNITS with UNITS > 0, e.g. 10/1`)
  return { global: { pricePerUnit: BigInt(match[1]), pixelsPerUnit: BigInt(match[2]) } }
}

function optionalNumber (flag: string, value: unknown, min: number, max = Infinity, integer = false): number | undefined {
  if (value === undefined || value === null) return undefined
  const n = Number(value)
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new CliError('CLI_ERROR_CONFIG', `--${flag}: ${String(value)} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}]`)
  }
  return n
}

function parseHedge (value: unknown): PipelineName[] | undefined {
  if (value === undefined || value === null) return undefined
  const names = listOption(value)
  if (names.length === 1 && names[0] === 'none') return []
  for (const name of names) {
    if (!isPipelineName(name)) throw new CliError('CLI_ERROR_CONFIG', `--hedge: "${name}" is not a pipeline (or use "none")`)
  }
  return names as PipelineName[]
}

function parseUnmeasuredFirstByte (value: unknown): Partial<Record<PipelineName, number>> | undefined {
  if (value === undefined || value === null) return undefined
  const raw = parsePipelineMap('unmeasured-first-byte', listOption(value), isPipelineName, 'MS')
  const out: Partial<Record<PipelineName, number>> = {}
  for (const [pipeline, ms] of Object.entries(raw) as Array<[PipelineName, string]>) {
    out[pipeline] = optionalNumber('unmeasured-first-byte', ms, 1, Infinity, true)
  }
  return out
}

/** the dispatcher options given on the command line (or env, or config file); the others keep their defaults */
function parseDispatchTuning (args: Record<string, unknown>): Partial<DispatcherOptions> {
  const out: Partial<DispatcherOptions> = {}
  const set = <K extends keyof DispatcherOptions>(key: K, value: DispatcherOptions[K] | undefined): void => {
    if (value !== undefined) out[key] = value
  }
  set('maxPriceMultiple', optionalNumber('max-price-multiple', args.maxPriceMultiple, 0))
  set('hedgePipelines', parseHedge(args.hedge))
  set('explorationShare', optionalNumber('exploration-share', args.explorationShare, 0, 1))
  set('busyQueueLength', optionalNumber('busy-queue-length', args.busyQueueLength, 0, Infinity, true))
  set('deadlineMultiple', optionalNumber('deadline-multiple', args.deadlineMultiple, 1))
  set('firstByteDeadlineFloorMs', optionalNumber('first-byte-deadline-floor', args.firstByteDeadlineFloor, 1, Infinity, true))
  set('firstByteDeadlineCapMs', optionalNumber('first-byte-deadline-cap', args.firstByteDeadlineCap, 1, 24 * 60 * 60_000, true))
  const unmeasured = parseUnmeasuredFirstByte(args.unmeasuredFirstByte)
  if (unmeasured !== undefined) out.unmeasuredFirstByteMs = { ...unmeasured }
  set('totalDeadlineFloorMs', optionalNumber('total-deadline-floor', args.totalDeadlineFloor, 1, Infinity, true))
  set('totalDeadlineCapMs', optionalNumber('total-deadline-cap', args.totalDeadlineCap, 1, 24 * 60 * 60_000, true))
  return out
}

function weiOption (flag: string, value: unknown): bigint | undefined {
  if (value === undefined || value === null) return undefined
  if (!/^\d{1,78}$/.test(String(value).trim())) throw new CliError('CLI_ERROR_CONFIG', `--${flag}: ${String(value)} must be an amount in wei (digits)`)
  return BigInt(String(value).trim())
}

function parseStake (args: Record<string, unknown>): Partial<StakeOptions> {
  const out: Partial<StakeOptions> = {}
  const min = weiOption('min-bond', args.minBond)
  if (min !== undefined) out.minBondWei = min
  const full = weiOption('full-weight-bond', args.fullWeightBond)
  if (full !== undefined) out.fullWeightBondWei = full
  if (args.weighByBond === true) out.weighByBond = true
  return out
}

function parseVerification (args: Record<string, unknown>): Partial<VerificationOptions> {
  const out: Partial<VerificationOptions> = {}
  const set = <K extends keyof VerificationOptions>(key: K, value: VerificationOptions[K] | undefined): void => {
    if (value !== undefined) out[key] = value
  }
  set('sampleRate', optionalNumber('spot-check-rate', args.spotCheckRate, 0, 1))
  set('maxConcurrent', optionalNumber('spot-check-concurrency', args.spotCheckConcurrency, 1, Infinity, true))
  set('imageThreshold', optionalNumber('spot-check-image-threshold', args.spotCheckImageThreshold, 0, 1))
  set('textThreshold', optionalNumber('spot-check-text-threshold', args.spotCheckTextThreshold, 0, 1))
  set('excludeAfterFaults', optionalNumber('exclude-after-faults', args.excludeAfterFaults, 1, Infinity, true))
  set('exclusionMs', optionalNumber('exclusion-time', args.exclusionTime, 0, Infinity, true))
  return out
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
      modelAliases: parseAliases(args.modelAlias),
      ...Object.fromEntries(Object.entries(HTTP_LIMIT_FLAGS).flatMap(([key, [flag, option]]) => args[key] === undefined ? [] : [[option, positiveInt(flag, args[key])]]))
    },
    dispatch: {
      ...parseDispatchTuning(args),
      maxPrice: parseMaxPrice(args.maxPrice),
      retryBudgetMs: Number(args.retryBudget ?? 30_000)
    },
    dhtLookupTimeoutMs: Number(args.dhtLookupTimeout ?? 3_000),
    lookup: {
      maxConcurrent: positiveInt('dht-lookup-concurrency', args.dhtLookupConcurrency ?? lookupDefaults.maxConcurrent),
      negativeTtlMs: Number(args.dhtNegativeTtl ?? lookupDefaults.negativeTtlMs)
    },
    allowOpenGateway: args.allowOpenGateway === true,
    verification: parseVerification(args),
    requireReceipts: args.requireReceipts !== false,
    stake: parseStake(args),
    live: {
      defaultModelId: String(args.liveDefaultModel ?? liveDefaults.defaultModelId),
      maxSessions: positiveInt('live-max-sessions', args.liveMaxSessions ?? liveDefaults.maxSessions),
      stallTimeoutMs: positiveInt('live-stall-timeout', args.liveStallTimeout ?? liveDefaults.stallTimeoutMs),
      maxSwaps: Number.isSafeInteger(Number(args.liveMaxSwaps ?? liveDefaults.maxSwaps)) && Number(args.liveMaxSwaps ?? liveDefaults.maxSwaps) >= 0 ? Number(args.liveMaxSwaps ?? liveDefaults.maxSwaps) : positiveInt('live-max-swaps', args.liveMaxSwaps),
      swapWindowMs: positiveInt('live-swap-window', args.liveSwapWindow ?? liveDefaults.swapWindowMs),
      prepayPixels: positiveInt('live-prepay-pixels', args.livePrepayPixels ?? liveDefaults.prepayPixels),
      ...(args.liveMaxWeiPerSession === undefined ? {} : { maxWeiPerSession: parseWei('live-max-wei-per-session', args.liveMaxWeiPerSession) })
    }
  }
}
