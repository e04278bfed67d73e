/**
 * bench/bulk's receiving side, the same in both modes: in the bench's own process
 * (one-process mode) or in a peer process (peer.ts, two-process mode). A raw TCP server
 * and, on a libp2p node, the /shoal/ai server and the raw stream handlers: each counts
 * (or keeps) `size` bytes and answers once it has them all.
 */
import { createServer, type Server } from 'node:net'
import type { Libp2p, Stream } from '@libp2p/interface'
import { inputParts } from '../../src/kernel/job.js'
import { createAiProtocol } from '../../src/protocols/ai/index.js'

const MiB = 1024 * 1024
export const RAW_PROTOCOL = '/shoal/bench/raw/1.0.0'
export const RAW_KEEP_PROTOCOL = '/shoal/bench/raw-keep/1.0.0'
export const ECHO_PROTOCOL = '/shoal/bench/echo/1.0.0'
/** what the /shoal/ai executor answers when a job's input is not `size` bytes: the bench fails on it */
export const WRONG_SIZE_STATUS = 500

/** A raw TCP server (the baseline): one byte back once `size` bytes arrived on a connection. */
export async function startTcpServer (size: number): Promise<Server> {
  const tcpServer: Server = createServer((socket) => {
    let n = 0
    socket.on('data', (chunk) => {
      n += chunk.byteLength
      if (n >= size) { socket.end(Buffer.from([1])); n = 0 }
    })
  })
  await new Promise<void>(resolve => tcpServer.listen(0, '127.0.0.1', resolve))
  return tcpServer
}

/** The server side of every libp2p path on `server`: the protocol handler, the raw and echo handlers. */
export async function serveBulk (server: Libp2p, size: number): Promise<{ consumed: () => number, stop: () => Promise<void> }> {
  let consumed = 0
  const ai = createAiProtocol({
    registrar: server,
    executor: {
      execute: async (job) => {
        // read the input, as a runner would: touch every 4 KiB page of each part it arrived in
        let sum = 0
        for (const input of job.inputs) {
          for (const part of inputParts(input.data)) for (let i = 0; i < part.byteLength; i += 4096) sum += part[i]
        }
        consumed = job.inputs.reduce((n, input) => n + input.data.byteLength, 0)
        // small jobs carry no input; a bulk job must have brought all of it
        const status = job.inputs.length === 0 || consumed === size ? 200 : WRONG_SIZE_STATUS
        return { status, contentType: 'text/plain', body: (async function * () { yield new TextEncoder().encode(String(sum)) })() }
      }
    },
    limits: { maxInputBytes: size + MiB }
  })
  await ai.start()
  // raw libp2p: count (or keep) the bytes, answer one byte when all arrived
  const rawHandler = (keep: boolean) => async (stream: Stream): Promise<void> => {
    const kept = keep ? Buffer.allocUnsafeSlow(size) : undefined
    let n = 0
    for await (const chunk of stream) {
      if (kept === undefined) {
        n += chunk.byteLength
      } else {
        for (const part of (chunk instanceof Uint8Array ? [chunk] : chunk)) {
          kept.set(part, n)
          n += part.byteLength
        }
      }
      if (n >= size) break
    }
    stream.send(new Uint8Array([1]))
    await stream.close()
  }
  await server.handle(RAW_PROTOCOL, rawHandler(false), { maxInboundStreams: 64 })
  await server.handle(RAW_KEEP_PROTOCOL, rawHandler(true), { maxInboundStreams: 64 })
  await server.handle(ECHO_PROTOCOL, async (stream) => {
    for await (const chunk of stream) stream.send(chunk)
    await stream.close()
  }, { maxInboundStreams: 1024 })
  return { consumed: () => consumed, stop: async () => { await ai.stop() } }
}
