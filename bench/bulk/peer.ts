/**
 * bench/bulk's receiving peer for the two-process mode (BENCH_PROCESSES=2): a raw TCP
 * server and a libp2p node built by Shoal's node factory (as createNode in index.ts)
 * serving the raw stream handlers and /shoal/ai (receiver.ts), in its own process, so
 * that the receiver decrypts on its own CPU while the bench's process sends.
 *
 *   node --import tsx bench/bulk/peer.ts <bytes> [tcp|quic]
 *   (prints {"event":"listening","addr":...,"tcpPort":...}; on each line "cpu" on stdin,
 *   prints {"event":"cpu","ms":...}, its CPU time so far)
 */
import '../../src/p2p/polyfill.js'
import type { AddressInfo } from 'node:net'
import { createInterface } from 'node:readline'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createShoalNode } from '../../src/p2p/node.js'
import { serveBulk, startTcpServer } from './receiver.js'

const size = Number(process.argv[2])
if (!Number.isSafeInteger(size) || size <= 0) throw new Error(`usage: peer.ts <bytes> [tcp|quic], got ${process.argv[2]}`)
const quic = process.argv[3] === 'quic'
const tcpServer = await startTcpServer(size)
const node = await createShoalNode({
  role: 'worker',
  privateKey: await generateKeyPair('Ed25519'),
  listen: [quic ? '/ip4/127.0.0.1/udp/0/quic-v1' : '/ip4/127.0.0.1/tcp/0']
})
await node.start()
const served = await serveBulk(node, size)
const say = (message: object): void => { process.stdout.write(`${JSON.stringify(message)}\n`) }
say({ event: 'listening', addr: node.getMultiaddrs()[0].toString(), tcpPort: (tcpServer.address() as AddressInfo).port })
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line !== 'cpu') return
  const used = process.cpuUsage()
  say({ event: 'cpu', ms: (used.user + used.system) / 1000 })
})
process.on('SIGTERM', () => {
  tcpServer.close()
  void served.stop().then(async () => { await node.stop() }).then(() => process.exit(0))
})
