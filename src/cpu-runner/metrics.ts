import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

/** Runner metrics; labels are bounded (pipeline names, HTTP status codes). */
export function createCpuRunnerMetrics (register: Registry) {
  return {
    requests: new Counter({
      name: 'shoal_runner_requests_total',
      help: 'Pipeline requests answered, by pipeline and HTTP status',
      labelNames: ['pipeline', 'status'] as const,
      registers: [register]
    }),
    duration: new Histogram({
      name: 'shoal_runner_request_duration_seconds',
      help: 'Time from a pipeline request to its response',
      labelNames: ['pipeline'] as const,
      buckets: [0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [register]
    }),
    inFlight: new Gauge({
      name: 'shoal_runner_jobs_in_flight',
      help: 'Jobs running on the model now',
      registers: [register]
    }),
    queued: new Gauge({
      name: 'shoal_runner_jobs_queued',
      help: 'Jobs waiting for a model thread',
      registers: [register]
    }),
    aborted: new Counter({
      name: 'shoal_runner_jobs_aborted_total',
      help: 'Jobs cancelled because the client went away before the response',
      registers: [register]
    }),
    modelLoadSeconds: new Gauge({
      name: 'shoal_runner_model_load_seconds',
      help: 'How long loading the model took',
      registers: [register]
    })
  }
}

export type CpuRunnerMetrics = ReturnType<typeof createCpuRunnerMetrics>
