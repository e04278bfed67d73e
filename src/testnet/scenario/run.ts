/**
 * Runs a scenario: an emulated mesh (one namespace per node), the load, the timed events,
 * then the report (JSON and HTML) from what the load recorded, the gateway's payment
 * metrics and the TicketBroker's redemption logs.
 */
import { execFile } from 'node:child_process'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { cpus, getPriority, loadavg, setPriority, totalmem } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { parseEther } from 'ethers'
import { ticketBrokerInterface } from '../../payments/chain/index.js'
import type { TestnetChain } from '../local-chain.js'
import { netnsSupport } from '../netns.js'
import type { TestnetModelEntry } from '../process-mesh.js'
import { autogroupNice, setAutogroupNice } from '../emulation/priority.js'
import { startEmulatedMesh, type EmulatedMesh, type EmulatedNodeSpec } from '../emulation/mesh.js'
import { labPayments } from '../emulation/lab-chain.js'
import { ScenarioError } from './errors.js'
import { renderReportHtml } from './html.js'
import { startLoad, type RequestRecord } from './load.js'
import { eventKeys, scheduleEvents, type EventSchedule } from './schedule.js'
import { buildReport, type AppliedEvent, type Redemption, type ResourceSample, type ScenarioReport } from './report.js'
import type { Scenario, ScenarioEvent, ScenarioModel } from './schema.js'

const run = promisify(execFile)

/** Ticket values: 10,000 gwei of expected value per ticket, as `shoal testnet`. */
const TICKET_EV_WEI = '10000000000000'
/**
 * The gas price face values are computed from (faceValue = 150k gas x this x 100). At
 * `shoal testnet`'s 1 gwei one ticket in 1,500 wins, and a run of a minute redeems
 * nothing; at 0.01 gwei one in 15 does, so settlement shows in the report. Anvil's real
 * base fee is lower still, so redemptions stay profitable.
 */
const GAS_PRICE_WEI = '10000000'

export interface RunScenarioOptions {
  scenario: Scenario
  /** node data directories and logs */
  dataDir: string
  /** where report.json and report.html go */
  reportDir: string
  logLevel?: string
  /** the host's loopback port for the gateway's API (0 picks one) */
  gatewayPort?: number
  signal?: AbortSignal
  onProgress?: (message: string) => void
}

export interface ScenarioRunResult { report: ScenarioReport, jsonPath: string, htmlPath: string }

function entriesOf (models: ScenarioModel[]): TestnetModelEntry[] {
  return models.map(m => ({ pipeline: m.pipeline, model_id: m.model, warm: m.warm, capacity: m.capacity, price_per_unit: m.price, pixels_per_unit: '1' }))
}

/** Can this machine run scenarios: root, `ip netns`, `iptables` and `tc`. */
export async function scenarioSupport (): Promise<{ ok: true } | { ok: false, reason: string }> {
  const netns = await netnsSupport()
  if (!netns.ok) return netns
  for (const tool of [['iptables', '--version'], ['tc', '-V']]) {
    try { await run(tool[0], tool.slice(1), { timeout: 5_000 }) } catch { return { ok: false, reason: `\`${tool[0]}\` is missing (apt-get install -y iptables iproute2)` } }
  }
  return { ok: true }
}

/** CPU clock ticks a second (`getconf CLK_TCK`); 100 on Linux here. */
const CLOCK_TICKS = 100
const PAGE_KB = 4

interface ProcStat { ppid: number, ticks: number, rssPages: number }

async function readStat (pid: number): Promise<ProcStat | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    // after "pid (comm) ": state is field 3, ppid 4, utime 14, stime 15, rss 24
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), rssPages: Number(f[21]) }
  } catch {
    return undefined
  }
}

/**
 * The processes of a set of roots and all their descendants: how many, their RSS (MB)
 * and the CPU ticks each used so far, from /proc. Each sample reads only the processes of
 * the tree; the whole of /proc (hundreds of processes on a shared machine) is scanned
 * only to find descendants, every `rescanEvery` samples or when the roots change.
 * Spawning `ps` every 2 s cost the scenario's own process more CPU than its load
 * generator, and reading all of /proc synchronously at a load average of 90 blocked its
 * event loop for seconds: no answer of a 50-host run's load was read in time.
 */
function processTree (rescanEvery = 10): (roots: number[]) => Promise<{ rssMb: number, processes: number, ticks: Map<number, number> }> {
  let tree: number[] = []
  let rootsKey = ''
  let samples = 0
  const rescan = async (roots: number[]): Promise<void> => {
    const children = new Map<number, number[]>()
    for (const name of (await readdir('/proc')).filter(n => /^[0-9]+$/.test(n))) {
      const s = await readStat(Number(name))
      if (s !== undefined) children.set(s.ppid, [...(children.get(s.ppid) ?? []), Number(name)])
    }
    const seen = new Set<number>()
    const stack = [...roots]
    while (stack.length > 0) {
      const pid = stack.pop() as number
      if (seen.has(pid)) continue
      seen.add(pid)
      stack.push(...(children.get(pid) ?? []))
    }
    tree = [...seen]
  }
  return async (roots) => {
    const key = roots.join(',')
    if (key !== rootsKey || samples++ % rescanEvery === 0) {
      rootsKey = key
      await rescan(roots)
    }
    let pages = 0
    const ticks = new Map<number, number>()
    for (const pid of tree) {
      const s = await readStat(pid)
      if (s === undefined) continue
      pages += s.rssPages
      ticks.set(pid, s.ticks)
    }
    return { rssMb: Math.round(pages * PAGE_KB / 1024), processes: ticks.size, ticks }
  }
}

function metricValue (text: string, name: string): number {
  let sum = 0
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0
  }
  return sum
}

/** The node flags a scenario's tuning sets: orchestrators and the bootstrap only (the gateway is what is measured). */
export function tuningArgs (tuning: Scenario['tuning']): { orchestrator: string[], bootstrap: string[] } {
  const mesh = [
    ...(tuning.monitorIntervalMs === undefined ? [] : ['--monitor-interval', String(tuning.monitorIntervalMs)]),
    ...(tuning.gossipHeartbeatMs === undefined ? [] : ['--gossip-heartbeat', String(tuning.gossipHeartbeatMs)])
  ]
  return {
    orchestrator: [
      ...mesh,
      ...(tuning.announcementTtlMs === undefined ? [] : ['--announcement-ttl', String(tuning.announcementTtlMs)]),
      ...(tuning.quoteTimeoutMs === undefined ? [] : ['--quote-timeout', String(tuning.quoteTimeoutMs)])
    ],
    bootstrap: mesh
  }
}

export async function runScenario (options: RunScenarioOptions): Promise<ScenarioRunResult> {
  const { scenario } = options
  const progress = options.onProgress ?? (() => {})
  const support = await scenarioSupport()
  if (!support.ok) throw new ScenarioError('SCENARIO_ERROR_RUN', `scenarios need emulated hosts: ${support.reason}`)
  const t0 = Date.now()
  const startedAtIso = new Date(t0).toISOString()
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 })
  await mkdir(options.reportDir, { recursive: true })

  // the load generator (and the bridges in this process) at the client's priority
  // (and its session's autogroup: helpers started without a session of their own share it)
  const priorityBefore = getPriority()
  const autogroupBefore = await autogroupNice('self')
  if (scenario.tuning.nice.client !== 0) {
    setPriority(scenario.tuning.nice.client)
    await setAutogroupNice('self', scenario.tuning.nice.client)
  }
  let chain: TestnetChain | undefined
  let mesh: EmulatedMesh | undefined
  const samples: ResourceSample[] = []
  let sampler: NodeJS.Timeout | undefined
  let schedule: EventSchedule<ScenarioEvent> | undefined
  try {
    const delayed = new Set(scenario.events.flatMap(e => e.action === 'slow-link' && e.link.delayMs !== undefined ? e.nodes : []))
    const specs: EmulatedNodeSpec[] = scenario.nodes.map(n => ({
      name: n.name,
      role: n.role,
      models: entriesOf(n.models),
      link: n.link,
      delayable: delayed.has(n.name)
    }))
    progress(`starting ${specs.length} nodes, each in its own network namespace (${scenario.subnet}.0/24)`)
    mesh = await startEmulatedMesh({
      dataDir: options.dataDir,
      nodes: specs,
      subnetPrefix: scenario.subnet,
      runners: scenario.runners,
      gatewayPort: options.gatewayPort ?? 0,
      logLevel: options.logLevel ?? 'info',
      signal: options.signal,
      onProgress: progress,
      // a big mesh on a busy machine may list the last few late: the report says how many were listed
      requireAllListed: false,
      readyTimeoutMs: scenario.tuning.readyTimeoutS * 1000,
      chainTimeoutMs: scenario.tuning.chainTimeoutMs,
      startConcurrency: scenario.tuning.startConcurrency,
      nice: scenario.tuning.nice,
      extraArgs: tuningArgs(scenario.tuning),
      // the chain runs in the lab, on a host of its own, and the mesh stops it
      ...(!scenario.payments
        ? {}
        : {
            payments: labPayments({
              logFile: join(options.dataDir, 'chain.log'),
              signal: options.signal,
              onStarted: (started) => { progress(`local chain, TicketBroker at ${started.brokerAddress}`) },
              depositWei: parseEther('50'),
              reserveWei: parseEther('50'),
              ticketEvWei: TICKET_EV_WEI,
              gasPriceWei: GAS_PRICE_WEI
            })
          })
    })
    const m = mesh
    chain = m.chain
    const setupS = (Date.now() - t0) / 1000
    progress(`mesh ready in ${setupS.toFixed(1)} s: the gateway lists ${m.listedAtStart} of ${scenario.nodes.filter(n => n.role === 'orchestrator').length} orchestrators`)

    // the load and the events share one clock: ms after `startedAt`
    const startedAt = Date.now() + 500
    // the mesh's own CPU between samples (processes alive at both), beside the machine's load
    let previous: { at: number, ticks: Map<number, number> } | undefined
    const treeUsage = processTree()
    const sample = async (): Promise<void> => {
      const usage = await treeUsage([process.pid, ...m.pids()]).catch(() => ({ rssMb: 0, processes: 0, ticks: new Map<number, number>() }))
      const at = Date.now()
      let used = 0
      if (previous !== undefined) for (const [pid, ticks] of usage.ticks) used += Math.max(0, ticks - (previous.ticks.get(pid) ?? ticks))
      const cpuPercent = previous === undefined ? null : Math.round(used / CLOCK_TICKS / ((at - previous.at) / 1000) * 1000) / 10
      previous = { at, ticks: usage.ticks }
      samples.push({ t: Math.round((at - startedAt) / 100) / 10, rssMb: usage.rssMb, load1: Math.round(loadavg()[0] * 100) / 100, processes: usage.processes, cpuPercent })
    }
    await sample()
    // one sample at a time: on a loaded machine one can take longer than the interval
    let sampling = false
    sampler = setInterval(() => {
      if (sampling) return
      sampling = true
      void sample().finally(() => { sampling = false })
    }, 2_000)

    const apply = async (event: ScenarioEvent): Promise<string> => {
      switch (event.action) {
        case 'kill':
          for (const n of event.nodes) await m.kill(n)
          return 'SIGKILL to the node and its process group'
        case 'restart':
          await Promise.all(event.nodes.map(async n => { await m.restart(n) }))
          return 'started again with the same keys (same peer id)'
        case 'partition':
          await m.partition(event.nodes)
          return `${event.nodes.length} nodes cut off from the other ${m.nodes.size + (chain === undefined ? 0 : 1) - event.nodes.length}`
        case 'heal':
          await m.heal()
          return 'every partition rule removed'
        case 'slow-link':
          for (const n of event.nodes) await m.setLink(n, event.link)
          return Object.entries(event.link).map(([k, v]) => `${k} ${String(v)}`).join(', ')
        case 'price':
          await Promise.all(event.nodes.map(async name => {
            const node = m.nodes.get(name)
            if (node === undefined) return
            const models = node.models.map(x => event.pipeline === undefined || x.pipeline === event.pipeline ? { ...x, price_per_unit: event.price } : x)
            await m.restart(name, models)
          }))
          return `price ${event.price} wei/unit${event.pipeline === undefined ? '' : ` for ${event.pipeline}`} (orchestrator restarted with the new aiModels.json)`
      }
    }
    const events = schedule = scheduleEvents(scenario.events.map(event => ({ event, atMs: event.at * 1000, keys: eventKeys(event) })), startedAt, apply, (r) => {
      const nodes = 'nodes' in r.event ? r.event.nodes : []
      const late = r.startedAtMs - r.scheduledAtMs
      progress(`t=${(r.startedAtMs / 1000).toFixed(1)} s ${r.event.action}${nodes.length > 0 ? ` ${nodes.length > 4 ? `${nodes.length} nodes` : nodes.join(',')}` : ''}` +
        `${r.error === undefined ? '' : ` FAILED: ${r.error}`} (took ${((r.finishedAtMs - r.startedAtMs) / 1000).toFixed(1)} s${late > 1_000 ? `, started ${(late / 1000).toFixed(1)} s late` : ''})`)
    })

    progress(`load: ${scenario.load.rate}/s for ${scenario.load.durationS} s (${scenario.load.mix.map(x => `${x.pipeline} x${x.weight}`).join(', ')})`)
    let lastSecond = -1
    const window: RequestRecord[] = []
    const load = await startLoad(m.gatewayUrl, scenario.load, startedAt, {
      onRecord: (r) => {
        window.push(r)
        const second = Math.floor((Date.now() - startedAt) / 1000)
        if (second >= lastSecond + 5) {
          lastSecond = second
          const ok = window.filter(x => x.status === 200).length
          progress(`t=${second} s: ${window.length} answered in the last 5 s, ${ok} ok`)
          window.length = 0
        }
      }
    })
    const onAbort = (): void => { load.stop(); events.cancel() }
    options.signal?.addEventListener('abort', onAbort, { once: true })
    const records = await load.done
    options.signal?.removeEventListener('abort', onAbort)
    const applied: AppliedEvent[] = (await events.done).map(r => ({
      at: r.event.at,
      scheduledAtMs: r.scheduledAtMs,
      startedAtMs: r.startedAtMs,
      finishedAtMs: r.finishedAtMs,
      action: r.event.action,
      nodes: 'nodes' in r.event ? r.event.nodes : [],
      detail: r.detail,
      ...(r.error === undefined ? {} : { error: r.error })
    }))
    const loadS = (Date.now() - startedAt) / 1000
    if (!(options.signal?.aborted ?? false) && scenario.drainS > 0) {
      progress(`load done; ${scenario.drainS} s for redemptions and late answers`)
      await new Promise(resolve => setTimeout(resolve, scenario.drainS * 1000))
    }
    clearInterval(sampler)
    sampler = undefined

    let payments: ScenarioReport['payments'] = null
    let redemptions: Redemption[] | null = null
    const metrics = await fetch(`${m.gatewayUrl}/metrics`, { signal: AbortSignal.timeout(10_000) }).then(async r => await r.text()).catch(() => '')
    const gatewayRequests = metricValue(metrics, 'shoal_gateway_request_duration_seconds_count')
    const gatewaySide = metrics === '' ? null : { requests: gatewayRequests, meanMs: gatewayRequests === 0 ? null : Math.round(metricValue(metrics, 'shoal_gateway_request_duration_seconds_sum') / gatewayRequests * 1000) }
    if (chain !== undefined) {
      payments = { ticketsSent: metricValue(metrics, 'shoal_payments_tickets_sent_total'), evSentWei: BigInt(Math.round(metricValue(metrics, 'shoal_payments_ev_sent_wei_total'))).toString() }
      const iface = ticketBrokerInterface
      const topic = iface.getEvent('WinningTicketRedeemed')?.topicHash
      const logs = await chain.provider.getLogs({ address: chain.brokerAddress, fromBlock: 0, toBlock: 'latest', ...(topic === undefined ? {} : { topics: [topic] }) })
      redemptions = logs.map(log => {
        const parsed = iface.parseLog(log)
        return { recipient: String(parsed?.args.recipient), faceValueWei: String(parsed?.args.faceValue ?? 0), block: log.blockNumber }
      })
    }

    const nodes = [...m.nodes.values()].map(n => ({ name: n.spec.name, role: n.spec.role, peerId: n.peerId, address: n.host.address, ethAddress: n.ethAddress }))
    const tStop = Date.now()
    progress('stopping the mesh...')
    await m.stop()
    mesh = undefined
    const teardownS = (Date.now() - tStop) / 1000
    const report = buildReport({
      name: scenario.name,
      description: scenario.description,
      durationS: scenario.load.durationS,
      rate: scenario.load.rate,
      records,
      listedAtStart: m.listedAtStart,
      events: applied,
      nodes,
      samples,
      payments,
      redemptions,
      timing: { setupS, loadS, teardownS, totalS: (Date.now() - t0) / 1000 },
      startedAt: startedAtIso,
      labId: m.lab.id,
      tuning: { ...scenario.tuning },
      gatewaySide,
      host: { cpus: cpus().length, memoryMb: Math.round(totalmem() / 1024 / 1024) }
    })
    const jsonPath = join(options.reportDir, 'report.json')
    const htmlPath = join(options.reportDir, 'report.html')
    await writeFile(jsonPath, `${JSON.stringify({ ...report, requests: records }, null, 1)}\n`)
    await writeFile(htmlPath, renderReportHtml(report))
    return { report, jsonPath, htmlPath }
  } finally {
    schedule?.cancel()
    if (sampler !== undefined) clearInterval(sampler)
    // the mesh owns the chain it started
    await mesh?.stop().catch(() => {})
    if (scenario.tuning.nice.client !== 0) {
      setPriority(priorityBefore)
      if (autogroupBefore !== undefined) await setAutogroupNice('self', autogroupBefore)
    }
  }
}
