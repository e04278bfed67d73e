/**
 * @packageDocumentation
 *
 * `/shoal/worker/2.0.0`: remote workers. A worker (a machine with runners but no place
 * in the mesh) dials its orchestrator, is accepted when its peer id is in the
 * orchestrator's allow-list (the connection is authenticated by noise, so the remote
 * peer id is the proof), registers its runners and capacity, and keeps the session up
 * with heartbeats; it reconnects with capped exponential backoff. The orchestrator
 * sends it jobs over `/shoal/worker-job/2.0.0` streams on the same connection, which
 * carry the `/shoal/ai/2.0.0` frames. See README.md in this folder.
 *
 * @example Orchestrator side (usually through `createWorkerRunnerManager`)
 * ```ts
 * const server = createWorkerServer({ registrar: node, allowList: ['12D3Koo...'] })
 * server.on('registered', session => console.log(session.peerId, session.runners))
 * await server.start()
 * ```
 *
 * @example Worker side (usually through `startWorker`)
 * ```ts
 * const jobs = createWorkerJobServer({ registrar: node, orchestrator: peerId, executor })
 * await jobs.start()
 * const client = createWorkerClient({ orchestrator: '/ip4/.../tcp/4002/p2p/12D3Koo...', runners: () => workerRunnersFrom(manager.capabilities()), dialProtocol: node.dialProtocol.bind(node) })
 * await client.start()
 * await client.waitRegistered({ signal })
 * ```
 */
export {
  WORKER_PROTOCOL,
  WORKER_PROTOCOL_NAME,
  WORKER_PROTOCOL_VERSION,
  WORKER_JOB_PROTOCOL,
  WORKER_WIRE_VERSION,
  WORKER_LIMITS,
  REFUSAL_CODES,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_HEARTBEAT_TIMEOUT_MS,
  DEFAULT_REGISTER_TIMEOUT_MS,
  DEFAULT_BACKOFF,
  DEFAULT_WORKER_JOB_DEADLINE_MS,
  type RefusalCode
} from './constants.js'
export {
  encodeWorkerMessage,
  decodeWorkerMessage,
  type WorkerRunner,
  type WorkerMessage,
  type WorkerMessageType,
  type RegisterMessage,
  type RegisteredMessage,
  type RefusedMessage,
  type UpdateMessage,
  type PingMessage,
  type PongMessage
} from './codec.js'
export {
  WorkerProtocolError,
  WorkerRefusedError,
  WorkerConfigError,
  type WorkerProtocolErrorCode,
  type WorkerRefusedErrorCode,
  type WorkerConfigErrorCode
} from './errors.js'
export {
  createWorkerMetrics,
  type WorkerMetrics,
  type WorkerRegistrationResult,
  type WorkerSessionEndReason,
  type WorkerConnectResult,
  type WorkerJobOutcome
} from './metrics.js'
export {
  createWorkerServer,
  parseAllowList,
  WORKER_PEER_TAG,
  type WorkerServer,
  type WorkerServerInit,
  type WorkerServerComponents,
  type WorkerServerEvents,
  type WorkerSession,
  type WorkerRegistrar
} from './server.js'
export {
  createWorkerClient,
  orchestratorAddress,
  backoffDelay,
  type WorkerClient,
  type WorkerClientInit,
  type WorkerClientComponents,
  type WorkerClientEvents,
  type WorkerRegistration,
  type BackoffOptions
} from './client.js'
export {
  createWorkerJobServer,
  createWorkerJobClient,
  onlyFromPeer,
  workerRunnersFrom,
  type WorkerJobServerInit,
  type WorkerJobClientInit
} from './job.js'
