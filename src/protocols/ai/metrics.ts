import type { JobOutcome } from '../../kernel/job-outcome.js'
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { isPipelineName } from '../../kernel/pipelines.js'

/** A pipeline name as a bounded label: a known pipeline or `unknown`. */
export function pipelineLabel (pipeline: string): string {
  return isPipelineName(pipeline) ? pipeline : 'unknown'
}

/** Client job outcomes: the Final codes plus what happens without a Final. */
export type AiClientOutcome = JobOutcome | 'ABORTED'

/** Why a stream of this protocol was reset: `AiProtocolError` codes without their prefix, or `reset` (by the remote). */
export type AiStreamErrorReason = 'MALFORMED_FRAME' | 'FRAME_TOO_LARGE' | 'UNKNOWN_FRAME' | 'UNEXPECTED_FRAME' |
'INPUT_TOO_LARGE' | 'INPUT_MISMATCH' | 'UNEXPECTED_EOF' | 'reset'

const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]

/**
 * Metrics of the `/shoal/ai` protocol, client and server side. Create once per
 * registry and pass to both. Labels are bounded: pipeline names (or `unknown`), Final
 * codes, outcome and reason enums; never peers, models or request ids.
 */
export function createAiMetrics (register: Registry) {
  const registers = [register]
  return {
    clientJobs: new Counter({
      name: 'shoal_ai_client_jobs_total',
      help: 'Jobs sent over /shoal/ai, by pipeline and outcome (Final code, UNREACHABLE or ABORTED)',
      labelNames: ['pipeline', 'outcome'] as const,
      registers
    }),
    clientJobDuration: new Histogram({
      name: 'shoal_ai_client_job_duration_seconds',
      help: 'Time from sending a job to its Final (or failure), by pipeline',
      labelNames: ['pipeline'] as const,
      buckets: DURATION_BUCKETS,
      registers
    }),
    clientTimeToHead: new Histogram({
      name: 'shoal_ai_client_time_to_head_seconds',
      help: 'Time from sending a job to its ResultHead, by pipeline',
      labelNames: ['pipeline'] as const,
      buckets: DURATION_BUCKETS,
      registers
    }),
    clientStreams: new Counter({
      name: 'shoal_ai_client_stream_acquisitions_total',
      help: 'Streams taken for a job: reused from the pool or newly opened',
      labelNames: ['kind'] as const,
      registers
    }),
    clientReceipts: new Counter({
      name: 'shoal_ai_client_receipts_total',
      help: 'Signed receipts in OK Finals as the client checked them: valid, or the ReceiptError code without its prefix',
      labelNames: ['result'] as const,
      registers
    }),
    serverReceiptsSigned: new Counter({
      name: 'shoal_ai_server_receipts_signed_total',
      help: 'Signed receipts put into OK Finals',
      registers
    }),
    clientIdleStreams: new Gauge({
      name: 'shoal_ai_client_idle_streams',
      help: 'Idle pooled streams, all peers together',
      registers
    }),
    clientInputBytes: new Counter({
      name: 'shoal_ai_client_input_bytes_total',
      help: 'Input bytes sent in InputChunk frames',
      registers
    }),
    serverJobs: new Counter({
      name: 'shoal_ai_server_jobs_total',
      help: 'Jobs received over /shoal/ai, by pipeline and Final code',
      labelNames: ['pipeline', 'code'] as const,
      registers
    }),
    serverJobDuration: new Histogram({
      name: 'shoal_ai_server_job_duration_seconds',
      help: 'Time from JobHeader to Final, by pipeline',
      labelNames: ['pipeline'] as const,
      buckets: DURATION_BUCKETS,
      registers
    }),
    serverActiveJobs: new Gauge({
      name: 'shoal_ai_server_active_jobs',
      help: 'Jobs between JobHeader and Final now',
      registers
    }),
    serverStreams: new Gauge({
      name: 'shoal_ai_server_open_streams',
      help: 'Inbound /shoal/ai streams open now',
      registers
    }),
    serverInputBytes: new Counter({
      name: 'shoal_ai_server_input_bytes_total',
      help: 'Input bytes received in InputChunk frames',
      registers
    }),
    serverBufferedInputBytes: new Gauge({
      name: 'shoal_ai_server_buffered_input_bytes',
      help: 'Input bytes reserved in the memory budget now (declared inputs of jobs in progress), all peers together',
      registers
    }),
    serverBudgetRefusals: new Counter({
      name: 'shoal_ai_server_budget_refusals_total',
      help: 'JobHeaders refused because their declared input did not fit the memory budget, by scope (peer, node)',
      labelNames: ['scope'] as const,
      registers
    }),
    serverInputStalls: new Counter({
      name: 'shoal_ai_server_input_stalls_total',
      help: 'Uploads ended because no input frame arrived within the receive deadline',
      registers
    }),
    serverOutputBytes: new Counter({
      name: 'shoal_ai_server_output_bytes_total',
      help: 'Result bytes sent in ResultChunk frames',
      registers
    }),
    streamErrors: new Counter({
      name: 'shoal_ai_stream_errors_total',
      help: 'Streams reset, by side (client, server) and reason',
      labelNames: ['side', 'reason'] as const,
      registers
    })
  }
}

export type AiMetrics = ReturnType<typeof createAiMetrics>
