import { Counter, Gauge, type Registry } from 'prom-client'

/**
 * Receipts and spot checks at the gateway. Labels are bounded: pipeline names, the
 * role of a job in a check, verdicts, receipt error codes. Never peers or requests.
 */
export function createVerificationMetrics (register: Registry) {
  const registers = [register]
  return {
    receipts: new Counter({
      name: 'shoal_gateway_receipts_total',
      help: 'Signed receipts of jobs the gateway relayed: kept, or refused (the ReceiptError code without its prefix)',
      labelNames: ['result'] as const,
      registers
    }),
    checks: new Counter({
      name: 'shoal_gateway_spot_checks_total',
      help: 'Spot checks by pipeline and result: agree, disagree (a referee decided), unresolved (no referee, or it agreed with neither), inconclusive, failed (a check job failed), skipped (no other operator, busy or too large)',
      labelNames: ['pipeline', 'result'] as const,
      registers
    }),
    checkJobs: new Counter({
      name: 'shoal_gateway_spot_check_jobs_total',
      help: 'Jobs the gateway ran only to check another (role: check or referee), by pipeline: the extra compute of verification',
      labelNames: ['pipeline', 'role'] as const,
      registers
    }),
    checkWei: new Counter({
      name: 'shoal_gateway_spot_check_charged_wei_total',
      help: 'Wei the orchestrators charged for check and referee jobs (from their signed receipts), by pipeline',
      labelNames: ['pipeline'] as const,
      registers
    }),
    checkUnits: new Counter({
      name: 'shoal_gateway_spot_check_units_total',
      help: 'Units of work of check and referee jobs (from their signed receipts), by pipeline',
      labelNames: ['pipeline'] as const,
      registers
    }),
    primaryUnits: new Counter({
      name: 'shoal_gateway_receipt_units_total',
      help: 'Units of work of the jobs relayed to clients (from their signed receipts), by pipeline: the base the check cost compares to',
      labelNames: ['pipeline'] as const,
      registers
    }),
    faults: new Counter({
      name: 'shoal_gateway_orchestrator_faults_total',
      help: 'Wrong answers confirmed by a referee, and refused receipts, by pipeline and kind',
      labelNames: ['pipeline', 'kind'] as const,
      registers
    }),
    excluded: new Gauge({
      name: 'shoal_gateway_excluded_orchestrators',
      help: 'Orchestrators excluded from selection for confirmed wrong answers',
      registers
    })
  }
}

export type VerificationMetrics = ReturnType<typeof createVerificationMetrics>
