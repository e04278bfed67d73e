/**
 * A shoal mesh whose every node runs in its own network namespace (src/testnet/netns.ts),
 * plus a load client inside the gateway's namespace (fixtures/ns-client.mjs): no process
 * of the test sends a packet from the host's namespace. Used by partition.spec.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { spawnShoal, type ShoalChild } from '../../src/testnet/child.js'
import type { NetnsHost, NetnsLab } from '../../src/testnet/netns.js'

export interface NsNode extends ShoalChild { host: NetnsHost, peerId: string }

export interface NsMesh {
  bootstrap: NsNode
  orchestrators: NsNode[]
  gateway: NsNode
  /** the gateway's HTTP API as seen from inside its namespace */
  gatewayUrl: string
  stop: () => Promise<void>
}

export interface NsMeshOptions {
  lab: NetnsLab
  dataDir: string
  orchestrators: number
  models: Array<Record<string, unknown>>
  extraArgs?: { orchestrator?: string[], gateway?: string[] }
  /** the aiModels.json of orchestrator `index`, when not `models` (e.g. an external runner that stalls) */
  modelsOf?: (index: number) => Array<Record<string, unknown>> | undefined
}

const GATEWAY_HTTP_PORT = 8935

export async function startNsMesh (options: NsMeshOptions): Promise<NsMesh> {
  const started: ShoalChild[] = []
  const stop = async (): Promise<void> => {
    for (const child of [...started].reverse()) await child.stop(5_000).catch(() => {})
  }
  const common = ['--log-level', 'info', '--address-scope', 'private']
  const start = async (name: string, role: string, args: string[]): Promise<NsNode> => {
    const host = options.lab.hosts.get(name) ?? await options.lab.addHost(name)
    const dir = join(options.dataDir, name)
    await mkdir(dir, { recursive: true })
    const child = spawnShoal(name, [role, '--data-dir', dir, '--listen', `/ip4/${host.address}/tcp/4001`, ...common, ...args], {
      logFile: join(options.dataDir, `${name}.log`),
      prefix: host.exec([])
    })
    started.push(child)
    const event = await child.waitForEvent('listening', { timeoutMs: 120_000 })
    return Object.assign(child, { host, peerId: String(event.peerId) })
  }
  try {
    const bootstrap = await start('bootstrap', 'bootstrap', [])
    const bootstrapAddr = `/ip4/${bootstrap.host.address}/tcp/4001/p2p/${bootstrap.peerId}`
    const orchestrators = await Promise.all(Array.from({ length: options.orchestrators }, async (_, i) => {
      const dir = join(options.dataDir, `orchestrator-${i}`)
      await mkdir(dir, { recursive: true })
      const modelsPath = join(dir, 'aiModels.json')
      await writeFile(modelsPath, JSON.stringify(options.modelsOf?.(i) ?? options.models))
      return await start(`orchestrator-${i}`, 'orchestrator', ['--bootstrap', bootstrapAddr, '--ai-models', modelsPath, '--payments', 'off', ...(options.extraArgs?.orchestrator ?? [])])
    }))
    const gateway = await start('gateway', 'gateway', ['--bootstrap', bootstrapAddr, '--http-host', '127.0.0.1', '--http-port', String(GATEWAY_HTTP_PORT), '--payments', 'off', ...(options.extraArgs?.gateway ?? [])])
    return { bootstrap, orchestrators, gateway, gatewayUrl: `http://127.0.0.1:${GATEWAY_HTTP_PORT}`, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

export interface RequestRecord {
  kind: 'request'
  start: number
  end: number
  status: number
  orchestrator: string | null
  tried: string
  error?: string
}

export interface DirRecord { kind: 'dir', at: number, ms: number, peers: string[] | null, error?: string }

export interface Attempt { peerId: string, outcome: string, ms: number, code?: string, startedAt: number }

/** The attempts of a response, with their approximate start times (attempts run one after another). */
export function attemptsOf (record: RequestRecord): Attempt[] {
  if (record.tried === '') return []
  let at = record.start
  return record.tried.split(',').map(part => {
    const [peerId, outcome, ms, code] = part.trim().split(';')
    const attempt = { peerId, outcome, ms: Number(ms), ...(code === undefined ? {} : { code }), startedAt: at }
    at += Number(ms)
    return attempt
  })
}

export interface NsResponse { start: number, end: number, status: number, headers: Record<string, string>, body: string, error?: string }

/**
 * One HTTP request made from inside `host`'s namespace (a node child that prints the
 * answer), so that no packet of the test leaves the namespaces it created.
 */
export async function nsFetch (host: NetnsHost, url: string, init: { method?: string, body?: unknown, timeoutMs: number }): Promise<NsResponse> {
  const script = `const [url, method, body, timeoutMs] = process.argv.slice(1)
const start = Date.now()
try {
  const res = await fetch(url, { method, headers: body === '' ? {} : { 'content-type': 'application/json' }, body: body === '' ? undefined : body, signal: AbortSignal.timeout(Number(timeoutMs)) })
  const text = await res.text()
  process.stdout.write(JSON.stringify({ start, end: Date.now(), status: res.status, headers: Object.fromEntries(res.headers), body: text }))
} catch (err) {
  process.stdout.write(JSON.stringify({ start, end: Date.now(), status: 0, headers: {}, body: '', error: String(err.message) }))
}`
  const body = init.body === undefined ? '' : JSON.stringify(init.body)
  const [cmd, ...args] = host.exec([process.execPath, '--input-type=module', '-e', script, url, init.method ?? 'GET', body, String(init.timeoutMs)])
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
  await new Promise<void>(resolve => { child.once('close', () => { resolve() }) })
  return JSON.parse(out) as NsResponse
}

export interface NsClient {
  requests: RequestRecord[]
  /** GET /network/orchestrators from inside the gateway's namespace */
  directory: () => Promise<DirRecord>
  /** resolves when `test` holds for a new request record, or rejects after `timeoutMs` */
  waitForRequest: (test: (r: RequestRecord) => boolean, timeoutMs: number, what: string) => Promise<RequestRecord>
  stop: () => Promise<void>
}

const CLIENT_SCRIPT = fileURLToPath(new URL('./fixtures/ns-client.mjs', import.meta.url))

/** Starts the load client inside `host`'s namespace. */
export function startNsClient (host: NetnsHost, options: { url: string, path: string, body: unknown, concurrency: number, pauseMs: number, requestTimeoutMs: number }): NsClient {
  const [cmd, ...args] = host.exec([process.execPath, CLIENT_SCRIPT, options.url, options.path, JSON.stringify(options.body), String(options.concurrency), String(options.pauseMs), String(options.requestTimeoutMs)])
  const child: ChildProcess = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] })
  const requests: RequestRecord[] = []
  const dirWaiters: Array<(d: DirRecord) => void> = []
  const requestWaiters = new Set<() => void>()
  let stopped = false
  const exited = new Promise<void>(resolve => { child.once('exit', () => { stopped = true; resolve() }) })
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const value = JSON.parse(line) as RequestRecord | DirRecord | { kind: 'stopped' }
    if (value.kind === 'request') {
      requests.push(value)
      for (const wake of requestWaiters) wake()
    } else if (value.kind === 'dir') {
      dirWaiters.shift()?.(value)
    }
  })
  return {
    requests,
    directory: async () => await new Promise<DirRecord>((resolve, reject) => {
      if (stopped) { reject(new Error('the client has exited')); return }
      dirWaiters.push(resolve)
      child.stdin?.write('dir\n')
    }),
    waitForRequest: async (test, timeoutMs, what) => {
      let seen = requests.length
      const found = requests.find(test)
      if (found !== undefined) return found
      return await new Promise<RequestRecord>((resolve, reject) => {
        const check = (): void => {
          for (; seen < requests.length; seen++) {
            if (test(requests[seen])) { done(); resolve(requests[seen]); return }
          }
          if (stopped) { done(); reject(new Error(`the client exited before ${what}`)) }
        }
        const timer = setTimeout(() => { done(); reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)) }, timeoutMs)
        const done = (): void => { clearTimeout(timer); requestWaiters.delete(check) }
        requestWaiters.add(check)
      })
    },
    stop: async () => {
      if (stopped) return
      child.stdin?.end('stop\n')
      const timer = setTimeout(() => { child.kill('SIGKILL') }, 40_000)
      await exited
      clearTimeout(timer)
    }
  }
}
