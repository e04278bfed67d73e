import type { NodeOptions } from '../cli/options/node.js'
import type { DirectoryCandidate, OrchestratorDirectory } from '../discovery/directory.js'
import { createDispatcher, type DispatcherOptions } from '../gateway/dispatch/index.js'
import type { PaymentCliOptions } from '../cli/options/payments.js'
import { aiSend } from './ai-send.js'
import { startGatewayPayments, type GatewayPayments } from './payments.js'
import { createGatewayHttpServer, type GatewayHttpOptions, type GatewayHttpServer } from '../gateway/http/index.js'
import { createGatewayMetrics } from '../gateway/metrics.js'
import { createAdaptiveStrategy, type Candidate } from '../gateway/selection/index.js'
import type { PipelineName } from '../inference/pipelines.js'
import type { Logger } from '../observability/logger.js'
import { createMesh, meshOptionsFor, type Mesh } from './mesh.js'
import { prepareNode } from './node-context.js'

export interface GatewayRoleOptions {
  node: NodeOptions
  http: Partial<GatewayHttpOptions>
  dispatch: Partial<DispatcherOptions>
  /** how long a DHT lookup may take when the directory has no candidate */
  dhtLookupTimeoutMs: number
  payments: PaymentCliOptions
}

export interface GatewayRole {
  mesh: Mesh
  http: GatewayHttpServer
  peerId: string
  ethAddress: string
  url: string
  payments: GatewayPayments | undefined
  stop: () => Promise<void>
}

export function toCandidate (c: DirectoryCandidate): Candidate {
  return {
    peerId: c.peerId,
    pipeline: c.offer.pipeline,
    modelId: c.offer.modelId,
    warm: c.offer.warm,
    capacity: c.offer.capacity,
    inUse: c.offer.inUse,
    pricePerUnit: BigInt(c.offer.pricePerUnit),
    pixelsPerUnit: BigInt(c.offer.pixelsPerUnit)
  }
}

/**
 * Candidates from the directory; when it has none fresh, a DHT lookup in the
 * background fills it for the next request (and this one, if it is quick enough to wait).
 */
export function directoryCandidates (directory: OrchestratorDirectory, lookup: Mesh['lookup'], logger: Logger, timeoutMs: number) {
  const inFlight = new Map<string, Promise<number>>()
  return {
    list: (pipeline: PipelineName, modelId: string): Candidate[] => directory.candidates(pipeline, modelId).map(toCandidate),
    async refill (pipeline: PipelineName, modelId: string, signal: AbortSignal): Promise<void> {
      const key = `${pipeline}/${modelId}`
      let pending = inFlight.get(key)
      if (pending === undefined) {
        pending = lookup.lookup(pipeline, modelId, { signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) })
          .finally(() => { inFlight.delete(key) })
        inFlight.set(key, pending)
      }
      const added = await pending
      logger.debug({ pipeline, modelId, added }, 'DHT lookup for candidates')
    }
  }
}

/**
 * A gateway: the mesh (gossip + DHT + /shoal/info feeding the directory), selection and
 * the retrying dispatcher, and the Livepeer-compatible HTTP API. `send` carries a job
 * to one orchestrator (the /shoal/ai client).
 */
export async function startGateway (options: GatewayRoleOptions, logger: Logger, signal?: AbortSignal): Promise<GatewayRole> {
  const { keys, peerId, log, register } = await prepareNode(options.node.dataDir, logger)
  const mesh = await createMesh(meshOptionsFor(options.node, keys.libp2p), { logger: log, register })
  await mesh.start({ signal })

  const metrics = createGatewayMetrics(register)
  const payments = options.payments.enabled ? await startGatewayPayments(options.payments, keys, register, signal) : undefined
  const candidates = directoryCandidates(mesh.directory, mesh.lookup, log, options.dhtLookupTimeoutMs)
  const dispatcher = createDispatcher({
    candidates: candidates.list,
    strategy: createAdaptiveStrategy(),
    send: aiSend(mesh.node, { logger: log, payments, register }),
    options: options.dispatch,
    logger: log,
    metrics
  })
  const http = createGatewayHttpServer({
    dispatcher: {
      async dispatch (job, dispatchOptions) {
        if (mesh.directory.candidates(job.pipeline, job.modelId).length === 0) {
          await candidates.refill(job.pipeline, job.modelId, dispatchOptions.signal)
        }
        return await dispatcher.dispatch(job, dispatchOptions)
      }
    },
    directory: { list: () => mesh.directory.toJSON() as unknown[] },
    options: options.http,
    logger: log,
    metrics,
    registry: register
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
    async stop () {
      await http.stop()
      await mesh.stop()
      await payments?.stop()
    }
  }
}
