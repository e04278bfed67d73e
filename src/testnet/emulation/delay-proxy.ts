/**
 * A user-space TCP delay proxy: this kernel has no `netem`, so a fixed link delay is
 * emulated by holding every chunk for `delayMs` before passing it on, in each direction
 * (a round trip grows by twice the delay). Order is kept (one FIFO per direction), and a
 * direction holding more than `maxQueuedBytes` pauses its reader (TCP backpressure).
 * The delay can change while connections are open: chunks already queued keep theirs.
 *
 * The same proxy with no delay bridges a unix socket and a TCP port: that is how a
 * namespace reaches the chain on the host's loopback, and how the host's loopback reaches
 * the gateway's API inside its namespace (see bridge.ts), without giving the host's
 * namespace an address on the lab's network.
 */
import { createServer, connect, type Server, type Socket } from 'node:net'

export type ProxyEndpoint = { host: string, port: number } | { path: string }

export interface DelayProxyOptions {
  listen: ProxyEndpoint
  target: ProxyEndpoint
  delayMs: number
  /** bytes held per direction before its reader pauses. @default 4 MiB */
  maxQueuedBytes?: number
}

export interface DelayProxy {
  server: Server
  /** the port it listens on (TCP) */
  port: number | undefined
  setDelay: (ms: number) => void
  delayMs: () => number
  /** connections accepted so far */
  accepted: () => number
  close: () => Promise<void>
}

interface Held { due: number, chunk: Buffer | null }

/** Copies `from` to `to`, each chunk held until `delay()` ms after it arrived. */
function pipeDelayed (from: Socket, to: Socket, delay: () => number, maxQueuedBytes: number): void {
  const queue: Held[] = []
  let queued = 0
  let timer: NodeJS.Timeout | undefined
  const flush = (): void => {
    timer = undefined
    const now = Date.now()
    while (queue.length > 0 && queue[0].due <= now) {
      const { chunk } = queue.shift() as Held
      if (chunk === null) { to.end(); return }
      queued -= chunk.length
      to.write(chunk)
    }
    if (from.isPaused() && queued < maxQueuedBytes / 2) from.resume()
    schedule()
  }
  const schedule = (): void => {
    if (timer !== undefined || queue.length === 0) return
    timer = setTimeout(flush, Math.max(0, queue[0].due - Date.now()))
  }
  const hold = (chunk: Buffer | null): void => {
    const ms = delay()
    if (ms <= 0 && queue.length === 0) {
      if (chunk === null) to.end()
      else to.write(chunk)
      return
    }
    queue.push({ due: Date.now() + ms, chunk })
    if (chunk !== null) {
      queued += chunk.length
      if (queued > maxQueuedBytes) from.pause()
    }
    schedule()
  }
  from.on('data', (chunk: Buffer) => { hold(chunk) })
  from.on('end', () => { hold(null) })
  from.on('close', () => { if (timer !== undefined && queue.length === 0) clearTimeout(timer) })
}

export async function startDelayProxy (options: DelayProxyOptions): Promise<DelayProxy> {
  let delayMs = options.delayMs
  let accepted = 0
  const maxQueued = options.maxQueuedBytes ?? 4 * 1024 * 1024
  const sockets = new Set<Socket>()
  const server = createServer({ allowHalfOpen: true }, (inbound) => {
    accepted++
    const outbound = 'path' in options.target
      ? connect({ path: options.target.path, allowHalfOpen: true })
      : connect({ host: options.target.host, port: options.target.port, allowHalfOpen: true })
    for (const s of [inbound, outbound]) {
      sockets.add(s)
      s.setNoDelay?.(true)
      s.on('close', () => { sockets.delete(s) })
    }
    // either side failing tears the pair down, as a broken path would
    const teardown = (): void => { inbound.destroy(); outbound.destroy() }
    inbound.on('error', teardown)
    outbound.on('error', teardown)
    // a clean close follows an 'end', which reaches the other side after the delay (with
    // the data still held); only an abrupt one tears the pair down at once
    inbound.on('close', (hadError) => { if (hadError) teardown() })
    outbound.on('close', (hadError) => { if (hadError) teardown() })
    pipeDelayed(inbound, outbound, () => delayMs, maxQueued)
    pipeDelayed(outbound, inbound, () => delayMs, maxQueued)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.listen, () => { server.off('error', reject); resolve() })
  })
  const address = server.address()
  return {
    server,
    port: typeof address === 'object' && address !== null ? address.port : undefined,
    setDelay: (ms) => { delayMs = Math.max(0, ms) },
    delayMs: () => delayMs,
    accepted: () => accepted,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>(resolve => { server.close(() => { resolve() }) })
    }
  }
}
