import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

/** Metrics of the gateway's live sessions, named after the batch path's (`shoal_gateway_*`); no stream or peer label. */
export function createGatewayLiveMetrics (register: Registry) {
  return {
    sessions: new Gauge({ name: 'shoal_gateway_live_sessions', help: 'Live video sessions running', registers: [register] }),
    sessionsEnded: new Counter({ name: 'shoal_gateway_live_sessions_total', help: 'Live video sessions ended, by final state', labelNames: ['outcome'] as const, registers: [register] }),
    frames: new Counter({ name: 'shoal_gateway_live_frames_total', help: 'Live video frames, by direction (in: from clients, out: from orchestrators); their rate is the fps', labelNames: ['direction'] as const, registers: [register] }),
    bytes: new Counter({ name: 'shoal_gateway_live_bytes_total', help: 'Live video bytes, by direction', labelNames: ['direction'] as const, registers: [register] }),
    segmentLatency: new Histogram({ name: 'shoal_gateway_live_segment_latency_seconds', help: 'From an input segment sent to the orchestrator to its output segment back', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8], registers: [register] }),
    firstSegmentSeconds: new Histogram({ name: 'shoal_gateway_live_first_segment_seconds', help: 'From a session start to its first output segment', buckets: [0.25, 0.5, 1, 2, 4, 8, 16, 32], registers: [register] }),
    swaps: new Counter({ name: 'shoal_gateway_live_swaps_total', help: 'Orchestrator swaps of live sessions, by result', labelNames: ['result'] as const, registers: [register] }),
    paid: new Counter({ name: 'shoal_gateway_live_paid_wei_total', help: 'Wei paid in tickets on live streams (fees, not ticket face values)', registers: [register] })
  }
}

export type GatewayLiveMetrics = ReturnType<typeof createGatewayLiveMetrics>
