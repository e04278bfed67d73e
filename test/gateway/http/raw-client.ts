import net from 'node:net'

export interface RawAnswer {
  status: number
  headers: Record<string, string>
  body: string
  /** ms from connecting to the complete answer */
  ms: number
  /** the socket, still open or not, for checks after the answer */
  socket: net.Socket
}

/**
 * Sends whatever `send` writes on a plain TCP connection (bytes fetch and http.request
 * refuse to send) and resolves with the first complete HTTP answer, or rejects after
 * `timeoutMs` (or when the server closes without one).
 */
export async function exchange (url: string, send: (socket: net.Socket) => void | Promise<void>, timeoutMs = 10_000): Promise<RawAnswer> {
  const { hostname, port } = new URL(url)
  const socket = net.connect(Number(port), hostname)
  socket.on('error', () => { /* the server may close while we still write */ })
  const start = Date.now()
  return await new Promise<RawAnswer>((resolve, reject) => {
    let data = Buffer.alloc(0)
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no answer within ${timeoutMs} ms`)) }, timeoutMs)
    const tryParse = (): boolean => {
      const end = data.indexOf('\r\n\r\n')
      if (end < 0) return false
      const lines = data.subarray(0, end).toString('latin1').split('\r\n')
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1])
      // an interim 100 Continue: skip it
      if (status === 100) { data = data.subarray(end + 4); return tryParse() }
      const headers: Record<string, string> = {}
      for (const line of lines.slice(1)) {
        const i = line.indexOf(':')
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim()
      }
      const length = Number(headers['content-length'] ?? NaN)
      const body = data.subarray(end + 4)
      if (Number.isFinite(length)) {
        if (body.byteLength < length) return false
        finish(status, headers, body.subarray(0, length).toString('utf8'))
        return true
      }
      return false
    }
    const finish = (status: number, headers: Record<string, string>, body: string): void => {
      clearTimeout(timer)
      socket.off('data', onData)
      resolve({ status, headers, body, ms: Date.now() - start, socket })
    }
    const onData = (chunk: Buffer): void => {
      data = Buffer.concat([data, chunk])
      tryParse()
    }
    socket.on('data', onData)
    socket.once('close', () => {
      clearTimeout(timer)
      reject(new Error(`closed without a complete answer after ${Date.now() - start} ms: ${JSON.stringify(data.toString('latin1').slice(0, 200))}`))
    })
    socket.once('connect', () => {
      Promise.resolve(send(socket)).catch(() => {})
    })
  })
}

/** resolves with ms until the server closes `socket`, or -1 after `timeoutMs` */
export async function closedWithin (socket: net.Socket, timeoutMs: number): Promise<number> {
  if (socket.destroyed || socket.readableEnded) return 0
  const start = Date.now()
  return await new Promise(resolve => {
    const timer = setTimeout(() => { resolve(-1) }, timeoutMs)
    const done = (): void => { clearTimeout(timer); resolve(Date.now() - start) }
    socket.once('end', done)
    socket.once('close', done)
    socket.resume()
  })
}

export const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** writes `bytes` one chunk of `size` every `everyMs`, until the socket closes or `bytes` runs out */
export async function drip (socket: net.Socket, bytes: Buffer, size: number, everyMs: number): Promise<void> {
  for (let i = 0; i < bytes.byteLength && !socket.destroyed; i += size) {
    socket.write(bytes.subarray(i, i + size))
    await sleep(everyMs)
  }
}
