/**
 * The dashboard: one page with its script and style inline (no build step, nothing
 * fetched from elsewhere). It polls `/dashboard/data` every two seconds and writes every
 * value with `textContent`, never as HTML: peer ids, model ids and error codes come from
 * the network.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Shoal gateway</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d2733; background: #f7f9fb; }
  h1 { font-size: 1.3rem; margin: 0 0 .2rem; }
  h2 { font-size: 1.05rem; margin: 1.6rem 0 .5rem; }
  .muted { color: #66758a; }
  .cards { display: flex; gap: .8rem; flex-wrap: wrap; }
  .card { background: #fff; border: 1px solid #dde3ea; border-radius: 6px; padding: .6rem .9rem; min-width: 9rem; }
  .card b { display: block; font-size: 1.3rem; }
  table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #dde3ea; }
  th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #eef1f5; vertical-align: top; }
  th { background: #eef2f7; font-weight: 600; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  code { font-size: 12px; }
  .ok { color: #1a7f37; } .bad { color: #b42318; } .warn { color: #9a6700; }
</style>
</head>
<body>
<h1>Shoal gateway</h1>
<div class="muted">peer <code id="gateway-peer">…</code> · updated <span id="updated">never</span> <span id="error" class="bad"></span></div>

<div class="cards" style="margin-top:1rem">
  <div class="card">peers<b id="mesh-peers">–</b></div>
  <div class="card">connections<b id="mesh-connections">–</b></div>
  <div class="card">orchestrators<b id="orchestrator-count">–</b></div>
  <div class="card">tickets sent<b id="tickets-sent">–</b></div>
  <div class="card">expected value sent<b id="ev-sent">–</b></div>
</div>

<h2>Orchestrators</h2>
<table id="orchestrators"><thead><tr>
  <th>peer</th><th>pipeline</th><th>model</th><th>warm</th><th>slots</th><th>load</th><th>price (wei/unit)</th>
  <th>successes</th><th>success rate</th><th>s/unit (p95)</th><th>state</th><th>credit</th>
</tr></thead><tbody></tbody></table>

<h2>Payments per orchestrator</h2>
<table id="payments"><thead><tr>
  <th>peer</th><th>Ethereum address</th><th>jobs paid</th><th>tickets sent</th><th>expected value sent</th><th>fees</th><th>credit</th><th>winning tickets</th><th>won on chain</th>
</tr></thead><tbody></tbody></table>

<h2>Recent requests</h2>
<table id="requests"><thead><tr>
  <th>time</th><th>request</th><th>pipeline</th><th>model</th><th>status</th><th>ms</th><th>orchestrator</th><th>attempts</th>
</tr></thead><tbody></tbody></table>

<h2>Live video sessions</h2>
<table id="live"><thead><tr>
  <th>stream</th><th>model</th><th>state</th><th>orchestrator</th><th>runner</th><th>fps in / out</th><th>segments in / out</th><th>in flight</th><th>first segment</th><th>swaps</th><th>paid</th><th>last error</th>
</tr></thead><tbody></tbody></table>

<h2>Connections</h2>
<table id="connections"><thead><tr>
  <th>peer</th><th>address</th><th>direction</th><th>status</th><th>open for</th><th>streams</th>
</tr></thead><tbody></tbody></table>

<script>
'use strict'
const short = (id) => id && id.length > 16 ? id.slice(0, 8) + '…' + id.slice(-6) : (id || '')
const eth = (wei) => { try { const w = BigInt(wei); return (Number(w / 1000000000n) / 1e9).toFixed(9).replace(/0+$/, '').replace(/\\.$/, '') + ' ETH' } catch { return wei } }
function cell (row, text, opts = {}) {
  const td = document.createElement('td')
  td.textContent = text === undefined || text === null ? '' : String(text)
  if (opts.title) td.title = opts.title
  if (opts.cls) td.className = opts.cls
  row.appendChild(td)
  return td
}
function fill (tableId, rows, render) {
  const body = document.querySelector('#' + tableId + ' tbody')
  body.replaceChildren()
  for (const item of rows) {
    const tr = document.createElement('tr')
    render(tr, item)
    body.appendChild(tr)
  }
}
function render (s) {
  document.getElementById('gateway-peer').textContent = s.gateway.peerId
  document.getElementById('updated').textContent = new Date(s.generatedAt).toLocaleTimeString()
  document.getElementById('mesh-peers').textContent = s.mesh.peers
  document.getElementById('mesh-connections').textContent = s.mesh.connections.length
  document.getElementById('orchestrator-count').textContent = s.orchestrators.length
  document.getElementById('tickets-sent').textContent = s.payments.enabled ? s.payments.ticketsSent : 'payments off'
  document.getElementById('ev-sent').textContent = s.payments.enabled ? eth(s.payments.evSentWei) : '–'
  const models = s.orchestrators.flatMap(o => o.models.map(m => ({ o, m })))
  fill('orchestrators', models, (tr, { o, m }) => {
    tr.dataset.peer = o.peerId
    tr.dataset.model = m.modelId
    cell(tr, short(o.peerId), { title: o.peerId + ' ' + o.ethAddress })
    cell(tr, m.pipeline)
    cell(tr, m.modelId)
    cell(tr, m.warm ? 'warm' : 'cold')
    cell(tr, m.capacity, { cls: 'num' })
    cell(tr, m.load, { cls: m.load === 'saturated' ? 'warn' : '' })
    cell(tr, m.pricePerUnit + (m.pixelsPerUnit !== '1' ? ' / ' + m.pixelsPerUnit : '') + ' per ' + m.unit, { cls: 'num' })
    const st = m.stats
    cell(tr, st ? st.successes : 0, { cls: 'num stat-successes' })
    cell(tr, st ? (st.successRate * 100).toFixed(0) + '%' : '–', { cls: 'num' })
    cell(tr, st && st.secondsPerUnit !== null ? st.secondsPerUnit.toPrecision(3) + ' (' + st.p95SecondsPerUnit.toPrecision(3) + ')' : '–', { cls: 'num' })
    const suspended = st && st.suspendedUntil > s.generatedAt
    cell(tr, !o.reachable ? 'unreachable' : suspended ? 'suspended' : o.proven ? 'proven' : 'unproven', { cls: !o.reachable || suspended ? 'bad' : o.proven ? 'ok' : '' })
    cell(tr, o.creditWei === null ? '–' : eth(o.creditWei), { cls: 'num credit' })
  })
  fill('payments', s.orchestrators.filter(o => o.payments !== null), (tr, o) => {
    const p = o.payments
    tr.dataset.peer = o.peerId
    cell(tr, short(o.peerId), { title: o.peerId })
    cell(tr, o.ethAddress, { cls: 'address' })
    cell(tr, p.jobs, { cls: 'num jobs' })
    cell(tr, p.ticketsSent, { cls: 'num tickets' })
    cell(tr, eth(p.evSentWei), { cls: 'num ev' })
    cell(tr, eth(p.feesWei), { cls: 'num fees' })
    cell(tr, eth(o.creditWei), { cls: 'num credit' })
    cell(tr, p.winningTickets === null ? 'chain unread' : p.winningTickets, { cls: 'num winners' })
    cell(tr, p.winningPaidWei === null ? '–' : eth(p.winningPaidWei), { cls: 'num won' })
  })
  fill('requests', s.requests, (tr, r) => {
    tr.dataset.request = r.requestId
    cell(tr, new Date(r.startedAt).toLocaleTimeString())
    cell(tr, short(r.requestId), { title: r.requestId })
    cell(tr, r.pipeline)
    cell(tr, r.modelId)
    cell(tr, r.status === undefined ? 'running' : r.status + (r.errorCode ? ' ' + r.errorCode : ''), { cls: r.status === undefined ? '' : r.status < 400 ? 'ok status' : 'bad status' })
    cell(tr, r.durationMs, { cls: 'num' })
    cell(tr, short(r.orchestrator), { title: r.orchestrator || '' })
    cell(tr, r.attempts.map(a => short(a.peerId) + ' ' + a.outcome + ' ' + a.ms + 'ms' + (a.errorCode ? ' ' + a.errorCode : '')).join(', '), { cls: 'attempts' })
  })
  fill('live', s.live, (tr, l) => {
    tr.dataset.stream = l.streamId
    tr.dataset.state = l.state
    cell(tr, l.streamId)
    cell(tr, l.modelId)
    cell(tr, l.state + (l.reason ? ': ' + l.reason : ''), { cls: 'state ' + (l.state === 'running' ? 'ok' : l.state === 'stopped' || l.state === 'swapping' || l.state === 'starting' ? '' : 'bad') })
    cell(tr, short(l.orchestrator), { title: l.orchestrator || '', cls: 'orchestrator' })
    cell(tr, l.runnerState || '–')
    cell(tr, l.fpsIn + ' / ' + l.fpsOut, { cls: 'num' })
    cell(tr, l.segmentsIn + ' / ' + l.segmentsOut, { cls: 'num segments' })
    cell(tr, l.segmentsInFlight, { cls: 'num' })
    cell(tr, l.firstSegmentMs === null ? '–' : l.firstSegmentMs + ' ms', { cls: 'num' })
    cell(tr, l.swaps, { cls: 'num swaps' })
    cell(tr, s.payments.enabled ? eth(l.weiPaid) : '–', { cls: 'num' })
    cell(tr, l.lastError || '', { cls: l.lastError ? 'bad' : '' })
  })
  fill('connections', s.mesh.connections, (tr, c) => {
    cell(tr, short(c.peerId), { title: c.peerId })
    cell(tr, c.remoteAddr)
    cell(tr, c.direction)
    cell(tr, c.status)
    cell(tr, Math.round((s.generatedAt - c.openedAt) / 1000) + ' s', { cls: 'num' })
    cell(tr, c.streams, { cls: 'num' })
  })
  document.body.dataset.loaded = 'true'
}
async function poll () {
  try {
    const res = await fetch('dashboard/data', { cache: 'no-store' })
    if (!res.ok) throw new Error('HTTP ' + res.status)
    render(await res.json())
    document.getElementById('error').textContent = ''
  } catch (err) {
    document.getElementById('error').textContent = 'update failed: ' + err.message
  }
  setTimeout(poll, 2000)
}
poll()
</script>
</body>
</html>
`
