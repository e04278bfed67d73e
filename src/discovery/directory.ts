import { EventEmitter } from 'node:events'
import type { PipelineName } from '../inference/pipelines.js'
import type { Announcement, ModelOffer, SignedAnnouncement } from './announcement.js'
import { DEFAULT_DIRECTORY_SWEEP_MS } from './constants.js'

/** How an entry reached the directory. */
export type DirectorySource = 'gossip' | 'dht' | 'info'

export interface DirectoryEntry {
  peerId: string
  announcement: Announcement
  signed: SignedAnnouncement
  source: DirectorySource
  receivedAt: number
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
}

export interface DirectoryEvents {
  added: [DirectoryEntry]
  updated: [DirectoryEntry]
  expired: [string]
}

/**
 * The gateway's live view of orchestrators, fed by gossip, DHT lookups and direct
 * /shoal/info queries. Entries leave when their announcement expires.
 */
export class OrchestratorDirectory extends EventEmitter<DirectoryEvents> {
  private readonly entries = new Map<string, DirectoryEntry>()
  private readonly seqs = new Map<string, number>()
  private readonly now: () => number
  private readonly sweepIntervalMs: number
  private readonly maxRememberedPeers: number
  private timer: NodeJS.Timeout | undefined

  constructor (options: DirectoryOptions = {}) {
    super()
    this.now = options.now ?? Date.now
    this.sweepIntervalMs = options.sweepIntervalMs ?? DEFAULT_DIRECTORY_SWEEP_MS
    this.maxRememberedPeers = options.maxRememberedPeers ?? 100_000
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

  /** Adds or replaces an entry; an announcement not newer than the one held is ignored. Returns whether it was taken. */
  upsert (signed: SignedAnnouncement, source: DirectorySource): boolean {
    const a = signed.announcement
    const last = this.seqs.get(a.peerId)
    if (last !== undefined && a.seq <= last && this.entries.has(a.peerId)) return false
    if (a.expiresAt <= this.now()) return false
    this.seqs.delete(a.peerId)
    this.seqs.set(a.peerId, a.seq)
    if (this.seqs.size > this.maxRememberedPeers) {
      const oldest = this.seqs.keys().next().value
      if (oldest !== undefined && !this.entries.has(oldest)) this.seqs.delete(oldest)
    }
    const existed = this.entries.has(a.peerId)
    const entry: DirectoryEntry = { peerId: a.peerId, announcement: a, signed, source, receivedAt: this.now() }
    this.entries.set(a.peerId, entry)
    this.emit(existed ? 'updated' : 'added', entry)
    return true
  }

  /** Removes entries whose announcement expired. */
  sweep (): void {
    const now = this.now()
    for (const [peerId, entry] of this.entries) {
      if (entry.announcement.expiresAt <= now) {
        this.entries.delete(peerId)
        this.emit('expired', peerId)
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

  /** Live offers for a (pipeline, model); `modelId` undefined matches any model of the pipeline. */
  candidates (pipeline: PipelineName, modelId?: string): DirectoryCandidate[] {
    const out: DirectoryCandidate[] = []
    for (const entry of this.list()) {
      for (const offer of entry.announcement.models) {
        if (offer.pipeline === pipeline && (modelId === undefined || offer.modelId === modelId)) {
          out.push({ peerId: entry.peerId, addresses: entry.announcement.addresses, ethAddress: entry.announcement.ethAddress, offer })
        }
      }
    }
    return out
  }

  /** The JSON view served at GET /network/orchestrators. */
  toJSON (): unknown {
    const now = this.now()
    return this.list().map(e => ({
      peerId: e.peerId,
      addresses: e.announcement.addresses,
      ethAddress: e.announcement.ethAddress,
      seq: e.announcement.seq,
      source: e.source,
      receivedAt: new Date(e.receivedAt).toISOString(),
      expiresAt: new Date(e.announcement.expiresAt).toISOString(),
      expiresInMs: e.announcement.expiresAt - now,
      hardware: e.announcement.hardware,
      models: e.announcement.models
    }))
  }
}
