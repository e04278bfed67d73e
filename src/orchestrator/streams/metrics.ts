import { Counter, Gauge, type Registry } from 'prom-client'

/** Metrics of the orchestrator's custom capability stream sessions (`shoal_orchestrator_stream_*`). */
export function createStreamOrchestratorMetrics (register: Registry) {
  return {
    sessions: new Gauge({ name: 'shoal_orchestrator_stream_sessions', help: 'Custom capability stream sessions running', registers: [register] }),
    sessionsEnded: new Counter({ name: 'shoal_orchestrator_stream_sessions_total', help: 'Custom capability stream sessions ended, by close code', labelNames: ['outcome'] as const, registers: [register] }),
    messages: new Counter({ name: 'shoal_orchestrator_stream_messages_total', help: 'Data messages relayed from apps to gateways', registers: [register] }),
    updates: new Counter({ name: 'shoal_orchestrator_stream_updates_total', help: 'Params updates sent to apps, by result (ok: the app answered 2xx)', labelNames: ['result'] as const, registers: [register] }),
    computeMs: new Counter({ name: 'shoal_orchestrator_stream_compute_ms_total', help: 'Milliseconds of stream sessions billed (the time each held its app)', registers: [register] })
  }
}

export type StreamOrchestratorMetrics = ReturnType<typeof createStreamOrchestratorMetrics>
