import { Counter, type Registry } from 'prom-client'

/** Why the orchestrator refused to run a job for payment reasons; a bounded label set. */
export const PAYMENT_REFUSALS = ['no_payment', 'malformed', 'bad_binding', 'ticket_refused', 'insufficient_balance', 'params_unavailable'] as const
export type PaymentRefusal = typeof PAYMENT_REFUSALS[number]

export function createOrchestratorMetrics (register: Registry) {
  return {
    paymentRefusals: new Counter({
      name: 'shoal_orchestrator_payment_refusals_total',
      help: 'Jobs refused for payment reasons, by reason (ticket-level reasons are in shoal_payments_tickets_received_total)',
      labelNames: ['reason'] as const,
      registers: [register]
    }),
    jobsCharged: new Counter({
      name: 'shoal_orchestrator_jobs_charged_total',
      help: 'Jobs completed and charged to a gateway\'s balance',
      registers: [register]
    })
  }
}

export type OrchestratorMetrics = ReturnType<typeof createOrchestratorMetrics>
