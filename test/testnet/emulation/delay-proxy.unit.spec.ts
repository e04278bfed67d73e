import { createServer, connect, type Server, type Socket } from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { startDelayProxy, type DelayProxy } from '../../../src/testnet/emulation/delay-proxy.js'

/** an echo server on loopback */
async function echoServer (): Promise<{ server: Server, port: number }> {
  const server = createServer(s => { s.pipe(s) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as { port: number }).port }
}

async function roundTrip (socket: Socket, payload: Buffer): Promise<{ ms: number, data: Buffer }> {
  const start = performance.now()
  const chunks: Buffer[] = []
  let got = 0
  return await new Promise((resolve, reject) => {
    const onData = (c: Buffer): void => {
      chunks.push(c)
      got += c.length
      if (got >= payload.length) { socket.off('data', onData); resolve({ ms: performance.now() - start, data: Buffer.concat(chunks) }) }
    }
    socket.on('data', onData)
    socket.once('error', reject)
    socket.write(payload)
  })
}

describe('testnet/emulation/delay-proxy', () => {
  let echo: { server: Server, port: number }
  let proxy: DelayProxy | undefined
  let dir: string | undefined
  beforeEach(async () => { echo = await echoServer() })
  afterEach(async () => {
    await proxy?.close()
    proxy = undefined
    echo.server.close()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('holds each direction for the delay, keeps bytes and order, and takes a new delay at once', async () => {
    proxy = await startDelayProxy({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port: echo.port }, delayMs: 60 })
    const socket = connect(proxy.port as number, '127.0.0.1')
    await new Promise(resolve => socket.once('connect', resolve))
    const payload = Buffer.from(Array.from({ length: 200_000 }, (_, i) => i % 251))
    const slow = await roundTrip(socket, payload)
    expect(slow.data.equals(payload), 'the bytes come back unchanged, in order').to.equal(true)
    expect(slow.ms, 'a round trip crosses the proxy twice').to.be.at.least(118)
    proxy.setDelay(0)
    const fast = await roundTrip(socket, Buffer.from('ping'))
    expect(fast.data.toString()).to.equal('ping')
    expect(fast.ms).to.be.below(slow.ms)
    expect(proxy.accepted()).to.equal(1)
    socket.destroy()
  })

  it('bridges a unix socket to a TCP port (how namespaces reach the host loopback)', async () => {
    dir = await mkdtemp(join(tmpdir(), 'shoal-proxy-'))
    const path = join(dir, 'bridge.sock')
    proxy = await startDelayProxy({ listen: { path }, target: { host: '127.0.0.1', port: echo.port }, delayMs: 0 })
    const socket = connect({ path })
    await new Promise(resolve => socket.once('connect', resolve))
    const { data } = await roundTrip(socket, Buffer.from('through the bridge'))
    expect(data.toString()).to.equal('through the bridge')
    socket.destroy()
  })

  it('passes a half-close on, and the answer held behind it, after the delay', async () => {
    const server = createServer({ allowHalfOpen: true }, s => { s.on('end', () => { s.end('bye') }) })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const target = (server.address() as { port: number }).port
    const p = await startDelayProxy({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port: target }, delayMs: 20 })
    try {
      const socket = connect({ port: p.port as number, host: '127.0.0.1', allowHalfOpen: true })
      await new Promise(resolve => socket.once('connect', resolve))
      const reply = new Promise<string>(resolve => { let s = ''; socket.on('data', c => { s += String(c) }); socket.on('end', () => { resolve(s) }) })
      socket.end()
      expect(await reply).to.equal('bye')
      socket.destroy()
    } finally {
      await p.close()
      server.close()
    }
  })
})
