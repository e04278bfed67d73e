/**
 * bench/overhead's raw libp2p peer: a process built like a Shoal node (the same node
 * factory: TCP, noise, yamux) that echoes length-prefixed messages on one protocol. The
 * bench measures round trips to it from its own process: what a libp2p stream costs
 * between two such processes, with no Shoal protocol on top.
 *
 *   node --import tsx bench/overhead/raw-peer.ts [tcp|quic]   (prints {"event":"listening","addr":...})
 */
import '../../src/p2p/polyfill.js'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { lpStream } from '@libp2p/utils'
import { createShoalNode } from '../../src/p2p/node.js'
import { ECHO_PROTOCOL } from './raw-peer-protocol.js'

const node = await createShoalNode({ role: 'orchestrator', privateKey: await generateKeyPair('Ed25519'), listen: [process.argv[2] === 'quic' ? '/ip4/127.0.0.1/udp/0/quic-v1' : '/ip4/127.0.0.1/tcp/0'] })
await node.handle(ECHO_PROTOCOL, async (stream) => {
  const lp = lpStream(stream)
  try {
    while (true) await lp.write(await lp.read())
  } catch {
    stream.abort(new Error('echo ended'))
  }
}, { maxInboundStreams: 1024 }) // the bench opens one stream per concurrent caller
await node.start()
process.stdout.write(`${JSON.stringify({ event: 'listening', addr: node.getMultiaddrs()[0].toString() })}\n`)
process.on('SIGTERM', () => { void Promise.resolve(node.stop()).then(() => process.exit(0)) })
