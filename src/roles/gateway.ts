import { createPriceFeed, createPriceFeedMetrics } from '../payments/price-feed/index.js'
import { withUsdPrices } from '../gateway/usd-prices.js'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { RoleStartError } from './errors.js'
import type { NodeConfig } from './config.js'
import type { DirectoryCandidate, DirectoryEntry, OrchestratorDirectory } from '../discovery/directory.js'
import { createDispatcher, type DispatcherOptions } from '../gateway/dispatch/index.js'
import type { PaymentConfig } from './config.js'
import { aiSend } from './ai-send.js'
import { connectChain, startGatewayPayments, type GatewayPayments } from './payments.js'
import { createGatewayHttpServer, type GatewayHttpOptions, type GatewayHttpServer } from '../gateway/http/index.js'
import { createRecentRequests } from '../gateway/dashboard/index.js'
import { listCustomCapabilities } from '../gateway/custom/listing.js'
import { DispatchError } from '../gateway/dispatch/errors.js'
import { toApiError } from '../gateway/http/to-api-error.js'
import { gatewayDashboardSource } from './gateway-dashboard.js'
import { createCandidateLookup, type CandidateLookupOptions } from '../gateway/lookup/index.js'
import { createGatewayMetrics } from '../gateway/metrics.js'
import { createAdaptiveStrategy, type Candidate } from '../gateway/selection/index.js'
import { createLiveLoad } from '../gateway/selection/live-load.js'
import type { PipelineName } from '../kernel/pipelines.js'
import type { ModelLoad } from '../protocols/ai/index.js'
import type { Logger } from '../observability/logger.js'
import type { Registry } from 'prom-client'
import type { PeerId } from '@libp2p/interface'
import { createMesh, meshOptionsFor, type Mesh } from './mesh.js'
import { receiptJson } from '../trust/receipts/index.js'
import { createBondBook, defaultStakeOptions, type BondBook, type StakeOptions } from '../gateway/stake/index.js'
import { readBond } from '../payments/chain/operations.js'
import {
  createReceiptStore, createReputation, createVerificationMetrics, createVerifier, defaultVerificationOptions,
  type ReceiptStore, type Reputation, type VerificationOptions, type Verifier
} from '../gateway/verification/index.js'
import { createGatewayLive, type GatewayLive } from '../gateway/live/service.js'
import { createGatewayLiveMetrics } from '../gateway/live/metrics.js'
import type { GatewayLiveOptions } from '../gateway/live/options.js'
import type { LiveSessionLookup } from '../gateway/live/media.js'
import { registerLiveRoutes } from '../gateway/live/routes.js'
import { createGatewayStreams, type GatewayStreams } from '../gateway/custom/streams.js'
import { createGatewayStreamMetrics } from '../gateway/custom/metrics.js'
import { registerStreamRoutes } from '../gateway/custom/stream-routes.js'
import type { GatewayStreamOptions } from '../gateway/custom/stream-session.js'
import { registerLiveWebRtcRoutes } from '../gateway/live/webrtc/index.js'
import { prepareNode } from './node-context.js'

export interface GatewayRoleOptions {
  node: NodeConfig
  http: Partial<GatewayHttpOptions>
  dispatch: Partial<DispatcherOptions>
  /** how long a DHT lookup may take when the directory has no candidate */
  dhtLookupTimeoutMs: number
  /** DHT lookups at once, and how long "not found" is remembered (defaults: `defaultCandidateLookupOptions`) */
  lookup?: Partial<Omit<CandidateLookupOptions, 'timeoutMs'>>
  /** a paying gateway without API keys listens beyond loopback only when this says it is meant to be open */
  allowOpenGateway?: boolean
  payments: PaymentConfig
  /** spot checks and the reputation they feed (defaults: `defaultVerificationOptions`, checks off) */
  verification?: Partial<VerificationOptions>
  /** answers must carry a valid signed receipt (src/trust/receipts) @default true */
  requireReceipts?: boolean
  /** a minimum bond and weighing selection by bond; either needs the chain (payments on) */
  stake?: Partial<StakeOptions>
  /** live video sessions (limits, swaps, payment interval) */
  live?: Partial<GatewayLiveOptions>
  /** custom capability stream sessions (limits, prepaid time) */
  streams?: Partial<GatewayStreamOptions>
}

export interface GatewayRole {
  mesh: Mesh
  http: GatewayHttpServer
  peerId: string
  ethAddress: string
  url: string
  payments: GatewayPayments | undefined
  /** the signed receipts of recent jobs and spot checks */
  receipts: ReceiptStore
  reputation: Reputation
  verifier: Verifier
  /** bonds read on chain, when a minimum bond or bond weighting is on */
  bonds: BondBook | undefined
  /** live video sessions */
  live: GatewayLive
  /** custom capability stream sessions */
  streams: GatewayStreams
  /** finds a running live session by stream id (the WebRTC adapters use it) */
  liveLookup: LiveSessionLookup
  stop: () => Promise<void>
}

/**
 * A directory offer as selection sees it. Gossip carries only a coarse load: 'saturated'
 * reads as every slot taken, 'available' as none; live counts come from the /shoal/ai
 * connection and the dispatcher's own jobs in flight.
 */
export function toCandidate (c: DirectoryCandidate): Candidate {
  return {
    peerId: c.peerId,
    pipeline: c.offer.pipeline,
    modelId: c.offer.modelId,
    warm: c.offer.warm,
    capacity: c.offer.capacity,
    inUse: c.offer.load === 'saturated' ? c.offer.capacity : 0,
    pricePerUnit: BigInt(c.offer.pricePerUnit),
    pixelsPerUnit: BigInt(c.offer.pixelsPerUnit)
  }
}

/**
 * Candidates from the directory; when it has none fresh, a DHT lookup fills it (this
 * request waits for it, up to the lookup's timeout). Lookups are coalesced per pipeline
 * and model, capped in number, and "not found" is remembered a while (see `createCandidateLookup`).
 */
export function directoryCandidates (directory: OrchestratorDirectory, lookup: Mesh['lookup'], logger: Logger, timeoutMs: number, options: Partial<Omit<CandidateLookupOptions, 'timeoutMs'>> = {}, register?: Registry) {
  const lookups = createCandidateLookup({
    lookup: async (pipeline, modelId, { signal }) => await lookup.lookup(pipeline as PipelineName, modelId, { signal }),
    has: (pipeline, modelId) => directory.candidates(pipeline as PipelineName, modelId).length > 0,
    options: { ...options, timeoutMs },
    logger,
    ...(register !== undefined ? { register } : {})
  })
  return {
    list: (pipeline: PipelineName, modelId: string): Candidate[] => directory.candidates(pipeline, modelId).map(toCandidate),
    async refill (pipeline: PipelineName, modelId: string, signal: AbortSignal): Promise<void> {
      // a caller that gives up meets its aborted signal in the dispatcher next
      await lookups.refill(pipeline, modelId, signal).catch(() => {})
    }
  }
}

/** Whether `host` (an HTTP listen address) is reachable only from this machine. */
export function isLoopbackHost (host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  if (h === 'localhost' || h === '::1') return true
  if (isIP(h) === 4) return h.startsWith('127.')
  return h.startsWith('::ffff:127.')
}

/**
 * A gateway that pays orchestrators spends its deposit for whoever reaches its API: it
 * listens beyond loopback without API keys only when told it is meant to be open.
 */
export function checkGatewayExposure (options: Pick<GatewayRoleOptions, 'http' | 'payments' | 'allowOpenGateway'>): void {
  const host = options.http.host ?? '127.0.0.1'
  if (!options.payments.enabled || isLoopbackHost(host) || (options.http.apiKeys ?? []).length > 0 || options.allowOpenGateway === true) return
  throw new RoleStartError('ROLE_ERROR_CONFIG', `refusing to start: a gateway with payments on would listen on ${host} without API keys, ` +
    'so anyone who reaches it could spend its deposit; set --api-key, listen on 127.0.0.1, or pass --allow-open-gateway if it is meant to be open')
}

/**
 * A gateway: the mesh (gossip + DHT + /shoal/info feeding the directory), selection and
 * the retrying dispatcher, and the Livepeer-compatible HTTP API. `send` carries a job
 * to one orchestrator (the /shoal/ai client).
 */
export async function startGateway (options: GatewayRoleOptions, logger: Logger, signal?: AbortSignal): Promise<GatewayRole> {
  checkGatewayExposure(options)
  const stake = { ...defaultStakeOptions, ...options.stake }
  const readsBonds = stake.minBondWei > 0n || stake.weighByBond
  if (readsBonds && !options.payments.enabled) {
    throw new RoleStartError('ROLE_ERROR_CONFIG', 'a minimum bond (--min-bond) or bond weighting (--weigh-by-bond) reads bonds on chain: it needs payments on (--rpc-url and --broker)')
  }
  const { keys, peerId, log, register } = await prepareNode(options.node.dataDir, logger)
  const mesh = await createMesh(meshOptionsFor(options.node, keys.libp2p), { logger: log, register })
  await mesh.start({ signal })

  const metrics = createGatewayMetrics(register)
  // the gateway only shows USD: a feed that does not answer yet is warned about, not fatal
  const feed = options.payments.priceFeed === undefined ? undefined : createPriceFeed({ source: options.payments.priceFeed, logger: log, metrics: createPriceFeedMetrics(register) })
  await feed?.start({ signal, required: false })
  const payments = options.payments.enabled ? await startGatewayPayments(options.payments, keys, register, signal) : undefined
  const candidates = directoryCandidates(mesh.directory, mesh.lookup, log, options.dhtLookupTimeoutMs, options.lookup, register)
  // free slots reported on /shoal/ai connections: fresher than any announcement
  const liveLoad = createLiveLoad()
  const onLoad = (peer: string, loads: ModelLoad[]): void => {
    const now = Date.now()
    for (const l of loads) liveLoad.observe(peer, l.pipeline, l.modelId, { capacity: l.capacity, inUse: l.inUse }, now)
  }
  const verification = { ...defaultVerificationOptions, ...options.verification }
  const reputation = createReputation({ excludeAfterFaults: verification.excludeAfterFaults, exclusionMs: verification.exclusionMs })
  const receipts = createReceiptStore()
  // spot-check reputation weighs selection; an orchestrator excluded for wrong answers gets no work
  let bonds: BondBook | undefined
  let bondProvider: { destroy: () => void } | undefined
  if (readsBonds) {
    const provider = bondProvider = await connectChain(options.payments, `gateway ${peerId.toString()} (bonds)`, signal)
    bonds = createBondBook({
      read: async (ethAddress, { signal }) => (await readBond(provider, options.payments.brokerAddress, ethAddress, { signal })).bonded,
      broker: options.payments.brokerAddress,
      options: stake,
      logger: log,
      // a bonded orchestrator is kept before unbonded ones when a flood fills the directory
      onBond: (peer, bonded) => { mesh.directory.markBonded(peer, bonded) }
    })
    const book = bonds
    const observe = (entry: DirectoryEntry): void => { book.observe(entry.peerId, entry.announcement.ethAddress, entry.announcement.bondBroker) }
    mesh.directory.on('added', observe)
    mesh.directory.on('updated', observe)
    for (const entry of mesh.directory.list()) observe(entry)
  }
  const bookOf = bonds
  // spot-check reputation and stake weigh selection; 0 (excluded, or below the minimum bond) means no work
  const strategy = createAdaptiveStrategy({}, { trust: (peer, now) => reputation.score(peer, now) * (bookOf?.factor(peer) ?? 1) })
  const send = aiSend(mesh.node, { logger: log, payments, register, onLoad, receipts: options.requireReceipts === false ? 'verify' : 'require' })
  const verifier = createVerifier({
    options: options.verification,
    send,
    // checks and referees only on orchestrators this gateway would use (bond included)
    candidates: (pipeline, modelId) => mesh.directory.candidates(pipeline, modelId)
      .filter(c => (bookOf?.factor(c.peerId) ?? 1) > 0)
      .map(c => ({ peerId: c.peerId, operator: c.ethAddress.toLowerCase() })),
    operatorOf: (peer) => mesh.directory.get(peer)?.announcement.ethAddress.toLowerCase(),
    receipts,
    reputation,
    logger: log,
    metrics: createVerificationMetrics(register),
    // a refused receipt or a confirmed wrong answer is a failure of that orchestrator
    onFault: (peer, job) => { strategy.record(peer, job, { kind: 'failure' }, Date.now()) }
  })
  // the dashboard's recent requests, recorded around every dispatch (pipeline, OpenAI and async routes alike)
  const recent = createRecentRequests()
  const monitor = mesh.node.services.monitor
  const dispatcher = createDispatcher({
    candidates: candidates.list,
    strategy,
    send,
    liveLoad,
    // an orchestrator a job waits on is pinged more often, so that a silent one is noticed soon
    watchPeer: (peer) => monitor.watch(peer),
    onAttempt: (peer, _modelId, outcome, errorCode) => {
      // orchestrators seen serving are kept first when the directory must evict (Sybil floods)
      if (outcome === 'success') mesh.directory.markProven(peer)
      // a failed dial or a reset: out of the candidates until it is heard from again
      else if (errorCode === 'JOB_ERROR_UNREACHABLE') mesh.directory.markUnreachable(peer)
    },
    options: options.dispatch,
    logger: log,
    metrics
  })
  // a missed ping takes the orchestrator out of the candidates (trackReachability); the
  // jobs waiting on it would otherwise wait out their first-byte deadlines: they move on now.
  // (a closed connection needs nothing here: it resets their streams, which fails them)
  const onMissed = (peer: PeerId, count: number): void => {
    dispatcher.peerUnreachable(peer.toString(), `ping missed, ${count} in a row`)
  }
  monitor.on('missed', onMissed)
  const live = createGatewayLive({
    dialProtocol: async (peer, protocol, opts) => await mesh.node.dialProtocol(peer, protocol, opts),
    candidates: (pipeline, modelId) => candidates.list(pipeline, modelId),
    refill: async (pipeline, modelId, signal) => { await candidates.refill(pipeline, modelId, signal) },
    ...(payments === undefined ? {} : { payments: { sender: payments.sender, identity: payments.identity } }),
    logger: log,
    metrics: createGatewayLiveMetrics(register),
    ...(options.live === undefined ? {} : { options: options.live })
  })
  const streams = createGatewayStreams({
    dialProtocol: async (peer, protocol, opts) => await mesh.node.dialProtocol(peer, protocol, opts),
    candidates: (capability) => mesh.directory.candidates('custom', capability)
      .filter(c => c.offer.streaming === true && (bookOf?.factor(c.peerId) ?? 1) > 0)
      .map(c => ({
        peerId: c.peerId,
        pricePerUnit: BigInt(c.offer.pricePerUnit),
        pixelsPerUnit: BigInt(c.offer.pixelsPerUnit),
        pricePerRequest: BigInt(c.offer.pricePerRequest ?? '0'),
        capacity: c.offer.capacity,
        inUse: c.offer.load === 'saturated' ? c.offer.capacity : 0
      })),
    refill: async (capability, signal) => { await candidates.refill('custom', capability, signal) },
    ...(payments === undefined ? {} : { payments: { sender: payments.sender, identity: payments.identity } }),
    logger: log,
    metrics: createGatewayStreamMetrics(register),
    ...(options.streams === undefined ? {} : { options: options.streams })
  })
  const http = createGatewayHttpServer({
    dispatcher: {
      async dispatch (job, dispatchOptions) {
        const done = recent.start({ requestId: dispatchOptions.requestId, pipeline: job.pipeline, modelId: job.modelId })
        try {
          if (mesh.directory.candidates(job.pipeline, job.modelId).length === 0) {
            await candidates.refill(job.pipeline, job.modelId, dispatchOptions.signal)
          }
          const result = verifier.watch(job, await dispatcher.dispatch(job, dispatchOptions), dispatchOptions.requestId)
          done({ status: result.response.status, orchestrator: result.orchestrator, attempts: result.attempts })
          return result
        } catch (err) {
          const apiError = toApiError(err, Number.MAX_SAFE_INTEGER)
          done({ status: apiError.statusCode, errorCode: apiError.code, ...(err instanceof DispatchError ? { attempts: err.attempts, ...(err.orchestrator !== undefined ? { orchestrator: err.orchestrator } : {}) } : { attempts: [] }) })
          throw err
        }
      }
    },
    directory: {
      list: () => withUsdPrices(mesh.directory.toJSON(), feed?.tryRate()),
      customCapabilities: () => listCustomCapabilities(mesh.directory.list()),
      servedModels: (pipeline) => [...new Set(mesh.directory.list().flatMap(e => e.announcement.models.filter(m => m.pipeline === pipeline).map(m => m.modelId)))].sort()
    },
    // async results too large for memory go to the data directory
    options: { asyncSpillDir: join(options.node.dataDir, 'async-results'), ...options.http },
    logger: log,
    metrics,
    registry: register,
    receipts: { get: (requestId) => receipts.get(requestId).map(receiptJson) },
    // live video: trickle, and WHIP ingest and WHEP playback over the same sessions; custom capability stream sessions
    extraRoutes: [(add, app) => {
      registerLiveRoutes(add, app, live)
      registerLiveWebRtcRoutes(add, app, { lookup: live.lookup, logger: log, register })
    }, (add) => { registerStreamRoutes(add, streams) }],
    dashboard: gatewayDashboardSource({ node: mesh.node, directory: mesh.directory, strategy, payments, register, recent, ethAddress: keys.ethereum.address, startedAt: Date.now(), live })
  })
  await http.start()
  const address = http.address
  if (address === undefined) throw new Error('gateway HTTP server has no address')
  return {
    mesh,
    http,
    peerId,
    ethAddress: keys.ethereum.address,
    url: address.url,
    payments,
    receipts,
    reputation,
    verifier,
    bonds,
    live,
    liveLookup: live.lookup,
    streams,
    async stop () {
      monitor.off('missed', onMissed)
      await live.close()
      await streams.close()
      feed?.stop()
      verifier.stop()
      bonds?.stop()
      bondProvider?.destroy()
      await http.stop()
      await mesh.stop()
      await payments?.stop()
    }
  }
}
