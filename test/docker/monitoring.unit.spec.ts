import { expect } from 'chai'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parse } from 'yaml'

const ROOT = join(import.meta.dirname, '..', '..')

/** Every metric name declared in src/**\/metrics.ts (`name: 'shoal_...'`). */
async function declaredMetrics (): Promise<Set<string>> {
  const names = new Set<string>()
  const files = (await readdir(join(ROOT, 'src'), { recursive: true })).filter(f => f.endsWith('metrics.ts'))
  for (const file of files) {
    for (const m of (await readFile(join(ROOT, 'src', file), 'utf8')).matchAll(/name: '(shoal_[a-z0-9_]+)'/g)) names.add(m[1] as string)
  }
  return names
}

describe('docker/monitoring: Grafana dashboard and Prometheus scrape configuration', () => {
  it('the dashboard queries only metrics that the code declares, and covers the gateway, payments and orchestrators', async () => {
    const declared = await declaredMetrics()
    const dashboard = JSON.parse(await readFile(join(ROOT, 'docker/monitoring/grafana-dashboard.json'), 'utf8')) as { uid: string, panels: Array<{ type: string, targets?: Array<{ expr: string }> }> }
    const exprs = dashboard.panels.flatMap(p => p.targets ?? []).map(t => t.expr)
    const used = new Set(exprs.flatMap(e => [...e.matchAll(/\b(shoal_[a-z0-9_]+)/g)].map(m => (m[1] as string).replace(/_bucket$/, ''))))
    expect([...used].filter(n => !declared.has(n)), 'metrics the code does not declare').to.deep.equal([])
    for (const prefix of ['shoal_gateway_', 'shoal_payments_', 'shoal_ai_server_', 'shoal_runner_', 'shoal_orchestrator_']) {
      expect([...used].some(n => n.startsWith(prefix)), prefix).to.equal(true)
    }
    // panel ids are unique (Grafana keys panels by id)
    const ids = dashboard.panels.map(p => (p as { id?: number }).id)
    expect(new Set(ids).size).to.equal(ids.length)
  })

  it('the scrape configuration names the gateway and orchestrator jobs with the role label the dashboard filters on', async () => {
    const config = parse(await readFile(join(ROOT, 'docker/monitoring/prometheus.yml'), 'utf8')) as { scrape_configs: Array<{ job_name: string, metrics_path: string, static_configs: Array<{ targets: string[], labels: { role: string } }> }> }
    const roles = config.scrape_configs.map(c => [c.job_name, c.metrics_path, c.static_configs[0]?.labels.role])
    expect(roles).to.deep.equal([['shoal-gateway', '/metrics', 'gateway'], ['shoal-orchestrator', '/metrics', 'orchestrator']])
    for (const c of config.scrape_configs) for (const t of c.static_configs[0]?.targets ?? []) expect(t).to.match(/^[\w.-]+:\d+$/)
  })
})
