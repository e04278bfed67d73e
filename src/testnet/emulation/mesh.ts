/**
 * An emulated mesh: every node a `shoal` process in a network namespace of its own, with
 * its own address on one bridge (src/testnet/netns.ts), so links can be cut, partitioned,
 * slowed, made lossy and delayed per host. Measured here: one node process per host is
 * about 170 MB RSS and a per-node CPU runner another 100 MB, so by default the CPU runners
 * are shared: one `shoal runner` per (pipeline, model) in a "runners" namespace, which
 * every orchestrator uses as an external runner (`url`). Node.js cannot enter another
 * network namespace from a running process (no setns), so hosts cannot share a process.
 *
 * The host's own namespace never gets an address. What must cross is bridged through
 * unix sockets (delay-proxy.ts): the chain (anvil on a `chain` host of the lab, reached
 * there at `http://<chain host>:8545`) for this process's funding and reads, and the
 * gateway's API (on 127.0.0.1 inside its namespace) at a loopback port of the host.
 */
import { randomBytes } from 'node:crypto'
import { chmod, mkdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseEther } from 'ethers'
import { loadOrCreateNodeKeys } from '../../p2p/keys.js'
import { spawnShoal, type ShoalChild } from '../child.js'
import type { TestnetChain } from '../local-chain.js'
import { createNetnsLab, type NetnsHost, type NetnsLab } from '../netns.js'
import type { TestnetModelEntry } from '../process-mesh.js'
import { niceArgv, redirectInbound, startHelper, type HelperProcess } from './helper.js'
import { startDelayProxy, type DelayProxy } from './delay-proxy.js'
import { EmulationError } from './errors.js'
import { launchNice, setAutogroupNice, setProcessPriority, type LaunchKind } from './priority.js'
import { healAll, partition } from './partition.js'
import { shapeLink, type LinkShape } from './shaping.js'

export type EmulatedRole = 'bootstrap' | 'orchestrator' | 'gateway'

export interface LinkSpec extends LinkShape {
  /** added to each direction of every connection this host accepts, ms (user-space proxy) */
  delayMs?: number
}

export interface EmulatedNodeSpec {
  name: string
  role: EmulatedRole
  /** orchestrators: what they serve */
  models?: TestnetModelEntry[]
  link?: LinkSpec
  /** reserve a delay proxy for this host even if it starts with no delay (a later event sets one) */
  delayable?: boolean
}

export interface EmulatedNode {
  spec: EmulatedNodeSpec
  host: NetnsHost
  child: ShoalChild | undefined
  peerId: string
  ethAddress: string
  running: boolean
  models: TestnetModelEntry[]
}

export interface EmulatedMeshOptions {
  dataDir: string
  nodes: EmulatedNodeSpec[]
  /** first three octets of the lab's /24. @default '10.240.0' */
  subnetPrefix?: string
  /**
   * paid jobs on a local chain, which the mesh starts with `chain` inside the lab, on a
   * host of its own that nodes reach directly (lab-chain.ts), and owns (`chain`, stopped
   * by `stop`). A chain on the host's loopback bridged in through user-space proxies was
   * what large meshes could not afford: every ticket check of every orchestrator crossed
   * the proxies, and timed out under load.
   */
  payments?: { chain: (placement: ChainPlacement) => Promise<TestnetChain>, depositWei: bigint, reserveWei: bigint, ticketEvWei: string, gasPriceWei: string }
  /** one CPU runner per (pipeline, model) shared by all orchestrators (default), or one per orchestrator */
  runners?: 'shared' | 'per-node'
  /** the host's loopback port bridged to the gateway's API (0 picks one) */
  gatewayPort?: number
  logLevel?: string
  /**
   * CPU priority (nice, -20..19) of each kind of process. Emulated hosts share the
   * machine's cores, where real ones would each have their own: many idle orchestrators
   * then starve the gateway, the shared runners and the chain, which stand for machines
   * of their own. A lower value for those keeps the measured path from queueing behind
   * background work of other hosts. `gateway` covers its API bridge, `orchestrator` the
   * delay proxies of orchestrators. `startup`: a node of the mesh's start-up starts at this
   * priority and gets its role's once it listens (start-up is a few CPU-seconds; behind 40
   * running nodes at the same priority one took over 3 minutes); one restarted later starts
   * at its role's (`launchNice`, priority.ts). @default 0 for all
   */
  nice?: Partial<Record<EmulatedRole | 'infrastructure' | 'startup', number>>
  /** how long nodes wait for the chain at start (`--chain-timeout`), ms @default 180000: many nodes start at once */
  chainTimeoutMs?: number
  /** orchestrators started at once (start-up is CPU-bound) @default 4 */
  startConcurrency?: number
  /** how long to wait for the gateway to list every orchestrator. @default 120000 */
  readyTimeoutMs?: number
  /** fail when not every orchestrator is listed in time (default); false: go on with those listed */
  requireAllListed?: boolean
  extraArgs?: { gateway?: string[], orchestrator?: string[], bootstrap?: string[] }
  env?: NodeJS.ProcessEnv
  signal?: AbortSignal
  onProgress?: (message: string) => void
}

/** Where a chain started by the mesh runs: anvil's argv wrapper, its address and port in the lab, and the URL this process reaches it at. */
export interface ChainPlacement {
  exec: (argv: string[]) => string[]
  host: string
  port: number
  rpcUrl: string
}

export interface EmulatedMesh {
  lab: NetnsLab
  /** the chain the nodes pay on, if any (started by the mesh in the lab) */
  chain: TestnetChain | undefined
  /** the gateway's API, bridged to the host's loopback */
  gatewayUrl: string
  nodes: ReadonlyMap<string, EmulatedNode>
  /** orchestrators the gateway listed when start-up ended (all of them unless `requireAllListed` is false) */
  listedAtStart: number
  /** every process the mesh runs now (nodes, runners, proxies), for resource sampling */
  pids: () => number[]
  kill: (name: string) => Promise<void>
  /** starts a node again (after a kill, or kills it first), optionally with new models (same keys, same peer id) */
  restart: (name: string, models?: TestnetModelEntry[]) => Promise<void>
  partition: (names: string[]) => Promise<void>
  heal: () => Promise<void>
  setLink: (name: string, link: LinkSpec) => Promise<void>
  /** orchestrator peer ids the gateway lists */
  directory: () => Promise<string[]>
  waitForDirectory: (test: (peers: string[]) => boolean, what: string, timeoutMs?: number) => Promise<void>
  stop: () => Promise<void>
}

const P2P_PORT = 4001
const PROXY_PORT = 14001
const CHAIN_PORT = 8545
const GATEWAY_API_PORT = 8935
const RUNNER_BASE_PORT = 8000

async function limit<T> (items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await fn(items[next++])
  }))
}

export async function startEmulatedMesh (options: EmulatedMeshOptions): Promise<EmulatedMesh> {
  const progress = options.onProgress ?? (() => {})
  const bootstraps = options.nodes.filter(n => n.role === 'bootstrap')
  const gateways = options.nodes.filter(n => n.role === 'gateway')
  if (bootstraps.length !== 1) throw new EmulationError('EMULATION_ERROR_NODE', `an emulated mesh has exactly one bootstrap node (got ${bootstraps.length})`)
  if (gateways.length !== 1) throw new EmulationError('EMULATION_ERROR_NODE', `an emulated mesh has exactly one gateway (got ${gateways.length})`)
  const logLevel = options.logLevel ?? 'info'
  // with priorities given, every process gets one (0 unless named): none inherits this process's
  const niceOf = (kind: EmulatedRole | 'infrastructure'): number | undefined => options.nice === undefined ? undefined : options.nice[kind] ?? 0
  let chain: TestnetChain | undefined
  const lab = await createNetnsLab({ subnetPrefix: options.subnetPrefix ?? '10.240.0' })
  // named in the output so that whoever runs the mesh can find (and check) its namespaces
  progress(`lab ${lab.id}: namespaces ${lab.id}-*, subnet ${lab.subnet}`)
  const sockets = join(tmpdir(), `shoal-${lab.id}-${randomBytes(3).toString('hex')}`)
  const helpers: HelperProcess[] = []
  const inProcess: DelayProxy[] = []
  const nodes = new Map<string, EmulatedNode>()
  const proxies = new Map<string, HelperProcess>()
  const runnerChildren: ShoalChild[] = []
  const funding: Array<Promise<void>> = []
  let stopped = false

  const stop = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    const order = [...gateways, ...options.nodes.filter(n => n.role === 'orchestrator'), ...bootstraps]
    await Promise.all(order.filter(n => n.role !== 'bootstrap').map(async n => await nodes.get(n.name)?.child?.stop(5_000).catch(() => {})))
    for (const n of bootstraps) await nodes.get(n.name)?.child?.stop(5_000).catch(() => {})
    for (const r of runnerChildren) await r.stop(5_000).catch(() => {})
    for (const h of helpers) await h.stop().catch(() => {})
    for (const p of inProcess) await p.close().catch(() => {})
    await chain?.stop().catch(() => {})
    await lab.remove()
  }

  try {
    await mkdir(options.dataDir, { recursive: true, mode: 0o700 })
    await mkdir(sockets, { recursive: true, mode: 0o700 })
    const hostOf = async (name: string): Promise<NetnsHost> => lab.hosts.get(name) ?? await lab.addHost(name)

    let rpcUrl: string | undefined
    const startChain = options.payments?.chain
    if (startChain !== undefined) {
      // the chain in the lab: anvil in a namespace of its own, which nodes reach directly;
      // this process reaches it through a unix socket (funding, the report)
      const chainHost = await hostOf('chain')
      const socket = join(sockets, 'chain.sock')
      helpers.push(await startHelper('chain-bridge', chainHost, { listen: { path: socket }, target: { host: chainHost.address, port: CHAIN_PORT }, delayMs: 0 }, join(options.dataDir, 'chain-bridge.log')))
      const local = await startDelayProxy({ listen: { host: '127.0.0.1', port: 0 }, target: { path: socket }, delayMs: 0 })
      inProcess.push(local)
      chain = await startChain({ exec: argv => chainHost.exec([...niceArgv(niceOf('infrastructure')), ...argv]), host: chainHost.address, port: CHAIN_PORT, rpcUrl: `http://127.0.0.1:${String(local.port)}` })
      rpcUrl = `http://${chainHost.address}:${CHAIN_PORT}`
      if (niceOf('infrastructure') !== undefined) await setAutogroupNice(chain.chain.pid, niceOf('infrastructure') as number)
      progress(`chain (anvil) in the lab at ${rpcUrl}, reached from here at ${chain.rpcUrl}`)
    }
    const paymentArgs = rpcUrl === undefined || chain === undefined ? ['--payments', 'off'] : ['--rpc-url', rpcUrl, '--broker', chain.brokerAddress, '--chain-timeout', String(options.chainTimeoutMs ?? 180_000)]

    // shared CPU runners: one per (pipeline, model), each with its own token
    const sharedRunners = new Map<string, { url: string, token: string }>()
    if ((options.runners ?? 'shared') === 'shared') {
      const wanted = new Map<string, { pipeline: string, modelId: string }>()
      for (const n of options.nodes) for (const m of n.models ?? []) wanted.set(`${m.pipeline}\n${m.model_id}`, { pipeline: m.pipeline, modelId: m.model_id })
      if (wanted.size > 0) {
        const runnersHost = await hostOf('runners')
        let port = RUNNER_BASE_PORT
        for (const [key, { pipeline, modelId }] of wanted) {
          const token = randomBytes(18).toString('base64url')
          const thisPort = port++
          const child = spawnShoal(`runner-${pipeline}`, ['runner', '--pipeline', pipeline, '--model-id', modelId, '--host', runnersHost.address, '--port', String(thisPort), '--workers', '2', '--max-queue', '1024', '--log-level', logLevel],
            { logFile: join(options.dataDir, `runner-${pipeline}.log`), prefix: runnersHost.exec(niceArgv(niceOf('infrastructure'))), env: { ...options.env, AUTH_TOKEN: token } })
          runnerChildren.push(child)
          if (niceOf('infrastructure') !== undefined) await setAutogroupNice(child.pid, niceOf('infrastructure') as number)
          await child.waitForEvent('ready', { signal: options.signal, timeoutMs: 120_000 })
          sharedRunners.set(key, { url: `http://${runnersHost.address}:${thisPort}`, token })
          progress(`runner ${pipeline}/${modelId} at ${runnersHost.address}:${thisPort} (shared)`)
        }
      }
    }

    const modelsFor = (models: TestnetModelEntry[]): TestnetModelEntry[] => models.map(m => {
      const shared = sharedRunners.get(`${m.pipeline}\n${m.model_id}`)
      return shared === undefined ? m : { ...m, url: shared.url, token: shared.token }
    })

    let bootstrapAddr = ''
    const argsOf = (node: EmulatedNode, dir: string): string[] => {
      const common = ['--data-dir', dir, '--listen', `/ip4/${node.host.address}/tcp/${P2P_PORT}`, '--log-level', logLevel, '--address-scope', 'private']
      switch (node.spec.role) {
        case 'bootstrap': return ['bootstrap', ...common, ...(options.extraArgs?.bootstrap ?? [])]
        case 'orchestrator': {
          const payArgs = options.payments === undefined ? [] : ['--ticket-ev', options.payments.ticketEvWei, '--gas-price', options.payments.gasPriceWei]
          return ['orchestrator', ...common, '--bootstrap', bootstrapAddr, '--ai-models', join(dir, 'aiModels.json'), ...paymentArgs, ...payArgs, ...(options.extraArgs?.orchestrator ?? [])]
        }
        case 'gateway': return ['gateway', ...common, '--bootstrap', bootstrapAddr, '--http-host', '127.0.0.1', '--http-port', String(GATEWAY_API_PORT), ...paymentArgs, ...(options.extraArgs?.gateway ?? [])]
      }
    }

    const launch = async (node: EmulatedNode, kind: LaunchKind): Promise<void> => {
      const dir = join(options.dataDir, node.spec.name)
      await mkdir(dir, { recursive: true, mode: 0o700 })
      if (node.spec.role === 'orchestrator') {
        const path = join(dir, 'aiModels.json')
        // it holds runner tokens: the operator's alone
        await writeFile(path, JSON.stringify(modelsFor(node.models), null, 2), { mode: 0o600 })
        await chmod(path, 0o600)
      }
      const roleNice = niceOf(node.spec.role)
      const startNice = launchNice(roleNice, options.nice?.startup, kind)
      const child = spawnShoal(node.spec.name, argsOf(node, dir), { logFile: join(options.dataDir, `${node.spec.name}.log`), prefix: node.host.exec(niceArgv(startNice)), env: options.env })
      // a node is a session of its own: its autogroup decides its share (priority.ts)
      if (startNice !== undefined) await setAutogroupNice(child.pid, startNice)
      node.child = child
      node.running = true
      void child.exited.then(() => { if (node.child === child) node.running = false })
      const event = await child.waitForEvent('listening', { signal: options.signal, timeoutMs: 180_000 })
      if (roleNice !== undefined && startNice !== roleNice) await setProcessPriority(child.pid, roleNice)
      node.peerId = String(event.peerId)
      if (typeof event.ethAddress === 'string') node.ethAddress = event.ethAddress
    }

    const prepare = async (spec: EmulatedNodeSpec): Promise<EmulatedNode> => {
      const host = await hostOf(spec.name)
      const node: EmulatedNode = { spec, host, child: undefined, peerId: '', ethAddress: '', running: false, models: spec.models ?? [] }
      nodes.set(spec.name, node)
      if (spec.delayable === true || (spec.link?.delayMs ?? 0) > 0) {
        // every connection this host accepts on its libp2p port goes through the proxy;
        // the proxy's own connection to the node is local (OUTPUT, not PREROUTING): no loop
        const proxy = await startHelper(`delay-${spec.name}`, host, { listen: { host: host.address, port: PROXY_PORT }, target: { host: host.address, port: P2P_PORT }, delayMs: spec.link?.delayMs ?? 0 }, join(options.dataDir, `delay-${spec.name}.log`), niceOf(spec.role))
        helpers.push(proxy)
        proxies.set(spec.name, proxy)
        await redirectInbound(host, P2P_PORT, PROXY_PORT)
      }
      if (spec.link !== undefined && ((spec.link.rateKbit ?? 0) > 0 || (spec.link.lossPercent ?? 0) > 0)) await shapeLink(lab, spec.name, spec.link)
      if (spec.role !== 'bootstrap' && chain !== undefined) {
        // its account pays redemption gas (orchestrators) or funds the deposit (gateway)
        const keys = await loadOrCreateNodeKeys(join(options.dataDir, spec.name))
        node.ethAddress = keys.ethereum.address
        // one transaction a block from one funder: waited for after start-up, not before each node
        if (spec.role === 'orchestrator') funding.push(chain.sendEth(keys.ethereum.address, parseEther('10')))
      }
      return node
    }

    const bootstrap = await prepare(bootstraps[0])
    await launch(bootstrap, 'initial')
    bootstrapAddr = `/ip4/${bootstrap.host.address}/tcp/${P2P_PORT}/p2p/${bootstrap.peerId}`
    progress(`bootstrap ${bootstrap.peerId} at ${bootstrap.host.address}`)

    const orchestratorSpecs = options.nodes.filter(n => n.role === 'orchestrator')
    const prepared: EmulatedNode[] = []
    for (const spec of orchestratorSpecs) prepared.push(await prepare(spec))
    const gateway = await prepare(gateways[0])
    if (options.payments !== undefined && chain !== undefined) {
      const keys = await loadOrCreateNodeKeys(join(options.dataDir, gateway.spec.name))
      await chain.fundSender(keys.ethereum.privateKey, options.payments.depositWei, options.payments.reserveWei, Math.max(orchestratorSpecs.length, 1) + 4)
    }
    // start-up is CPU-bound (a few CPU-seconds per node process): a few at a time, the
    // gateway among the first so that it learns of the orchestrators as they come
    let started = 0
    await limit([gateway, ...prepared], options.startConcurrency ?? 4, async (node) => {
      await launch(node, 'initial')
      if (node === gateway) return
      started++
      if (started % 10 === 0 || started === prepared.length) progress(`orchestrators listening: ${started}/${prepared.length}`)
    })
    // the gateway's API: 127.0.0.1:8935 inside its namespace -> unix socket -> the host's loopback
    const apiSocket = join(sockets, 'gateway-api.sock')
    helpers.push(await startHelper('gateway-bridge', gateway.host, { listen: { path: apiSocket }, target: { host: '127.0.0.1', port: GATEWAY_API_PORT }, delayMs: 0 }, join(options.dataDir, 'gateway-bridge.log'), niceOf('gateway')))
    const apiProxy = await startDelayProxy({ listen: { host: '127.0.0.1', port: options.gatewayPort ?? 0 }, target: { path: apiSocket }, delayMs: 0 })
    inProcess.push(apiProxy)
    const gatewayUrl = `http://127.0.0.1:${String(apiProxy.port)}`
    progress(`gateway ${gateway.peerId} at ${gateway.host.address}, API ${gatewayUrl}`)

    const directory = async (): Promise<string[]> => {
      const res = await fetch(`${gatewayUrl}/network/orchestrators`, { signal: AbortSignal.timeout(5_000) })
      if (!res.ok) return []
      return (await res.json() as Array<{ peerId: string }>).map(e => e.peerId)
    }
    const waitForDirectory = async (test: (peers: string[]) => boolean, what: string, timeoutMs = options.readyTimeoutMs ?? 120_000): Promise<void> => {
      const deadline = Date.now() + timeoutMs
      let last: string[] = []
      for (;;) {
        last = await directory().catch(() => last)
        if (test(last)) return
        if (Date.now() > deadline) throw new EmulationError('EMULATION_ERROR_NODE', `timed out waiting for ${what}: the gateway lists ${last.length} orchestrators; logs in ${options.dataDir}`)
        options.signal?.throwIfAborted()
        await new Promise(resolve => setTimeout(resolve, 500))
      }
    }
    const wanted = prepared.map(n => n.peerId)
    let listedAtStart = wanted.length
    try {
      await waitForDirectory(peers => wanted.every(p => peers.includes(p)), `all ${wanted.length} orchestrators in the gateway's directory`)
    } catch (err) {
      if (options.requireAllListed ?? true) throw err
      const listed = await directory().catch((): string[] => [])
      listedAtStart = wanted.filter(p => listed.includes(p)).length
      progress(`the gateway lists ${listedAtStart} of ${wanted.length} orchestrators after ${Math.round((options.readyTimeoutMs ?? 120_000) / 1000)} s; going on (the others may join later)`)
    }
    await Promise.all(funding)

    const nodeOf = (name: string): EmulatedNode => {
      const node = nodes.get(name)
      if (node === undefined) throw new EmulationError('EMULATION_ERROR_UNKNOWN_HOST', `no node "${name}" in this mesh`)
      return node
    }
    return {
      lab,
      chain,
      gatewayUrl,
      listedAtStart,
      nodes,
      pids: () => [
        ...[...nodes.values()].filter(n => n.running && n.child !== undefined).map(n => (n.child as ShoalChild).pid),
        ...runnerChildren.map(r => r.pid),
        ...helpers.map(h => h.pid)
      ],
      kill: async (name) => {
        const node = nodeOf(name)
        await node.child?.kill()
        node.running = false
      },
      restart: async (name, models) => {
        const node = nodeOf(name)
        if (node.running) await node.child?.kill()
        if (models !== undefined) node.models = models
        await launch(node, 'restart')
      },
      partition: async (names) => {
        for (const n of names) nodeOf(n)
        await partition(lab, names)
      },
      heal: async () => { await healAll(lab) },
      setLink: async (name, link) => {
        nodeOf(name)
        await shapeLink(lab, name, link)
        if (link.delayMs !== undefined) {
          const proxy = proxies.get(name)
          if (proxy === undefined) {
            if (link.delayMs > 0) throw new EmulationError('EMULATION_ERROR_UNSUPPORTED', `node "${name}" has no delay proxy: give it a delay at start or mark it delayable`)
          } else {
            proxy.send({ delayMs: link.delayMs })
          }
        }
      },
      directory,
      waitForDirectory,
      stop
    }
  } catch (err) {
    await stop()
    throw err
  }
}
