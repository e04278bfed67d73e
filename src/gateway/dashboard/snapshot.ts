import type { LiveSessionSummary } from '../live/session.js'
import type { RecentRequest } from './recent.js'

/** A connection of the gateway's libp2p node. */
export interface DashboardConnection {
  peerId: string
  remoteAddr: string
  direction: string
  status: string
  openedAt: number
  streams: number
}

/** What the gateway has measured of one (orchestrator, model) (selection statistics). */
export interface DashboardModelStats {
  successes: number
  successRate: number
  secondsPerUnit: number | null
  p95SecondsPerUnit: number | null
  consecutiveFailures: number
  suspendedUntil: number
}

export interface DashboardModel {
  pipeline: string
  modelId: string
  warm: boolean
  capacity: number
  load: string
  pricePerUnit: string
  pixelsPerUnit: string
  unit: string
  stats: DashboardModelStats | null
}

export interface DashboardOrchestrator {
  peerId: string
  ethAddress: string
  reachable: boolean
  proven: boolean
  connected: boolean
  source: string
  /** this gateway's estimate of its credit there, in wei; null with payments off */
  creditWei: string | null
  /** what this gateway paid it since it started; null with payments off */
  payments: DashboardOrchestratorPayments | null
  models: DashboardModel[]
}

/** What a gateway paid one orchestrator since it started (wei as decimal strings). */
export interface DashboardOrchestratorPayments {
  /** jobs paid, by tickets or by credit already there */
  jobs: number
  ticketsSent: number
  /** the expected value of those tickets */
  evSentWei: string
  /** what the jobs were expected to cost */
  feesWei: string
  /** tickets that won and were redeemed on chain, and what they paid out (null: the chain could not be read) */
  winningTickets: number | null
  winningPaidWei: string | null
}

/** A live video session of this gateway, running or recently ended (wei as a decimal string). */
export type DashboardLiveSession = Omit<LiveSessionSummary, 'weiPaid'> & { weiPaid: string }

/** Everything the dashboard page shows; served as JSON at `/dashboard/data`. */
export interface DashboardSnapshot {
  generatedAt: number
  gateway: { peerId: string, ethAddress: string, startedAt: number }
  mesh: { peers: number, connections: DashboardConnection[] }
  orchestrators: DashboardOrchestrator[]
  requests: RecentRequest[]
  live: DashboardLiveSession[]
  payments: { enabled: boolean, ticketsSent: number, evSentWei: string, sender: string | null }
}

/** Builds a snapshot when the page asks for one. */
export type DashboardSource = () => Promise<DashboardSnapshot>
