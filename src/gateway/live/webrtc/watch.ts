import type { RTCPeerConnection } from 'werift'
import type { LiveWebRtcOptions } from './options.js'

/**
 * Watches a peer's connection (once answered): `onEnd` is called once when it has not
 * connected within `connectTimeoutMs`, stays disconnected for `disconnectedTimeoutMs`,
 * fails, or closes.
 * Returns the function that stops watching.
 */
export function watchConnection (pc: RTCPeerConnection, options: Pick<LiveWebRtcOptions, 'connectTimeoutMs' | 'disconnectedTimeoutMs'>, onEnd: (reason: string) => void): () => void {
  let ended = false
  let disconnectedTimer: NodeJS.Timeout | undefined
  const end = (reason: string): void => {
    if (ended) return
    ended = true
    stop()
    onEnd(reason)
  }
  const connectTimer = setTimeout(() => { end(`not connected within ${options.connectTimeoutMs} ms`) }, options.connectTimeoutMs)
  const sub = pc.connectionStateChange.subscribe((state) => {
    if (state === 'connected') {
      clearTimeout(connectTimer)
      clearTimeout(disconnectedTimer)
      disconnectedTimer = undefined
    } else if (state === 'disconnected') {
      disconnectedTimer ??= setTimeout(() => { end(`disconnected for ${options.disconnectedTimeoutMs} ms`) }, options.disconnectedTimeoutMs)
    } else if (state === 'failed' || state === 'closed') {
      end(`connection ${state}`)
    }
  })
  // a client that closes sends a DTLS close_notify (browsers do): noticed at once, where
  // the connection state would wait for ICE consent to expire (30 s)
  const dtlsSubs = pc.dtlsTransports.map(t => t.onStateChange.subscribe((state) => {
    if (state === 'closed' || state === 'failed') end(`DTLS ${state} by the client`)
  }))
  function stop (): void {
    clearTimeout(connectTimer)
    clearTimeout(disconnectedTimer)
    sub.unSubscribe()
    for (const s of dtlsSubs) s.unSubscribe()
  }
  return () => { ended = true; stop() }
}
