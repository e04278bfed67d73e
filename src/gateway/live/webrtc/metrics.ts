import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

/** `whip` (publishers) or `whep` (viewers): the only label besides bounded outcomes */
export type LiveWebRtcKind = 'whip' | 'whep'

/**
 * Metrics of the WebRTC adapters. Labels are bounded: the kind, and segment outcomes
 * (`published`, `dropped`, `bad`). Never a stream id or resource id.
 */
export function createLiveWebRtcMetrics (register: Registry) {
  const registers = [register]
  return {
    sessions: new Gauge({
      name: 'shoal_gateway_live_webrtc_sessions',
      help: 'WHIP publishers and WHEP viewers open now, by kind',
      labelNames: ['kind'] as const,
      registers
    }),
    sessionsStarted: new Counter({
      name: 'shoal_gateway_live_webrtc_sessions_started_total',
      help: 'WHIP publishers and WHEP viewers answered, by kind',
      labelNames: ['kind'] as const,
      registers
    }),
    segments: new Counter({
      name: 'shoal_gateway_live_webrtc_segments_total',
      help: 'Segments by kind and outcome: whip published to the session or dropped (backlog, size); whep sent, dropped (slow viewer) or bad (not H.264 MPEG-TS)',
      labelNames: ['kind', 'outcome'] as const,
      registers
    }),
    firstSegmentDelay: new Histogram({
      name: 'shoal_gateway_live_webrtc_first_segment_delay_seconds',
      help: 'From the SDP answer to the first segment taken by the session (whip) or the first frame sent to the viewer (whep)',
      labelNames: ['kind'] as const,
      buckets: [0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30],
      registers
    })
  }
}

export type LiveWebRtcMetrics = ReturnType<typeof createLiveWebRtcMetrics>
