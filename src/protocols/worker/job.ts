/**
 * The job leg of the worker protocol: `/shoal/worker-job/2.0.0` streams, opened by the
 * orchestrator on the connection its worker dialled, carrying the `/shoal/ai/2.0.0`
 * frames unchanged. Both ends are the ai protocol's own client and handler, so jobs to
 * a worker get the same framing, flow control, cancel and deadline handling, and the
 * same persistent stream pool, as jobs from a gateway.
 */
import type { PeerId } from '@libp2p/interface'
import type { ModelCapability } from '../../inference/managers/types.js'
import type { Logger } from '../../observability/logger.js'
import { createAiClient, createAiProtocol, type AiClient, type AiExecutor, type AiMetrics, type AiProtocol, type AiRegistrar, type AiServerLimits } from '../ai/index.js'
import type { WorkerRunner } from './codec.js'
import { DEFAULT_JOB_OPEN_TIMEOUT_MS, WORKER_JOB_PROTOCOL } from './constants.js'
import type { WorkerSession } from './server.js'

/**
 * A registrar whose handlers only ever see streams from `peer`: streams of any other
 * peer are reset before the handler runs. A worker listens like any node, but takes
 * jobs from its orchestrator alone.
 */
export function onlyFromPeer (registrar: AiRegistrar, peer: PeerId): AiRegistrar {
  return {
    handle: async (protocol, handler, options) => {
      await registrar.handle(protocol, (stream, connection) => {
        if (!connection.remotePeer.equals(peer)) {
          stream.abort(new Error(`${protocol} is served to this worker's orchestrator only`))
          return
        }
        return handler(stream, connection)
      }, options)
    },
    unhandle: async (protocol, options) => { await registrar.unhandle(protocol, options) }
  }
}

export interface WorkerJobServerInit {
  registrar: AiRegistrar
  /** the only peer whose jobs are served */
  orchestrator: PeerId
  /** runs jobs on the worker's own runners (e.g. `createJobExecutor({ manager })`) */
  executor: AiExecutor
  logger?: Logger
  metrics?: AiMetrics | null
  limits?: AiServerLimits
}

/** Worker side: serves `/shoal/worker-job/2.0.0` to the orchestrator alone. Call `start()` before registering. */
export function createWorkerJobServer (init: WorkerJobServerInit): AiProtocol {
  return createAiProtocol({
    registrar: onlyFromPeer(init.registrar, init.orchestrator),
    executor: init.executor,
    protocol: WORKER_JOB_PROTOCOL,
    ...(init.logger !== undefined ? { logger: init.logger } : {}),
    metrics: init.metrics ?? null,
    ...(init.limits !== undefined ? { limits: init.limits } : {})
  })
}

export interface WorkerJobClientInit {
  /** the live session of a worker, by peer id string */
  session: (peerId: string) => WorkerSession | undefined
  logger?: Logger
  metrics?: AiMetrics | null
  /** opening a stream on the worker's connection @default 5_000 */
  openTimeoutMs?: number
}

/**
 * Orchestrator side: an ai client whose streams are opened on the registered worker's
 * own connection (never a redial: a worker that is gone fails the job at once).
 */
export function createWorkerJobClient (init: WorkerJobClientInit): AiClient {
  return createAiClient({
    dialProtocol: async (peer, protocol, options) => {
      const session = init.session(peer.toString())
      if (session === undefined || session.ended) throw new Error(`worker ${peer.toString()} is not registered`)
      return await session.newStream(protocol, options)
    },
    protocol: WORKER_JOB_PROTOCOL,
    openTimeoutMs: init.openTimeoutMs ?? DEFAULT_JOB_OPEN_TIMEOUT_MS,
    ...(init.logger !== undefined ? { logger: init.logger } : {}),
    metrics: init.metrics ?? null
  })
}

/** What a worker registers: its runner manager's capabilities, one entry per (pipeline, model). */
export function workerRunnersFrom (capabilities: readonly ModelCapability[]): WorkerRunner[] {
  return capabilities.map(c => ({ pipeline: c.pipeline, modelId: c.modelId, capacity: c.capacity, warm: c.warm, runnerVersion: c.runnerVersion }))
}
