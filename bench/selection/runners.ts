/**
 * External runners with known behaviours for bench/selection, all in this one process
 * (so the bench's own client does not share their event loop). Each speaks the part of
 * the ai-runner HTTP API an orchestrator uses for an external `llm` runner: GET /health,
 * GET /version, POST /llm (a non-streaming chat completion with `usage`).
 *
 *   node --import tsx bench/selection/runners.ts '<JSON array of RunnerBehaviour>'
 *
 * Prints {"event":"listening","urls":[...]} once every server listens; stops when stdin ends.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RunnerBehaviour {
  name: string
  modelId: string
  /** service time of every answered request, ms */
  delayMs: number
  /** share of requests answered with HTTP 500 (after the delay) */
  failRate: number
  /** share of requests never answered (the connection is held until the caller goes away) */
  hangRate: number
}

function serve (behaviour: RunnerBehaviour): ReturnType<typeof createServer> {
  const json = (res: ServerResponse, status: number, body: unknown): void => {
    const data = JSON.stringify(body)
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) })
    res.end(data)
  }
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'GET' && req.url === '/health') { json(res, 200, { status: 'OK' }); return }
    if (req.method === 'GET' && req.url === '/version') { json(res, 200, { pipeline: 'llm', model_id: behaviour.modelId, version: `bench-${behaviour.name}` }); return }
    if (req.method !== 'POST' || req.url !== '/llm') { json(res, 404, { detail: { msg: 'not found' } }); return }
    req.resume()
    req.on('end', () => {
      const roll = Math.random()
      // never answers: holds the request; the socket closes when the caller aborts
      if (roll < behaviour.hangRate) return
      const timer = setTimeout(() => {
        if (roll < behaviour.hangRate + behaviour.failRate) { json(res, 500, { detail: { msg: 'bench: injected failure' } }); return }
        json(res, 200, {
          id: `bench-${Date.now().toString(36)}`,
          model: behaviour.modelId,
          created: Math.floor(Date.now() / 1000),
          choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 }
        })
      }, behaviour.delayMs)
      res.on('close', () => { clearTimeout(timer) })
    })
  })
}

const behaviours = JSON.parse(process.argv[2] ?? '[]') as RunnerBehaviour[]
const servers = behaviours.map(serve)
const urls = await Promise.all(servers.map(async server => await new Promise<string>(resolve => {
  server.listen(0, '127.0.0.1', () => { resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`) })
})))
process.stdout.write(JSON.stringify({ event: 'listening', urls }) + '\n')
process.stdin.resume()
process.stdin.on('end', () => {
  for (const server of servers) { server.closeAllConnections(); server.close() }
  process.exit(0)
})
