/**
 * The gateway: the HTTP API (`http/`), orchestrator selection (`selection/`), the
 * retrying dispatcher (`dispatch/`), asynchronous jobs (`async/`) and their metrics.
 * A role file wires them: directory -> candidates, protocol client -> send.
 */
export * from './http/index.js'
export * from './selection/index.js'
export * from './dispatch/index.js'
export { createAsyncJobStore, type AsyncJobStore, type AsyncJob, type AsyncJobOutcome, type AsyncJobStoreOptions } from './async/store.js'
export { createGatewayMetrics, statusClass, type GatewayMetrics } from './metrics.js'
