import type { Registry } from 'prom-client'
import type { OrchestratorDirectory } from '../discovery/directory.js'
import type { DashboardLiveSession, DashboardOrchestratorPayments, DashboardSnapshot, DashboardSource, RecentRequests } from '../gateway/dashboard/index.js'
import type { LiveSessionSummary } from '../gateway/live/session.js'
import type { RecipientWinners } from '../payments/chain/index.js'
import { p95SecondsPerUnit } from '../gateway/selection/candidate.js'
import type { AdaptiveStrategy } from '../gateway/selection/strategy.js'
import type { ShoalLibp2p } from '../p2p/node.js'
import type { GatewayPayments } from './payments.js'

/** What the dashboard reads of a running gateway. */
export interface GatewayDashboardParts {
  node: ShoalLibp2p
  directory: OrchestratorDirectory
  strategy: Pick<AdaptiveStrategy, 'stats'>
  payments: GatewayPayments | undefined
  register: Registry
  recent: RecentRequests
  ethAddress: string
  startedAt: number
  /** live video sessions, running then recently ended */
  live?: { list: () => Array<{ summary: () => LiveSessionSummary }> }
}

/** live sessions shown at most (running ones first) */
const MAX_LIVE_ROWS = 50

function liveRow (s: LiveSessionSummary): DashboardLiveSession {
  return { ...s, weiPaid: s.weiPaid.toString() }
}

/** The sum of a metric's samples in the registry (0 when it is not registered). */
async function metricSum (register: Registry, name: string): Promise<number> {
  const metric = register.getSingleMetric(name)
  if (metric === undefined) return 0
  const { values } = await metric.get()
  return values.reduce((sum, v) => sum + v.value, 0)
}

/** What the gateway paid one orchestrator, from its sender's bookkeeping and the chain's winners. */
function paidTo (address: string, payments: GatewayPayments, winners: ReadonlyMap<string, RecipientWinners> | null): DashboardOrchestratorPayments {
  const sent = payments.sender.sent(address)
  const won = winners?.get(address)
  return {
    jobs: sent?.jobs ?? 0,
    ticketsSent: sent?.tickets ?? 0,
    evSentWei: (sent?.evWei ?? 0n).toString(),
    feesWei: (sent?.feesWei ?? 0n).toString(),
    winningTickets: winners === null ? null : won?.count ?? 0,
    winningPaidWei: winners === null ? null : (won?.paidWei ?? 0n).toString()
  }
}

/**
 * The dashboard's snapshot, composed from the gateway's parts: the libp2p node (peers,
 * connections), the directory (orchestrators, models, prices, load), the selection
 * strategy (latency and success as measured here), the payment sender (credit per
 * orchestrator) and the payment metrics (tickets, expected value), recent requests, and
 * the live video sessions.
 */
export function gatewayDashboardSource (parts: GatewayDashboardParts): DashboardSource {
  const { node, directory, strategy, payments, register, recent } = parts
  return async (): Promise<DashboardSnapshot> => {
    const now = Date.now()
    const connections = node.getConnections()
    const connected = new Set(connections.map(c => c.remotePeer.toString()))
    // winners come from the chain: a failing RPC leaves them unknown, not the page broken
    const winners = payments === undefined ? undefined : await payments.winners.read().catch(() => null)
    const orchestrators = directory.list().map(entry => ({
      peerId: entry.peerId,
      ethAddress: entry.announcement.ethAddress,
      reachable: directory.isReachable(entry.peerId),
      proven: directory.isProven(entry.peerId),
      connected: connected.has(entry.peerId),
      source: entry.source,
      creditWei: payments === undefined ? null : payments.sender.credit(entry.announcement.ethAddress).toString(),
      payments: payments === undefined ? null : paidTo(entry.announcement.ethAddress.toLowerCase(), payments, winners ?? null),
      models: entry.announcement.models.map(m => {
        const stats = strategy.stats(entry.peerId, { pipeline: m.pipeline, modelId: m.modelId })
        return {
          pipeline: m.pipeline,
          modelId: m.modelId,
          warm: m.warm,
          capacity: m.capacity,
          load: m.load,
          pricePerUnit: m.pricePerUnit,
          pixelsPerUnit: m.pixelsPerUnit,
          unit: m.unit,
          stats: stats === undefined
            ? null
            : {
                successes: stats.successes,
                successRate: stats.successRate,
                secondsPerUnit: stats.secondsPerUnit ?? null,
                p95SecondsPerUnit: p95SecondsPerUnit(stats) ?? null,
                consecutiveFailures: stats.consecutiveFailures,
                suspendedUntil: stats.suspendedUntil
              }
        }
      })
    }))
    return {
      generatedAt: now,
      gateway: { peerId: node.peerId.toString(), ethAddress: parts.ethAddress, startedAt: parts.startedAt },
      mesh: {
        peers: node.getPeers().length,
        connections: connections.map(c => ({
          peerId: c.remotePeer.toString(),
          remoteAddr: c.remoteAddr.toString(),
          direction: c.direction,
          status: c.status,
          openedAt: c.timeline.open,
          streams: c.streams.length
        }))
      },
      orchestrators,
      requests: recent.list(),
      live: (parts.live?.list() ?? []).slice(0, MAX_LIVE_ROWS).map(session => liveRow(session.summary())),
      payments: {
        enabled: payments !== undefined,
        ticketsSent: await metricSum(register, 'shoal_payments_tickets_sent_total'),
        evSentWei: BigInt(Math.round(await metricSum(register, 'shoal_payments_ev_sent_wei_total'))).toString(),
        sender: payments?.sender.address ?? null
      }
    }
  }
}
