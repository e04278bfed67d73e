/**
 * The report as one self-contained HTML page: plots drawn as inline SVG when the page is
 * written (no script, no CDN, opens from a file anywhere), the tables of the report, and
 * the report's JSON embedded for tools. Event times are drawn on every time plot.
 */
import type { ScenarioReport } from './report.js'

const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string)
const fmt = (v: number | null | undefined, digits = 0): string => v === null || v === undefined ? '–' : v.toFixed(digits)
const pct = (v: number | null): string => v === null ? '–' : `${(v * 100).toFixed(1)} %`
const gwei = (wei: string): string => `${(Number(BigInt(wei) / 1_000_000n) / 1000).toFixed(3)} gwei`

interface Frame { width: number, height: number, left: number, right: number, top: number, bottom: number, xMax: number, yMax: number }
const W = 900
const x = (f: Frame, v: number): number => f.left + (v / f.xMax) * (f.width - f.left - f.right)
const y = (f: Frame, v: number): number => f.height - f.bottom - (v / f.yMax) * (f.height - f.top - f.bottom)

function niceMax (v: number): number {
  if (v <= 0) return 1
  const p = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p
  return 10 * p
}

function axes (f: Frame, yLabel: string, yFormat: (v: number) => string = v => String(v)): string {
  const out: string[] = []
  for (let i = 0; i <= 4; i++) {
    const v = f.yMax * i / 4
    out.push(`<line x1="${f.left}" x2="${f.width - f.right}" y1="${y(f, v)}" y2="${y(f, v)}" stroke="#ddd"/><text x="${f.left - 6}" y="${y(f, v) + 4}" text-anchor="end" font-size="11">${esc(yFormat(v))}</text>`)
  }
  const step = Math.max(1, Math.ceil(f.xMax / 15))
  for (let t = 0; t <= f.xMax; t += step) out.push(`<text x="${x(f, t)}" y="${f.height - f.bottom + 16}" text-anchor="middle" font-size="11">${t}</text>`)
  out.push(`<text x="${(f.width - f.right + f.left) / 2}" y="${f.height - 4}" text-anchor="middle" font-size="11">seconds of load</text>`)
  out.push(`<text x="12" y="${f.top + (f.height - f.top - f.bottom) / 2}" font-size="11" transform="rotate(-90 12 ${f.top + (f.height - f.top - f.bottom) / 2})" text-anchor="middle">${esc(yLabel)}</text>`)
  return out.join('')
}

function eventMarks (f: Frame, report: ScenarioReport): string {
  return report.events.map((e, i) => {
    const at = e.startedAtMs / 1000
    const px = x(f, Math.min(at, f.xMax))
    return `<g class="event-mark"><line x1="${px}" x2="${px}" y1="${f.top}" y2="${f.height - f.bottom}" stroke="#7a3cff" stroke-dasharray="4 3"/><text x="${px + 3}" y="${f.top + 10 + (i % 3) * 12}" font-size="11" fill="#7a3cff">${esc(e.action)}${e.nodes.length > 0 && e.nodes.length <= 2 ? ` ${esc(e.nodes.join(','))}` : e.nodes.length > 2 ? ` (${e.nodes.length})` : ''}</text></g>`
  }).join('')
}

function successPlot (report: ScenarioReport): string {
  const rows = report.perSecond
  const f: Frame = { width: W, height: 260, left: 50, right: 10, top: 10, bottom: 30, xMax: Math.max(1, rows.length), yMax: niceMax(Math.max(1, ...rows.map(r => r.sent))) }
  const bw = Math.max(1, (W - f.left - f.right) / f.xMax - 1)
  const bars = rows.map(r => {
    const okTop = y(f, r.ok)
    const failTop = y(f, r.sent)
    return `<rect class="bar-ok" x="${x(f, r.t)}" y="${okTop}" width="${bw}" height="${y(f, 0) - okTop}" fill="#2e9d5b"><title>${r.t} s: ${r.ok} ok</title></rect>` +
      (r.failed > 0 ? `<rect class="bar-failed" x="${x(f, r.t)}" y="${failTop}" width="${bw}" height="${okTop - failTop}" fill="#d64545"><title>${r.t} s: ${r.failed} failed</title></rect>` : '')
  }).join('')
  return `<svg id="plot-success" data-seconds="${rows.length}" viewBox="0 0 ${W} ${f.height}" width="100%" role="img" aria-label="requests per second">${axes(f, 'requests (due that second)')}${bars}${eventMarks(f, report)}</svg>`
}

function latencyPlot (report: ScenarioReport): string {
  const rows = report.perSecond
  const values = rows.flatMap(r => [r.p50, r.p99]).filter((v): v is number => v !== null)
  const f: Frame = { width: W, height: 240, left: 60, right: 10, top: 10, bottom: 30, xMax: Math.max(1, rows.length), yMax: niceMax(Math.max(1, ...values)) }
  const line = (key: 'p50' | 'p99', color: string): string => {
    const pts = rows.filter(r => r[key] !== null).map(r => `${x(f, r.t + 0.5).toFixed(1)},${y(f, r[key] as number).toFixed(1)}`)
    return pts.length === 0 ? '' : `<polyline class="line-${key}" points="${pts.join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`
  }
  const legend = `<text x="${W - 160}" y="20" font-size="12" fill="#1f6feb">― p50</text><text x="${W - 90}" y="20" font-size="12" fill="#d97706">― p99</text>`
  return `<svg id="plot-latency" viewBox="0 0 ${W} ${f.height}" width="100%" role="img" aria-label="latency per second">${axes(f, 'latency of successes, ms')}${line('p50', '#1f6feb')}${line('p99', '#d97706')}${legend}${eventMarks(f, report)}</svg>`
}

function servedHeatmap (report: ScenarioReport): string {
  const names = report.orchestrators.map(o => o.name)
  const rows = report.perSecond
  const rowH = Math.max(4, Math.min(14, Math.floor(420 / Math.max(1, names.length))))
  const f: Frame = { width: W, height: 40 + rowH * names.length, left: 110, right: 10, top: 10, bottom: 30, xMax: Math.max(1, rows.length), yMax: 1 }
  const max = Math.max(1, ...rows.flatMap(r => Object.values(r.served)))
  const cw = (W - f.left - f.right) / f.xMax
  const cells: string[] = []
  names.forEach((name, i) => {
    const top = f.top + i * rowH
    if (rowH >= 8) cells.push(`<text x="${f.left - 4}" y="${top + rowH - 2}" font-size="${Math.min(11, rowH)}" text-anchor="end">${esc(name)}</text>`)
    for (const r of rows) {
      const n = r.served[name] ?? 0
      if (n === 0) continue
      cells.push(`<rect class="cell" x="${(f.left + r.t * cw).toFixed(1)}" y="${top}" width="${Math.max(1, cw - 0.5).toFixed(1)}" height="${rowH - 1}" fill="#2e9d5b" fill-opacity="${(0.15 + 0.85 * n / max).toFixed(2)}"><title>${esc(name)} at ${r.t} s: ${n}</title></rect>`)
    }
  })
  const step = Math.max(1, Math.ceil(f.xMax / 15))
  const ticks: string[] = []
  for (let t = 0; t <= f.xMax; t += step) ticks.push(`<text x="${f.left + t * cw}" y="${f.height - f.bottom + 16}" text-anchor="middle" font-size="11">${t}</text>`)
  const marks = report.events.map(e => { const px = f.left + Math.min(e.startedAtMs / 1000, f.xMax) * cw; return `<line x1="${px}" x2="${px}" y1="${f.top}" y2="${f.height - f.bottom}" stroke="#7a3cff" stroke-dasharray="4 3"/>` }).join('')
  return `<svg id="plot-served" data-orchestrators="${names.length}" viewBox="0 0 ${W} ${f.height}" width="100%" role="img" aria-label="requests served per orchestrator per second">${cells.join('')}${ticks.join('')}${marks}</svg>`
}

function resourcePlot (report: ScenarioReport): string {
  const s = report.resources.samples
  if (s.length === 0) return '<p>no samples</p>'
  const tMax = Math.max(1, ...s.map(p => p.t))
  const f: Frame = { width: W, height: 200, left: 60, right: 50, top: 10, bottom: 30, xMax: tMax, yMax: niceMax(Math.max(1, ...s.map(p => p.rssMb))) }
  // the right axis counts cores: the load average and the mesh's own CPU (cores busy) share it
  const cores = s.flatMap(p => typeof p.cpuPercent === 'number' ? [{ t: p.t, cores: p.cpuPercent / 100 }] : [])
  const loadMax = niceMax(Math.max(1, ...s.map(p => p.load1), ...cores.map(c => c.cores)))
  const rss = s.map(p => `${x(f, p.t).toFixed(1)},${y(f, p.rssMb).toFixed(1)}`).join(' ')
  const load = s.map(p => `${x(f, p.t).toFixed(1)},${y(f, p.load1 / loadMax * f.yMax).toFixed(1)}`).join(' ')
  const cpu = cores.map(c => `${x(f, c.t).toFixed(1)},${y(f, c.cores / loadMax * f.yMax).toFixed(1)}`).join(' ')
  const right = [0, 1, 2, 3, 4].map(i => `<text x="${W - f.right + 6}" y="${y(f, f.yMax * i / 4) + 4}" font-size="11" fill="#d97706">${(loadMax * i / 4).toFixed(1)}</text>`).join('')
  return `<svg id="plot-resources" viewBox="0 0 ${W} ${f.height}" width="100%" role="img" aria-label="memory, load and CPU">${axes(f, 'RSS of the mesh, MB')}<polyline points="${rss}" fill="none" stroke="#1f6feb" stroke-width="2"/><polyline points="${load}" fill="none" stroke="#d97706" stroke-width="2"/><polyline class="line-cpu" points="${cpu}" fill="none" stroke="#16a34a" stroke-width="2"/>${right}<text x="${W - 420}" y="20" font-size="12" fill="#1f6feb">― RSS (MB)</text><text x="${W - 330}" y="20" font-size="12" fill="#d97706">― load average (1 min)</text><text x="${W - 180}" y="20" font-size="12" fill="#16a34a">― mesh CPU (cores)</text></svg>`
}

function table (head: string[], rows: Array<Array<string | number>>, id: string): string {
  return `<table id="${id}"><thead><tr>${head.map(h => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map(r => `<tr>${r.map(c => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`
}

export function renderReportHtml (report: ScenarioReport): string {
  const t = report.totals
  const l = report.latencyMs
  const summary = table(['requests', 'ok', 'failed', 'success', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'attempts', 'retried', 'run took'], [[
    t.requests, t.ok, t.failed, pct(t.successRate), fmt(l.p50), fmt(l.p90), fmt(l.p99), fmt(l.max), report.attempts.total, report.attempts.retried, `${report.timing.totalS.toFixed(0)} s`
  ]], 'summary')
  const phases = table(['from s', 'to s', 'phase', 'sent', 'ok', 'success', 'p50 ms', 'p99 ms', 'orchestrators serving'], report.phases.map(p => [p.from, p.to, p.label, p.sent, p.ok, pct(p.successRate), fmt(p.p50), fmt(p.p99), Object.keys(p.servedBy).length]), 'phases')
  const events = table(['planned s', 'started s', 'ended s', 'took ms', 'action', 'nodes', 'detail'], report.events.map(e => [e.at, (e.startedAtMs / 1000).toFixed(1), (e.finishedAtMs / 1000).toFixed(1), e.finishedAtMs - e.startedAtMs, e.action, e.nodes.length > 6 ? `${e.nodes.slice(0, 6).join(', ')} … (${e.nodes.length})` : e.nodes.join(', '), e.error === undefined ? e.detail : `FAILED: ${e.error}`]), 'events')
  const orchestrators = table(['orchestrator', 'served', 'attempts', 'failed attempts', 'first served s', 'last served s', 'tickets redeemed', 'redeemed'], report.orchestrators.map(o => [o.name, o.served, o.attempts, o.failedAttempts, fmt(o.firstServedS, 1), fmt(o.lastServedS, 1), o.redeemedTickets, gwei(o.redeemedWei)]), 'orchestrators')
  const pay = report.payments === null
    ? '<p>payments off</p>'
    : `<p>gateway sent <b>${report.payments.ticketsSent}</b> tickets worth ${esc(gwei(report.payments.evSentWei))} in expected value; ${report.settlement === null ? 'settlement not read' : `<b>${report.settlement.redemptions}</b> winning tickets redeemed on chain for ${esc(gwei(report.settlement.faceValueWei))}`}.</p>`
  const r = report.resources
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Scenario ${esc(report.name)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:960px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
svg{background:#fff;border:1px solid #eee;margin:6px 0}
.muted{color:#666}
</style></head><body>
<h1>Scenario: ${esc(report.name)}</h1>
<p class="muted">${esc(report.description)}</p>
<p class="muted">started ${esc(report.startedAt)} on ${report.host.cpus} CPUs, ${report.host.memoryMb} MB; ${report.nodes.length} nodes (the gateway listed ${report.listedAtStart} orchestrators when the load started); load ${report.load.rate}/s for ${report.load.durationS} s; set-up ${report.timing.setupS.toFixed(0)} s, load ${report.timing.loadS.toFixed(0)} s, tear-down ${report.timing.teardownS.toFixed(0)} s</p>
${summary}
<p class="muted">the gateway's own mean request time ${report.gatewaySide?.meanMs === null || report.gatewaySide === null ? '–' : `${report.gatewaySide.meanMs} ms over ${report.gatewaySide.requests} requests`} (the client's mean ${fmt(l.mean)} ms); tuning ${esc(report.tuning === null ? 'none' : JSON.stringify(report.tuning))}</p>
<h2>Requests per second (green ok, red failed)</h2>
${successPlot(report)}
<h2>Latency of successful requests (p50, p99 per second)</h2>
${latencyPlot(report)}
<h2>Which orchestrators served, per second</h2>
${servedHeatmap(report)}
<h2>Phases between events</h2>
${phases}
<h2>Events</h2>
${events}
<h2>Orchestrators</h2>
${orchestrators}
<h2>Payments and settlement</h2>
${pay}
<h2>Machine</h2>
<p>peak RSS of the mesh's processes ${fmt(r.peakRssMb)} MB (${fmt(r.peakProcesses)} processes at most); the mesh used ${fmt(r.meanCpuPercent, 1)} % of one core on average (${report.host.cpus} cores); load average of the machine peak ${fmt(r.peakLoad1, 2)}, mean ${fmt(r.meanLoad1, 2)}</p>
${resourcePlot(report)}
<script type="application/json" id="report-data">${JSON.stringify(report).replace(/</g, '\\u003c')}</script>
</body></html>
`
}
