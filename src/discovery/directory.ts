import { EventEmitter } from 'node:events'
import type { PipelineName } from '../kernel/pipelines.js'
import { dialableHosts, type TransportKind } from '../p2p/addresses.js'
import type { Announcement, ModelOffer, SignedAnnouncement } from './announcement.js'
import { DEFAULT_DIRECTORY_LIMITS, DEFAULT_DIRECTORY_PAGE_SIZE, DEFAULT_DIRECTORY_SWEEP_MS } from './constants.js'

/** How an entry reached the directory. */
export type DirectorySource = 'gossip' | 'dht' | 'info'

/** Why an entry left the directory (a bounded metrics label). */
export type DirectoryRemoval = 'expired' | 'withdrawn' | 'evicted'
export const DIRECTORY_REMOVALS: readonly DirectoryRemoval[] = ['expired', 'withdrawn', 'evicted']

/** Why an announcement was not taken (a bounded metrics label). */
export type DirectoryRefusal = 'stale' | 'undialable' | 'cap_total' | 'cap_host'
export const DIRECTORY_REFUSALS: readonly DirectoryRefusal[] = ['stale', 'undialable', 'cap_total', 'cap_host']

export interface DirectoryEntry {
  peerId: string
  announcement: Announcement
  signed: SignedAnnouncement
  source: DirectorySource
  receivedAt: number
  /** when the peer entered the directory; updates keep it (eviction takes the newest first) */
  addedAt: number
  /** the hosts of its dialable addresses: what the per-host cap counts */
  hosts: string[]
  /** a connection closed or a dial failed since it was last heard from: not a candidate */
  unreachable: boolean
  /** this node has had a connection to it or an answer from it */
  verified: boolean
}

/** One (orchestrator, model) a job could go to. */
export interface DirectoryCandidate {
  peerId: string
  addresses: string[]
  ethAddress: string
  offer: ModelOffer
}

export interface DirectoryOptions {
  now?: () => number
  sweepIntervalMs?: number
  /** sequence numbers are remembered for this many peers, beyond their entries' lifetime */
  maxRememberedPeers?: number
  /** entries in all */
  maxEntries?: number
  /** entries announcing the same host (IP, DNS name) */
  maxPerHost?: number
  /** proven peers remembered */
  maxProvenPeers?: number
  /** what this node can dial; announcements with no address for these are refused @default tcp and memory */
  transports?: ReadonlySet<TransportKind>
}

export interface DirectoryEvents {
  added: [DirectoryEntry]
  updated: [DirectoryEntry]
  expired: [string]
  withdrawn: [string]
  /** every way out: expired, withdrawn or evicted */
  removed: [string, DirectoryRemoval]
  refused: [string, DirectoryRefusal]
  /** the peer left (false) or rejoined (true) the candidates */
  reachability: [string, boolean]
}

/**
 * Eviction rank: the lowest goes first. Proven beats bonded beats verified beats merely
 * announced: made-up identities cost nothing, a bond costs its stake (issue 15).
 */
const RANK = { expired: -1, unreachable: 0, announced: 1, verified: 2, bonded: 3, proven: 4 } as const

/**
 * The gateway's live view of orchestrators, fed by gossip, DHT lookups and direct
 * /shoal/info queries. Entries leave when their announcement expires, when the peer
 * withdraws, or when caps evict them. Bounded in entries, per host and in remembered
 * peers, so made-up identities cannot grow it; eviction keeps orchestrators proven by
 * serving (`markProven`) and otherwise takes the lowest-ranked, newest entry first, so
 * established orchestrators are never pushed out by a flood of newcomers.
 */
export class OrchestratorDirectory extends EventEmitter<DirectoryEvents> {
  private readonly entries = new Map<string, DirectoryEntry>()
  private readonly seqs = new Map<string, number>()
  private readonly byHost = new Map<string, Set<string>>()
  private readonly proven = new Set<string>()
  /** peers whose bond a gateway read on chain: eviction keeps them before unbonded ones */
  private readonly bonded = new Set<string>()
  private readonly now: () => number
  private readonly sweepIntervalMs: number
  private readonly maxRememberedPeers: number
  private readonly maxEntries: number
  private readonly maxPerHost: number
  private readonly maxProvenPeers: number
  private readonly transports: ReadonlySet<TransportKind>
  private timer: NodeJS.Timeout | undefined

  constructor (options: DirectoryOptions = {}) {
    super()
    this.now = options.now ?? Date.now
    this.sweepIntervalMs = options.sweepIntervalMs ?? DEFAULT_DIRECTORY_SWEEP_MS
    this.maxRememberedPeers = options.maxRememberedPeers ?? DEFAULT_DIRECTORY_LIMITS.maxRememberedPeers
    this.maxEntries = Math.max(1, options.maxEntries ?? DEFAULT_DIRECTORY_LIMITS.maxEntries)
    this.maxPerHost = Math.max(1, options.maxPerHost ?? DEFAULT_DIRECTORY_LIMITS.maxPerHost)
    this.maxProvenPeers = options.maxProvenPeers ?? DEFAULT_DIRECTORY_LIMITS.maxProvenPeers
    this.transports = options.transports ?? new Set<TransportKind>(['tcp', 'memory'])
  }

  start (): void {
    if (this.timer !== undefined) return
    this.timer = setInterval(() => { this.sweep() }, this.sweepIntervalMs)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** Highest sequence number accepted from a peer, kept after its entry expires so replays stay detectable. */
  lastSeq (peerId: string): number | undefined {
    return this.seqs.get(peerId)
  }

  /** Whether any announced address can be dialled by this node's transports. */
  isDialable (addresses: readonly string[]): boolean {
    return dialableHosts(addresses, this.transports).length > 0
  }

  /**
   * Adds or replaces an entry, or drops it on a withdrawal. An announcement not newer
   * than the one held, with no dialable address, or refused by the caps is not taken.
   * Returns whether it was taken.
   */
  upsert (signed: SignedAnnouncement, source: DirectorySource): boolean {
    const a = signed.announcement
    const now = this.now()
    const last = this.seqs.get(a.peerId)
    const existing = this.entries.get(a.peerId)
    if (last !== undefined && (a.seq < last || (a.seq === last && existing !== undefined))) return this.refuse(a.peerId, 'stale')
    if (a.expiresAt <= now && !a.withdrawn) return this.refuse(a.peerId, 'stale')
    if (a.withdrawn) {
      this.rememberSeq(a.peerId, a.seq)
      if (existing !== undefined) {
        this.remove(existing, 'withdrawn')
        this.emit('withdrawn', a.peerId)
      }
      return true
    }
    const hosts = dialableHosts(a.addresses, this.transports)
    if (hosts.length === 0) return this.refuse(a.peerId, 'undialable')
    const verified = source === 'info' || existing?.verified === true
    if (existing === undefined) {
      const refusal = this.makeRoom(a.peerId, hosts, this.rankOf(a.peerId, verified, false, a.expiresAt, now))
      if (refusal !== undefined) return this.refuse(a.peerId, refusal)
    } else {
      this.unindex(existing)
    }
    this.rememberSeq(a.peerId, a.seq)
    const entry: DirectoryEntry = {
      peerId: a.peerId,
      announcement: a,
      signed,
      source,
      receivedAt: now,
      addedAt: existing?.addedAt ?? now,
      hosts,
      // a fresh announcement is being heard from again
      unreachable: false,
      verified
    }
    this.entries.set(a.peerId, entry)
    this.index(entry)
    if (existing?.unreachable === true) this.emit('reachability', a.peerId, true)
    this.emit(existing !== undefined ? 'updated' : 'added', entry)
    return true
  }

  /** A connection to the peer closed or a dial failed: out of the candidates until it is heard from again. */
  markUnreachable (peerId: string): void {
    const entry = this.entries.get(peerId)
    if (entry === undefined || entry.unreachable) return
    entry.unreachable = true
    this.emit('reachability', peerId, false)
  }

  /** A connection opened, or the peer answered: a candidate again (if it has a live entry). */
  markReachable (peerId: string): void {
    const entry = this.entries.get(peerId)
    if (entry === undefined) return
    entry.verified = true
    if (!entry.unreachable) return
    entry.unreachable = false
    this.emit('reachability', peerId, true)
  }

  /** The peer served a job successfully: eviction keeps it, even across a restart of its entry. */
  markProven (peerId: string): void {
    if (this.proven.has(peerId)) return
    this.proven.add(peerId)
    if (this.proven.size > this.maxProvenPeers) {
      const oldest = this.proven.values().next().value
      if (oldest !== undefined) this.proven.delete(oldest)
    }
  }

  /**
   * The peer's bond was read on chain (at least the gateway's minimum): under a flood,
   * eviction keeps it before every unbonded peer not yet proven. `false` takes it back.
   */
  markBonded (peerId: string, bonded = true): void {
    if (!bonded) { this.bonded.delete(peerId); return }
    if (this.bonded.has(peerId)) return
    this.bonded.add(peerId)
    if (this.bonded.size > this.maxProvenPeers) {
      const oldest = this.bonded.values().next().value
      if (oldest !== undefined) this.bonded.delete(oldest)
    }
  }

  isBonded (peerId: string): boolean {
    return this.bonded.has(peerId)
  }

  isProven (peerId: string): boolean {
    return this.proven.has(peerId)
  }

  isReachable (peerId: string): boolean {
    const entry = this.get(peerId)
    return entry !== undefined && !entry.unreachable
  }

  /** Removes entries whose announcement expired. */
  sweep (): void {
    const now = this.now()
    for (const entry of [...this.entries.values()]) {
      if (entry.announcement.expiresAt <= now) {
        this.remove(entry, 'expired')
        this.emit('expired', entry.peerId)
      }
    }
  }

  get (peerId: string): DirectoryEntry | undefined {
    const entry = this.entries.get(peerId)
    return entry !== undefined && entry.announcement.expiresAt > this.now() ? entry : undefined
  }

  has (peerId: string): boolean {
    return this.get(peerId) !== undefined
  }

  /** Live entries. */
  list (): DirectoryEntry[] {
    const now = this.now()
    return [...this.entries.values()].filter(e => e.announcement.expiresAt > now)
  }

  get size (): number {
    return this.list().length
  }

  /** Entries announcing `host` (live or not yet swept); for tests and metrics. */
  countForHost (host: string): number {
    return this.byHost.get(host)?.size ?? 0
  }

  /** Live, reachable offers for a (pipeline, model); `modelId` undefined matches any model of the pipeline. */
  candidates (pipeline: PipelineName, modelId?: string): DirectoryCandidate[] {
    const out: DirectoryCandidate[] = []
    const now = this.now()
    for (const entry of this.entries.values()) {
      if (entry.unreachable || entry.announcement.expiresAt <= now) continue
      for (const offer of entry.announcement.models) {
        if (offer.pipeline === pipeline && (modelId === undefined || offer.modelId === modelId)) {
          out.push({ peerId: entry.peerId, addresses: entry.announcement.addresses, ethAddress: entry.announcement.ethAddress, offer })
        }
      }
    }
    return out
  }

  /**
   * The JSON view served at GET /network/orchestrators: one page, at most `limit`
   * entries (proven, then reachable ones first), so it stays small whatever the mesh holds.
   */
  toJSON (options: { offset?: number, limit?: number } = {}): unknown[] {
    const now = this.now()
    const offset = Math.max(0, Math.floor(options.offset ?? 0))
    const limit = Math.max(0, Math.min(Math.floor(options.limit ?? DEFAULT_DIRECTORY_PAGE_SIZE), DEFAULT_DIRECTORY_PAGE_SIZE * 4))
    const ranked = this.list()
      .map(e => ({ e, rank: this.rankOfEntry(e, now) }))
      .sort((x, y) => y.rank - x.rank || x.e.addedAt - y.e.addedAt)
    return ranked.slice(offset, offset + limit).map(({ e }) => ({
      peerId: e.peerId,
      addresses: e.announcement.addresses,
      ethAddress: e.announcement.ethAddress,
      seq: e.announcement.seq,
      source: e.source,
      reachable: !e.unreachable,
      proven: this.proven.has(e.peerId),
      bonded: this.bonded.has(e.peerId),
      receivedAt: new Date(e.receivedAt).toISOString(),
      expiresAt: new Date(e.announcement.expiresAt).toISOString(),
      expiresInMs: e.announcement.expiresAt - now,
      hardware: e.announcement.hardware,
      models: e.announcement.models
    }))
  }

  private refuse (peerId: string, reason: DirectoryRefusal): false {
    this.emit('refused', peerId, reason)
    return false
  }

  private rememberSeq (peerId: string, seq: number): void {
    this.seqs.delete(peerId)
    this.seqs.set(peerId, seq)
    while (this.seqs.size > this.maxRememberedPeers) {
      // forget the least recently heard peer that has no entry; entries keep theirs
      let dropped = false
      for (const id of this.seqs.keys()) {
        if (!this.entries.has(id)) { this.seqs.delete(id); dropped = true; break }
      }
      if (!dropped) break
    }
  }

  private rankOf (peerId: string, verified: boolean, unreachable: boolean, expiresAt: number, now: number): number {
    if (expiresAt <= now) return RANK.expired
    if (this.proven.has(peerId)) return RANK.proven
    if (unreachable) return RANK.unreachable
    if (this.bonded.has(peerId)) return RANK.bonded
    return verified ? RANK.verified : RANK.announced
  }

  private rankOfEntry (e: DirectoryEntry, now: number): number {
    return this.rankOf(e.peerId, e.verified, e.unreachable, e.announcement.expiresAt, now)
  }

  /** The lowest-ranked entry among `ids`, the newest of those; undefined when `ids` is empty. */
  private victimAmong (ids: Iterable<string>, now: number, spared: ReadonlySet<string>): DirectoryEntry | undefined {
    let victim: DirectoryEntry | undefined
    let victimRank = Infinity
    for (const id of ids) {
      if (spared.has(id)) continue
      const e = this.entries.get(id)
      if (e === undefined) continue
      const rank = this.rankOfEntry(e, now)
      if (rank < victimRank || (rank === victimRank && victim !== undefined && e.addedAt >= victim.addedAt)) {
        victim = e
        victimRank = rank
      }
    }
    return victim
  }

  /**
   * Evicts what a newcomer of rank `rank` needs to fit every cap, or returns why it
   * cannot fit: an entry ranked above it is never evicted for it. Nothing is evicted
   * unless the newcomer fits.
   */
  private makeRoom (peerId: string, hosts: string[], rank: number): DirectoryRefusal | undefined {
    const now = this.now()
    const victims = new Set<string>()
    const consider = (ids: Iterable<string>, over: number): boolean => {
      for (let i = 0; i < over; i++) {
        const victim = this.victimAmong(ids, now, victims)
        if (victim === undefined || this.rankOfEntry(victim, now) > rank) return false
        victims.add(victim.peerId)
      }
      return true
    }
    for (const host of hosts) {
      const group = this.byHost.get(host)
      if (group === undefined) continue
      const over = [...group].filter(id => !victims.has(id)).length - this.maxPerHost + 1
      if (over > 0 && !consider(group, over)) return 'cap_host'
    }
    const over = this.entries.size - victims.size - this.maxEntries + 1
    if (over > 0 && !consider(this.entries.keys(), over)) return 'cap_total'
    for (const id of victims) {
      const e = this.entries.get(id)
      if (e !== undefined) this.remove(e, 'evicted')
    }
    return undefined
  }

  private index (entry: DirectoryEntry): void {
    for (const host of entry.hosts) {
      let group = this.byHost.get(host)
      if (group === undefined) this.byHost.set(host, group = new Set())
      group.add(entry.peerId)
    }
  }

  private unindex (entry: DirectoryEntry): void {
    for (const host of entry.hosts) {
      const group = this.byHost.get(host)
      group?.delete(entry.peerId)
      if (group?.size === 0) this.byHost.delete(host)
    }
  }

  private remove (entry: DirectoryEntry, reason: DirectoryRemoval): void {
    this.entries.delete(entry.peerId)
    this.unindex(entry)
    this.emit('removed', entry.peerId, reason)
  }
}
