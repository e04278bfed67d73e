import { Counter, Gauge, type Registry } from 'prom-client'

/** Metrics of the gateway's custom capability stream sessions (`shoal_gateway_stream_*`); no session or peer label. */
export function createGatewayStreamMetrics (register: Registry) {
  return {
    sessions: new Gauge({ name: 'shoal_gateway_stream_sessions', help: 'Custom capability stream sessions running', registers: [register] }),
    sessionsEnded: new Counter({ name: 'shoal_gateway_stream_sessions_total', help: 'Custom capability stream sessions ended, by final state', labelNames: ['outcome'] as const, registers: [register] }),
    messages: new Counter({ name: 'shoal_gateway_stream_messages_total', help: 'Data messages received from orchestrators', registers: [register] }),
    subscribers: new Gauge({ name: 'shoal_gateway_stream_subscribers', help: 'Clients reading a stream session\'s data channel', registers: [register] }),
    paid: new Counter({ name: 'shoal_gateway_stream_paid_wei_total', help: 'Wei paid for stream sessions (fees, not ticket face values)', registers: [register] })
  }
}

export type GatewayStreamMetrics = ReturnType<typeof createGatewayStreamMetrics>
