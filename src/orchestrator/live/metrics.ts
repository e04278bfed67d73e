import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

/** Metrics of the orchestrator's live sessions, named after the batch path's (`shoal_orchestrator_*`). */
export function createLiveOrchestratorMetrics (register: Registry) {
  return {
    sessions: new Gauge({ name: 'shoal_orchestrator_live_sessions', help: 'Live video sessions running', registers: [register] }),
    sessionsEnded: new Counter({ name: 'shoal_orchestrator_live_sessions_total', help: 'Live video sessions ended, by close code', labelNames: ['outcome'] as const, registers: [register] }),
    segments: new Counter({ name: 'shoal_orchestrator_live_segments_total', help: 'Live video segments relayed, by direction (in: to the runner, out: to the gateway)', labelNames: ['direction'] as const, registers: [register] }),
    bytes: new Counter({ name: 'shoal_orchestrator_live_bytes_total', help: 'Live video bytes relayed, by direction', labelNames: ['direction'] as const, registers: [register] }),
    pixels: new Counter({ name: 'shoal_orchestrator_live_pixels_total', help: 'Pixels delivered (width x height x frames of output segments), what is charged', registers: [register] }),
    payments: new Counter({ name: 'shoal_orchestrator_live_payments_total', help: 'Ticket batches received on live streams, by result', labelNames: ['result'] as const, registers: [register] }),
    firstSegmentSeconds: new Histogram({ name: 'shoal_orchestrator_live_first_segment_seconds', help: 'From session start to the first output segment', buckets: [0.25, 0.5, 1, 2, 4, 8, 16, 32], registers: [register] })
  }
}

export type LiveOrchestratorMetrics = ReturnType<typeof createLiveOrchestratorMetrics>
