/**
 * Remote workers on the orchestrator side: `createWorkerRunnerManager` turns the
 * workers registered over `/shoal/worker/2.0.0` into a `RunnerManager`.
 *
 * @example
 * const workers = createWorkerRunnerManager({ registrar: mesh.node, allowList: ['12D3KooW...'], logger, metrics: createWorkerMetrics(register) })
 * const manager = createCompositeRunnerManager([createRunnerManager(models, { logger }), workers])
 * await manager.start({ signal })
 * manager.on('change', () => publisher.update())
 */
export { createWorkerRunnerManager, type WorkerRunnerManager, type WorkerRunnerManagerInit, type WorkerStatus } from './manager.js'
export { createWorkerRunnerClient, type WorkerRunnerClientInit } from './runner-client.js'
