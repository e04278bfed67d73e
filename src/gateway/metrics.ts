import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

/** `2xx`, `4xx`, ...: HTTP statuses as a bounded label. */
export function statusClass (status: number): string {
  if (status >= 100 && status < 600) return `${Math.floor(status / 100)}xx`
  return 'other'
}

/**
 * The gateway's metrics: HTTP requests, dispatches, attempts and selection. Labels are
 * bounded: pipeline names (or `none` for non-pipeline routes), status classes, error
 * codes from declared sets, attempt outcomes. Never peer ids, request ids or models.
 */
export function createGatewayMetrics (register: Registry) {
  const registers = [register]
  return {
    register,
    requests: new Counter({
      name: 'shoal_gateway_requests_total',
      help: 'HTTP requests, by pipeline (none for other routes) and status class (aborted when the response was cut)',
      labelNames: ['pipeline', 'status_class'] as const,
      registers
    }),
    errors: new Counter({
      name: 'shoal_gateway_errors_total',
      help: 'HTTP requests answered with an error, by pipeline and error code',
      labelNames: ['pipeline', 'code'] as const,
      registers
    }),
    requestDuration: new Histogram({
      name: 'shoal_gateway_request_duration_seconds',
      help: 'Time from request to the end of the response, by pipeline',
      labelNames: ['pipeline'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers
    }),
    inflight: new Gauge({
      name: 'shoal_gateway_inflight_requests',
      help: 'Pipeline requests being served now',
      registers
    }),
    dispatchResults: new Counter({
      name: 'shoal_gateway_dispatch_results_total',
      help: 'Dispatches by pipeline and result (success, no_orchestrator, rejected, aborted)',
      labelNames: ['pipeline', 'result'] as const,
      registers
    }),
    dispatchDuration: new Histogram({
      name: 'shoal_gateway_dispatch_duration_seconds',
      help: 'Time from dispatch to the runner response (or giving up), by pipeline and result',
      labelNames: ['pipeline', 'result'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers
    }),
    dispatchTries: new Histogram({
      name: 'shoal_gateway_dispatch_tries',
      help: 'Attempts made per dispatch, by pipeline',
      labelNames: ['pipeline'] as const,
      buckets: [0, 1, 2, 3, 4, 6, 8, 12, 20],
      registers
    }),
    attempts: new Counter({
      name: 'shoal_gateway_dispatch_attempts_total',
      help: 'Attempts on orchestrators by pipeline, outcome (success, busy, failure, rejected, aborted) and error code (none when there was none)',
      labelNames: ['pipeline', 'outcome', 'error_code'] as const,
      registers
    }),
    attemptsCut: new Counter({
      name: 'shoal_gateway_dispatch_attempts_cut_total',
      help: 'Attempts stopped before their answer because their orchestrator became unreachable (missed pings, connection closed), by pipeline; each is retried elsewhere',
      labelNames: ['pipeline'] as const,
      registers
    }),
    selectionCandidates: new Histogram({
      name: 'shoal_gateway_selection_candidates',
      help: 'Candidates left after the price filter and suspensions, per selection round, by pipeline',
      labelNames: ['pipeline'] as const,
      buckets: [0, 1, 2, 3, 5, 8, 13, 21, 34, 55],
      registers
    }),
    selectionExcluded: new Counter({
      name: 'shoal_gateway_selection_excluded_total',
      help: 'Candidates left out of a selection round, by pipeline and reason (price, suspended)',
      labelNames: ['pipeline', 'reason'] as const,
      registers
    }),
    asyncJobs: new Gauge({
      name: 'shoal_gateway_async_jobs',
      help: 'Asynchronous jobs held, by state (processing, complete)',
      labelNames: ['state'] as const,
      registers
    })
  }
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>
