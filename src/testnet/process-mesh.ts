import { chmod, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { formatEther, parseEther } from 'ethers'
import { loadOrCreateNodeKeys } from '../p2p/keys.js'
import { spawnShoal, type ShoalChild } from './child.js'
import type { TestnetChain } from './local-chain.js'

/** One aiModels.json entry as written for testnet orchestrators (the reference's field names). */
export interface TestnetModelEntry {
  pipeline: string
  model_id: string
  warm?: boolean
  capacity?: number
  price_per_unit?: string | number
  pixels_per_unit?: string | number
  /** WEI unless set; USD is converted through the chain's price feed */
  currency?: string
  url?: string
  token?: string
}

export interface ProcessMeshOptions {
  /** base data directory; each node gets its own folder below it */
  dataDir: string
  orchestrators: number
  /** models per orchestrator index */
  models: (index: number) => TestnetModelEntry[]
  /** 0 picks a free port */
  gatewayPort: number
  announcementTtlMs?: number
  logLevel?: string
  /** a local chain to pay on; without it the mesh runs with `--payments off` */
  payments?: {
    chain: TestnetChain
    /** what the gateway deposits and reserves on the TicketBroker */
    depositWei: bigint
    reserveWei: bigint
  }
  /** extra flags per role */
  extraArgs?: { orchestrator?: (index: number) => string[], gateway?: string[], bootstrap?: string[] }
  env?: NodeJS.ProcessEnv
  signal?: AbortSignal
  /** how long to wait for every orchestrator to be listed by the gateway */
  readyTimeoutMs?: number
  onProgress?: (message: string) => void
}

export interface OrchestratorInfo {
  peerId: string
  dataDir: string
  ethAddress: string
  /** its Prometheus endpoint, when started with --metrics-port */
  metricsUrl: string | undefined
}

export interface ProcessMesh {
  bootstrap: ShoalChild & { peerId: string, address: string }
  orchestrators: Array<ShoalChild & OrchestratorInfo>
  gateway: ShoalChild & { peerId: string, url: string, ethAddress: string }
  /** every child still running, for stopping */
  children: () => ShoalChild[]
  /** starts one more orchestrator (index continues the numbering) */
  addOrchestrator: (index: number) => Promise<ShoalChild & OrchestratorInfo>
  /** resolves when the gateway lists exactly these orchestrator peer ids (or at least, with `atLeast`) */
  waitForDirectory: (peerIds: string[], options?: { timeoutMs?: number }) => Promise<void>
  stop: () => Promise<void>
}

const LOOPBACK = '/ip4/127.0.0.1/tcp/0'

async function fetchDirectory (url: string): Promise<string[]> {
  const res = await fetch(`${url}/network/orchestrators`, { signal: AbortSignal.timeout(2_000) })
  if (!res.ok) return []
  const body = await res.json() as Array<{ peerId: string }>
  return body.map(e => e.peerId)
}

/**
 * A local multi-process mesh: a bootstrap, N orchestrators and a gateway, each a
 * `shoal` process with its own data directory and log file, all on loopback. Used by
 * `shoal testnet` and the end-to-end tests.
 */
export async function startProcessMesh (options: ProcessMeshOptions): Promise<ProcessMesh> {
  const progress = options.onProgress ?? (() => {})
  const common = ['--log-level', options.logLevel ?? 'info', '--listen', LOOPBACK, '--address-scope', 'private']
  const chain = options.payments?.chain
  const paymentArgs = chain === undefined ? ['--payments', 'off'] : ['--rpc-url', chain.rpcUrl, '--broker', chain.brokerAddress, '--price-feed', chain.priceFeedAddress]
  const started: ShoalChild[] = []
  const stopAll = async (): Promise<void> => {
    // gateway first, then orchestrators, then the bootstrap: nobody loses its peers mid-shutdown
    for (const child of [...started].reverse()) await child.stop()
  }

  try {
    await mkdir(options.dataDir, { recursive: true, mode: 0o700 })
    await chmod(options.dataDir, 0o700)
    const bootstrapDir = join(options.dataDir, 'bootstrap')
    await mkdir(bootstrapDir, { recursive: true, mode: 0o700 })
    const bootstrapChild = spawnShoal('bootstrap', ['bootstrap', '--data-dir', bootstrapDir, ...common, ...(options.extraArgs?.bootstrap ?? [])], { logFile: join(options.dataDir, 'bootstrap.log'), env: options.env })
    started.push(bootstrapChild)
    const bootstrapEvent = await bootstrapChild.waitForEvent('listening', { signal: options.signal, timeoutMs: 120_000 })
    const bootstrapAddress = (bootstrapEvent.addresses as string[]).find(a => a.includes('/127.0.0.1/'))
    if (bootstrapAddress === undefined) throw new Error('bootstrap has no loopback address')
    progress(`bootstrap ${String(bootstrapEvent.peerId)} at ${bootstrapAddress}`)

    const startOrchestrator = async (index: number): Promise<ShoalChild & OrchestratorInfo> => {
      const dir = join(options.dataDir, `orchestrator-${index}`)
      await mkdir(dir, { recursive: true, mode: 0o700 })
      if (chain !== undefined) {
        // the orchestrator's account pays redemption gas
        const keys = await loadOrCreateNodeKeys(dir)
        await chain.sendEth(keys.ethereum.address, parseEther('100'))
      }
      const modelsPath = join(dir, 'aiModels.json')
      // it may hold runner tokens: the operator's alone
      await writeFile(modelsPath, JSON.stringify(options.models(index), null, 2), { mode: 0o600 })
      await chmod(modelsPath, 0o600) // a file left by an earlier run keeps its mode otherwise
      const args = ['orchestrator', '--data-dir', dir, ...common, '--bootstrap', bootstrapAddress, '--ai-models', modelsPath,
        ...(options.announcementTtlMs === undefined ? [] : ['--announcement-ttl', String(options.announcementTtlMs)]),
        ...paymentArgs, ...(options.extraArgs?.orchestrator?.(index) ?? [])]
      const child = spawnShoal(`orchestrator-${index}`, args, { logFile: join(options.dataDir, `orchestrator-${index}.log`), env: options.env })
      started.push(child)
      const event = await child.waitForEvent('listening', { signal: options.signal, timeoutMs: 120_000 })
      progress(`orchestrator-${index} ${String(event.peerId)} serving ${(options.models(index)).map(m => `${m.pipeline}/${m.model_id}`).join(', ')}`)
      return Object.assign(child, { peerId: String(event.peerId), dataDir: dir, ethAddress: String(event.ethAddress), metricsUrl: typeof event.metrics === 'string' ? event.metrics : undefined })
    }
    const orchestrators = await Promise.all(Array.from({ length: options.orchestrators }, async (_, i) => await startOrchestrator(i)))

    const gatewayDir = join(options.dataDir, 'gateway')
    await mkdir(gatewayDir, { recursive: true, mode: 0o700 })
    if (options.payments !== undefined) {
      const keys = await loadOrCreateNodeKeys(gatewayDir)
      // the reserve is shared by up to this many orchestrators (the contract's reserve rule)
      await options.payments.chain.fundSender(keys.ethereum.privateKey, options.payments.depositWei, options.payments.reserveWei, Math.max(options.orchestrators, 1) + 4)
      progress(`gateway account ${keys.ethereum.address} funded: deposit ${formatEther(options.payments.depositWei)} ETH, reserve ${formatEther(options.payments.reserveWei)} ETH`)
    }
    const gatewayChild = spawnShoal('gateway', ['gateway', '--data-dir', gatewayDir, ...common, '--bootstrap', bootstrapAddress, '--http-port', String(options.gatewayPort), ...paymentArgs, ...(options.extraArgs?.gateway ?? [])], { logFile: join(options.dataDir, 'gateway.log'), env: options.env })
    started.push(gatewayChild)
    const gatewayEvent = await gatewayChild.waitForEvent('listening', { signal: options.signal, timeoutMs: 120_000 })
    const url = String(gatewayEvent.url)
    progress(`gateway ${String(gatewayEvent.peerId)} at ${url}`)

    const waitForDirectory = async (peerIds: string[], waitOptions: { timeoutMs?: number } = {}): Promise<void> => {
      const deadline = Date.now() + (waitOptions.timeoutMs ?? options.readyTimeoutMs ?? 60_000)
      const wanted = [...peerIds].sort().join(',')
      for (;;) {
        const listed = await fetchDirectory(url).catch(() => [])
        if ([...listed].sort().join(',') === wanted) return
        if (Date.now() > deadline) throw new Error(`the gateway lists ${listed.length} orchestrators, expected ${peerIds.length}; see logs in ${options.dataDir}`)
        if (options.signal?.aborted === true) throw new Error('aborted')
        await new Promise(resolve => setTimeout(resolve, 200))
      }
    }
    await waitForDirectory(orchestrators.map(o => o.peerId))

    return {
      bootstrap: Object.assign(bootstrapChild, { peerId: String(bootstrapEvent.peerId), address: bootstrapAddress }),
      orchestrators,
      gateway: Object.assign(gatewayChild, { peerId: String(gatewayEvent.peerId), url, ethAddress: String(gatewayEvent.ethAddress) }),
      children: () => [...started],
      addOrchestrator: async (index) => {
        const o = await startOrchestrator(index)
        orchestrators.push(o)
        return o
      },
      waitForDirectory,
      stop: stopAll
    }
  } catch (err) {
    await stopAll()
    throw err
  }
}
