/**
 * The page at `GET /live/video-to-video/{stream}/play`: publishes the browser's camera
 * over WHIP and plays the session's output over WHEP, side by side. One static document,
 * nothing loaded from elsewhere. Query: `codec=h264|vp8` (what the browser sends),
 * `width`, `height` (camera size asked for), `autostart=1`. A gateway with API keys wants
 * one on WHIP and WHEP: typed into the page's key field, or given in the fragment
 * (`#key=...`, which browsers never send to the server), sent as `Authorization: Bearer`.
 * Its state is on `document.body.dataset` (`whip`, `whep`: connection states; `error`).
 */

/** JSON safe inside a <script> element */
function scriptJson (value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c')
}

function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

export function livePlayPage (streamId: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Shoal live: ${escapeHtml(streamId)}</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 1.5rem; background: #111; color: #eee; }
  .videos { display: flex; gap: 1rem; flex-wrap: wrap; }
  figure { margin: 0; }
  video { width: 480px; max-width: 100%; background: #000; border: 1px solid #333; }
  button { font-size: 1rem; padding: .4rem 1rem; margin-right: .5rem; }
  #status { margin: 1rem 0; font-family: ui-monospace, monospace; white-space: pre-wrap; }
</style>
</head>
<body data-whip="new" data-whep="new">
<h1>Live video-to-video: <code>${escapeHtml(streamId)}</code></h1>
<p>Your camera goes to the gateway over WHIP; the model's output comes back over WHEP.</p>
<p><label>API key <input id="key" type="password" autocomplete="off" placeholder="if the gateway has one"></label></p>
<p><button id="start">Start</button><button id="stop" disabled>Stop</button></p>
<div class="videos">
  <figure><video id="local" autoplay muted playsinline></video><figcaption>camera (sent)</figcaption></figure>
  <figure><video id="output" autoplay muted playsinline></video><figcaption>output (received)</figcaption></figure>
</div>
<div id="status">idle</div>
<script>
'use strict'
const stream = ${scriptJson(streamId)}
const base = location.pathname.replace(/\\/play$/, '')
const query = new URLSearchParams(location.search)
const codec = (query.get('codec') || '').toLowerCase()
const width = Number(query.get('width')) || 640
const height = Number(query.get('height')) || 480
const $ = (id) => document.getElementById(id)
const lines = []
const log = (text) => { lines.push(text); $('status').textContent = lines.slice(-8).join('\\n') }
let camera, whip, whep
$('key').value = new URLSearchParams(location.hash.slice(1)).get('key') || ''
/** the API key as the gateway's routes take it */
const auth = () => $('key').value === '' ? {} : { authorization: 'Bearer ' + $('key').value }

async function gathered (pc) {
  if (pc.iceGatheringState === 'complete') return
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, 3000)
    pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') { clearTimeout(timer); resolve() } })
  })
}

/** one WHIP or WHEP exchange: the offer with all candidates, the answer, the resource to DELETE */
async function exchange (kind, pc) {
  await pc.setLocalDescription(await pc.createOffer())
  await gathered(pc)
  const response = await fetch(base + '/' + kind, { method: 'POST', headers: { 'content-type': 'application/sdp', ...auth() }, body: pc.localDescription.sdp })
  const body = await response.text()
  if (response.status !== 201) {
    let message = body
    try { message = JSON.parse(body).error.message } catch {}
    if (response.status === 401) message += ' (this gateway wants its API key: type it above)'
    throw new Error(kind.toUpperCase() + ' ' + response.status + ': ' + message)
  }
  await pc.setRemoteDescription({ type: 'answer', sdp: body })
  return new URL(response.headers.get('location'), location.href).href
}

function track (kind, pc) {
  pc.addEventListener('connectionstatechange', () => {
    document.body.dataset[kind] = pc.connectionState
    log(kind.toUpperCase() + ' ' + pc.connectionState)
  })
}

async function start () {
  $('start').disabled = true
  delete document.body.dataset.error
  try {
    camera = await navigator.mediaDevices.getUserMedia({ video: { width, height, frameRate: 30 }, audio: false })
    $('local').srcObject = camera
    const pcIn = new RTCPeerConnection()
    track('whip', pcIn)
    const sender = pcIn.addTransceiver(camera.getVideoTracks()[0], { direction: 'sendonly' })
    if (codec !== '' && RTCRtpSender.getCapabilities) {
      const all = RTCRtpSender.getCapabilities('video').codecs
      const preferred = all.filter(c => c.mimeType.toLowerCase() === 'video/' + codec && (codec !== 'h264' || /packetization-mode=1/.test(c.sdpFmtpLine || '')))
      if (preferred.length > 0) sender.setCodecPreferences(preferred)
    }
    whip = { pc: pcIn, url: await exchange('whip', pcIn) }
    log('publishing ' + width + 'x' + height + (codec ? ' (' + codec + ')' : ''))

    const pcOut = new RTCPeerConnection()
    track('whep', pcOut)
    pcOut.addTransceiver('video', { direction: 'recvonly' })
    pcOut.addEventListener('track', (event) => { $('output').srcObject = new MediaStream([event.track]) })
    whep = { pc: pcOut, url: await exchange('whep', pcOut) }
    log('playing the output')
    $('stop').disabled = false
  } catch (err) {
    document.body.dataset.error = String(err.message || err)
    log('error: ' + (err.message || err))
    await stop()
  }
}

async function stop () {
  $('stop').disabled = true
  for (const session of [whep, whip]) {
    if (session === undefined) continue
    if (session.url) await fetch(session.url, { method: 'DELETE', headers: auth() }).catch(() => {})
    session.pc.close()
  }
  whip = whep = undefined
  if (camera) camera.getTracks().forEach(t => t.stop())
  camera = undefined
  $('start').disabled = false
}

$('start').addEventListener('click', start)
$('stop').addEventListener('click', stop)
// leaving the page ends both resources at once rather than by timeout
addEventListener('pagehide', () => {
  for (const session of [whep, whip]) if (session && session.url) fetch(session.url, { method: 'DELETE', headers: auth(), keepalive: true }).catch(() => {})
})
// for tests: the connections closed as a tab that goes would close them, without DELETE
function dropWithoutDelete () {
  for (const session of [whep, whip]) if (session) session.pc.close()
  whip = whep = undefined
}
window.shoalLive = { start, stop, dropWithoutDelete }
if (query.get('autostart') === '1') start()
</script>
</body>
</html>
`
}
