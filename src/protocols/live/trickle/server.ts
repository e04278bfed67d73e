/**
 * A standalone trickle HTTP server (node:http) over a store: the orchestrator's, on
 * 127.0.0.1, for its runners. Channel names are random and unguessable (a session's
 * capability); nothing else is served.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { TrickleStore } from './channel.js'
import { handleTrickleRequest, type TrickleHttpOptions } from './http.js'

export interface TrickleServer {
  readonly store: TrickleStore
  /** `http://127.0.0.1:port` */
  readonly url: string
  /** the URL of a channel */
  channelUrl: (name: string) => string
  stop: () => Promise<void>
}

export interface TrickleServerOptions extends Partial<TrickleHttpOptions> {
  host?: string
  port?: number
  /** channels idle longer than this are closed, as the reference's 5 minutes @default 300000 */
  idleChannelMs?: number
}

export async function startTrickleServer (options: TrickleServerOptions = {}): Promise<TrickleServer> {
  const store = new TrickleStore()
  const http: TrickleHttpOptions = {
    maxSegmentBytes: options.maxSegmentBytes ?? 32 * 1024 * 1024,
    firstByteTimeoutMs: options.firstByteTimeoutMs ?? 10_000,
    ...(options.contentType === undefined ? {} : { contentType: options.contentType })
  }
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    void handleTrickleRequest(store, req, res, path, http)
  })
  // a subscriber waits for the next segment with its request open
  server.requestTimeout = 0
  server.keepAliveTimeout = 65_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => { server.off('error', reject); resolve() })
  })
  const address = server.address() as AddressInfo
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
  const idleMs = options.idleChannelMs ?? 300_000
  const sweeper = setInterval(() => { store.sweep(idleMs) }, Math.min(idleMs, 30_000))
  sweeper.unref()
  return {
    store,
    url,
    channelUrl: (name) => `${url}/${encodeURIComponent(name)}`,
    stop: async () => {
      clearInterval(sweeper)
      store.closeAll()
      server.closeAllConnections()
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    }
  }
}
