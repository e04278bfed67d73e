import { Counter, Gauge, type Registry } from 'prom-client'

/** What became of a registration attempt, as the orchestrator saw it. */
export type WorkerRegistrationResult = 'accepted' | 'not_allowed' | 'invalid' | 'version' | 'shutting_down' | 'protocol_error' | 'timeout'
/** Why an orchestrator-side worker session ended. */
export type WorkerSessionEndReason = 'closed' | 'heartbeat_timeout' | 'replaced' | 'protocol_error' | 'stopped'
/** What became of one connection attempt of a worker. */
export type WorkerConnectResult = 'registered' | 'refused' | 'failed'
/** How a job sent to a worker ended (orchestrator side). */
export type WorkerJobOutcome = 'ok' | 'unreachable' | 'refused' | 'failed' | 'aborted'

/**
 * Metrics of `/shoal/worker`, both ends. Create once per registry; the orchestrator
 * records the `registrations`, `sessions`, `sessionEnds`, `workerSlots` and `jobs`
 * series, a worker the `connects` and `registered` ones. Labels come from the enums
 * above and pipeline names; never peer ids or models.
 */
export function createWorkerMetrics (register: Registry) {
  const registers = [register]
  return {
    registrations: new Counter({
      name: 'shoal_worker_registrations_total',
      help: 'Worker registrations received by this orchestrator, by result',
      labelNames: ['result'] as const,
      registers
    }),
    sessions: new Gauge({
      name: 'shoal_worker_sessions',
      help: 'Workers registered with this orchestrator now',
      registers
    }),
    sessionEnds: new Counter({
      name: 'shoal_worker_session_ends_total',
      help: 'Worker sessions ended, by reason',
      labelNames: ['reason'] as const,
      registers
    }),
    workerSlots: new Gauge({
      name: 'shoal_worker_slots',
      help: 'Job slots offered by registered workers now, all models together',
      registers
    }),
    jobs: new Counter({
      name: 'shoal_worker_jobs_total',
      help: 'Jobs sent to workers, by pipeline and outcome',
      labelNames: ['pipeline', 'outcome'] as const,
      registers
    }),
    connects: new Counter({
      name: 'shoal_worker_connect_attempts_total',
      help: 'Attempts of this worker to register with its orchestrator, by result',
      labelNames: ['result'] as const,
      registers
    }),
    registered: new Gauge({
      name: 'shoal_worker_registered',
      help: '1 while this worker is registered with its orchestrator, else 0',
      registers
    })
  }
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>
