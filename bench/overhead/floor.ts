/**
 * bench/overhead's floor: the least any gateway with an HTTP front can add. A bare
 * node:http server whose handler sends the request body over a pooled raw libp2p
 * stream (the same node factory: noise, yamux) to raw-peer.ts, which echoes it, and
 * answers with what came back. No routing, validation, metrics or logs.
 *
 * Why its whole latency is the floor of the mesh's *added* latency: the mesh adds to
 * a direct runner call one HTTP server (the gateway), one libp2p round trip, and one
 * HTTP client (the orchestrator calling the runner); this path is one HTTP server, one
 * libp2p round trip, and the bench's own HTTP client.
 *
 *   node --import tsx bench/overhead/floor.ts <echo multiaddr> [tcp|quic]   (prints {"event":"listening","url":...})
 */
import '../../src/p2p/polyfill.js'
import { createServer } from 'node:http'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { lpStream } from '@libp2p/utils'
import { createShoalNode } from '../../src/p2p/node.js'
import { ECHO_PROTOCOL } from './raw-peer-protocol.js'

type Lane = ReturnType<typeof lpStream>

const target = multiaddr(process.argv[2])
const quic = process.argv[3] === 'quic'
const node = await createShoalNode({ role: 'gateway', privateKey: await generateKeyPair('Ed25519'), listen: [quic ? '/ip4/127.0.0.1/udp/0/quic-v1' : '/ip4/127.0.0.1/tcp/0'] })
await node.start()
/** idle streams; one more is opened when all are busy (one per concurrent request at most) */
const idle: Lane[] = []
const take = async (): Promise<Lane> => idle.pop() ?? lpStream(await node.dialProtocol(target, ECHO_PROTOCOL, { maxOutboundStreams: 1024 }))

const server = createServer((req, res) => {
  const parts: Buffer[] = []
  req.on('data', (part: Buffer) => parts.push(part))
  req.on('end', () => {
    void (async () => {
      const lane = await take()
      await lane.write(parts.length === 1 ? parts[0] : Buffer.concat(parts))
      const answer = (await lane.read()).subarray()
      idle.push(lane)
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.byteLength })
      res.end(answer)
    })().catch((err: Error) => { res.writeHead(502); res.end(err.message) })
  })
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  process.stdout.write(`${JSON.stringify({ event: 'listening', url: `http://127.0.0.1:${address.port}` })}\n`)
})
process.on('SIGTERM', () => { server.close(); void Promise.resolve(node.stop()).then(() => process.exit(0)) })
