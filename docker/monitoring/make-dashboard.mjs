// Writes grafana-dashboard.json (run: node docker/monitoring/make-dashboard.mjs). The panels
// are listed here, short, and the JSON is generated so that ids and grid positions stay
// consistent; test/docker/monitoring.unit.spec.ts checks every metric it names exists.
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const rows = [
  ['Gateway: requests', [
    ['Requests by pipeline and status', 'sum by (pipeline, status_class) (rate(shoal_gateway_requests_total{role="gateway"}[$__rate_interval]))', 'reqps'],
    ['Request duration p50 / p95', ['histogram_quantile(0.5, sum by (le, pipeline) (rate(shoal_gateway_request_duration_seconds_bucket[$__rate_interval])))', 'histogram_quantile(0.95, sum by (le, pipeline) (rate(shoal_gateway_request_duration_seconds_bucket[$__rate_interval])))'], 's'],
    ['Errors by code', 'sum by (code) (rate(shoal_gateway_errors_total[$__rate_interval]))', 'reqps'],
    ['In flight (sync) and async jobs', ['shoal_gateway_inflight_requests', 'sum by (state) (shoal_gateway_async_jobs)'], 'short']
  ]],
  ['Gateway: dispatch and selection', [
    ['Dispatch results', 'sum by (pipeline, result) (rate(shoal_gateway_dispatch_results_total[$__rate_interval]))', 'ops'],
    ['Attempts by outcome', 'sum by (outcome, error_code) (rate(shoal_gateway_dispatch_attempts_total[$__rate_interval]))', 'ops'],
    ['Dispatch duration p95 (to the first byte)', 'histogram_quantile(0.95, sum by (le, pipeline) (rate(shoal_gateway_dispatch_duration_seconds_bucket[$__rate_interval])))', 's'],
    ['Tries per dispatch p95', 'histogram_quantile(0.95, sum by (le, pipeline) (rate(shoal_gateway_dispatch_tries_bucket[$__rate_interval])))', 'short'],
    ['Candidates per selection p50', 'histogram_quantile(0.5, sum by (le, pipeline) (rate(shoal_gateway_selection_candidates_bucket[$__rate_interval])))', 'short'],
    ['Candidates left out', 'sum by (reason) (rate(shoal_gateway_selection_excluded_total[$__rate_interval]))', 'ops'],
    ['Orchestrators in the directory', 'sum by (instance) (shoal_discovery_directory_entries)', 'short']
  ]],
  ['Payments', [
    ['Tickets sent (gateway)', 'sum(rate(shoal_payments_tickets_sent_total{role="gateway"}[$__rate_interval]))', 'ops'],
    ['Expected value sent (gateway, wei/s)', 'sum(rate(shoal_payments_ev_sent_wei_total{role="gateway"}[$__rate_interval]))', 'short'],
    ['Tickets received and winning (orchestrators)', ['sum by (instance) (rate(shoal_payments_tickets_received_total{role="orchestrator"}[$__rate_interval]))', 'sum by (instance) (rate(shoal_payments_winning_tickets_total{role="orchestrator"}[$__rate_interval]))'], 'ops'],
    ['Debited and credited (orchestrators, wei/s)', ['sum by (instance) (rate(shoal_payments_debited_wei_total[$__rate_interval]))', 'sum by (instance) (rate(shoal_payments_ev_credited_wei_total[$__rate_interval]))'], 'short'],
    ['Redeemed (wei/s) and pending winning tickets', ['sum by (instance) (rate(shoal_payments_redeemed_wei_total[$__rate_interval]))', 'sum by (instance) (shoal_payments_pending_winning_tickets)'], 'short'],
    ['Refusals', ['sum by (instance) (rate(shoal_orchestrator_payment_refusals_total[$__rate_interval]))', 'sum by (instance) (rate(shoal_payments_insufficient_balance_total[$__rate_interval]))'], 'ops']
  ]],
  ['Orchestrators: jobs and runners', [
    ['Jobs served by pipeline and code', 'sum by (pipeline, code) (rate(shoal_ai_server_jobs_total[$__rate_interval]))', 'ops'],
    ['Job duration p95', 'histogram_quantile(0.95, sum by (le, pipeline) (rate(shoal_ai_server_job_duration_seconds_bucket[$__rate_interval])))', 's'],
    ['Active jobs and open streams', ['sum by (instance) (shoal_ai_server_active_jobs)', 'sum by (instance) (shoal_ai_server_open_streams)'], 'short'],
    ['Runner jobs in flight and queued', ['sum by (instance, pipeline) (shoal_runner_jobs_in_flight)', 'sum by (instance, pipeline) (shoal_runner_jobs_queued)'], 'short'],
    ['Jobs charged', 'sum by (instance) (rate(shoal_orchestrator_jobs_charged_total[$__rate_interval]))', 'ops']
  ]]
]

// Grafana's own variable syntax, not a JavaScript template
// eslint-disable-next-line no-template-curly-in-string
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' }

const panels = []
let id = 1
let y = 0
for (const [title, list] of rows) {
  panels.push({ id: id++, type: 'row', title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] })
  y += 1
  list.forEach(([panelTitle, exprs, unit], i) => {
    const targets = (Array.isArray(exprs) ? exprs : [exprs]).map((expr, j) => ({ refId: String.fromCharCode(65 + j), expr, datasource: DATASOURCE }))
    panels.push({
      id: id++,
      type: 'timeseries',
      title: panelTitle,
      datasource: DATASOURCE,
      gridPos: { h: 8, w: 8, x: (i % 3) * 8, y: y + Math.floor(i / 3) * 8 },
      fieldConfig: { defaults: { unit }, overrides: [] },
      options: { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
      targets
    })
  })
  y += Math.ceil(list.length / 3) * 8
}

const dashboard = {
  title: 'Shoal mesh',
  uid: 'shoal-mesh',
  description: 'The gateway\'s and orchestrators\' Prometheus metrics (docker/monitoring/prometheus.yml scrapes them)',
  tags: ['shoal'],
  timezone: 'browser',
  schemaVersion: 39,
  version: 1,
  refresh: '10s',
  time: { from: 'now-1h', to: 'now' },
  templating: { list: [{ name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Prometheus', current: {} }] },
  panels
}

writeFileSync(fileURLToPath(new URL('grafana-dashboard.json', import.meta.url)), JSON.stringify(dashboard, null, 2) + '\n')
