import { createServer, type Server } from 'node:http'
import type { Registry } from 'prom-client'

/** A minimal Prometheus endpoint (GET /metrics) for roles without an HTTP API of their own. */
export async function startMetricsServer (register: Registry, options: { host: string, port: number }): Promise<{ url: string, stop: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found; try GET /metrics"}}')
      return
    }
    register.metrics().then(text => {
      res.writeHead(200, { 'content-type': register.contentType }).end(text)
    }, err => {
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: (err as Error).message } }))
    })
  })
  await new Promise<void>((resolve, reject) => { server.once('error', reject).listen(options.port, options.host, resolve) })
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : options.port
  return {
    url: `http://${options.host}:${port}/metrics`,
    stop: async () => { await new Promise<void>(resolve => { server.close(() => { resolve() }); server.closeAllConnections() }) }
  }
}
