/**
 * Trickle channels: numbered segments published and subscribed over HTTP, with the
 * reference's semantics (seq increases without gaps, `-1` is the live edge, a subscriber
 * reading a segment still being published gets what exists then the rest as it arrives,
 * the last few segments are kept). This is the in-memory store both HTTP servers use (the
 * orchestrator's for its runner, the gateway's for its clients).
 */
import { TrickleError } from './errors.js'

/** segments kept per channel, as the reference server */
export const DEFAULT_KEEP_SEGMENTS = 5

export class TrickleSegment {
  readonly seq: number
  private readonly chunks: Uint8Array[] = []
  private bytesSoFar = 0
  private finished = false
  private failure: Error | undefined
  private wake: Array<() => void> = []
  /** called once when a subscriber has read the whole finished segment */
  onRead: ((seq: number) => void) | undefined

  constructor (seq: number) {
    this.seq = seq
  }

  get done (): boolean { return this.finished }
  get bytes (): number { return this.bytesSoFar }

  append (chunk: Uint8Array): void {
    if (this.finished) throw new TrickleError('TRICKLE_ERROR_SEGMENT_DONE', `segment ${this.seq} is already complete`)
    if (chunk.byteLength === 0) return
    this.chunks.push(chunk)
    this.bytesSoFar += chunk.byteLength
    this.notify()
  }

  finish (): void {
    this.finished = true
    this.notify()
  }

  /** the publisher went away mid-segment: readers end with this error */
  fail (err: Error): void {
    if (this.finished) return
    this.failure = err
    this.finished = true
    this.notify()
  }

  get failed (): boolean { return this.failure !== undefined }

  private notify (): void {
    const wake = this.wake
    this.wake = []
    for (const w of wake) w()
  }

  /** The segment's bytes from the start, then as they arrive, until it is complete. */
  async * read (signal?: AbortSignal): AsyncGenerator<Uint8Array> {
    let index = 0
    while (true) {
      while (index < this.chunks.length) yield this.chunks[index++]
      if (this.failure !== undefined) throw this.failure
      if (this.finished) break
      signal?.throwIfAborted()
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => { reject(signal?.reason) }
        this.wake.push(() => { signal?.removeEventListener('abort', onAbort); resolve() })
        signal?.addEventListener('abort', onAbort, { once: true })
      })
    }
    const onRead = this.onRead
    this.onRead = undefined
    onRead?.(this.seq)
  }

  /** the whole segment once complete */
  async bytesWhenDone (signal?: AbortSignal): Promise<Uint8Array> {
    const parts: Uint8Array[] = []
    for await (const c of this.read(signal)) parts.push(c)
    return Buffer.concat(parts)
  }
}

/** What a subscriber asking for one seq gets. */
export type SegmentLookup =
  | { kind: 'segment', segment: TrickleSegment }
  /** the seq is no longer (or not yet) available: start again from `latest` */
  | { kind: 'gone', latest: number }
  | { kind: 'closed' }

export class TrickleChannel {
  readonly name: string
  private readonly segments = new Map<number, TrickleSegment>()
  private readonly keep: number
  /** the highest seq published so far, -1 before any */
  private latestSeq = -1
  private isClosed = false
  private waiters: Array<() => void> = []
  lastActivity = Date.now()
  private httpSubscribers = 0

  constructor (name: string, keep = DEFAULT_KEEP_SEGMENTS) {
    this.name = name
    this.keep = keep
  }

  get latest (): number { return this.latestSeq }
  get closed (): boolean { return this.isClosed }
  /** HTTP subscribers being served now: waiting for a segment or reading one */
  get subscribers (): number { return this.httpSubscribers }

  /** Counts an HTTP subscriber until the returned release is called (once). */
  addSubscriber (): () => void {
    this.httpSubscribers++
    let released = false
    return () => {
      if (released) return
      released = true
      this.httpSubscribers--
    }
  }

  /**
   * Starts segment `seq` (-1: the next one). A seq may be published once; a seq behind
   * the latest is refused (the publisher restarted: it must continue from `latest + 1`).
   */
  publish (seq: number): TrickleSegment {
    if (this.isClosed) throw new TrickleError('TRICKLE_ERROR_CLOSED', `channel ${this.name} is closed`)
    const effective = seq < 0 ? this.latestSeq + 1 : seq
    if (effective <= this.latestSeq) throw new TrickleError('TRICKLE_ERROR_SEQ_BEHIND', `segment ${effective} of ${this.name} is behind the latest (${this.latestSeq})`, { latest: this.latestSeq })
    const segment = new TrickleSegment(effective)
    this.segments.set(effective, segment)
    this.latestSeq = effective
    this.lastActivity = Date.now()
    for (const old of [...this.segments.keys()]) {
      if (old <= effective - this.keep) {
        // a reader still on an evicted segment keeps its reference and finishes
        this.segments.delete(old)
      }
    }
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
    return segment
  }

  /**
   * The segment for a subscriber: an existing one, or waits for `seq` when it is the next
   * to be published (subscribers pre-connect to seq + 1). `-1` is the live edge (the
   * latest segment, or the first when none exists yet).
   */
  async lookup (seq: number, signal?: AbortSignal): Promise<SegmentLookup> {
    this.lastActivity = Date.now()
    while (true) {
      if (this.isClosed) return { kind: 'closed' }
      const wanted = seq < 0 ? Math.max(this.latestSeq, 0) : seq
      const found = this.segments.get(wanted)
      if (found !== undefined) return { kind: 'segment', segment: found }
      // evicted, or too far ahead to wait for
      if (wanted <= this.latestSeq || wanted > this.latestSeq + 1) return { kind: 'gone', latest: this.latestSeq }
      signal?.throwIfAborted()
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => { reject(signal?.reason) }
        this.waiters.push(() => { signal?.removeEventListener('abort', onAbort); resolve() })
        signal?.addEventListener('abort', onAbort, { once: true })
      })
    }
  }

  close (): void {
    if (this.isClosed) return
    this.isClosed = true
    for (const s of this.segments.values()) if (!s.done) s.fail(new TrickleError('TRICKLE_ERROR_CLOSED', `channel ${this.name} closed`))
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }
}

export interface TrickleStoreOptions {
  /** segments kept per channel @default 5 */
  keepSegments?: number
  /** at most this many channels @default 1024 */
  maxChannels?: number
}

/** The channels of one trickle server. */
export class TrickleStore {
  private readonly channels = new Map<string, TrickleChannel>()
  private readonly keep: number
  private readonly maxChannels: number

  constructor (options: TrickleStoreOptions = {}) {
    this.keep = options.keepSegments ?? DEFAULT_KEEP_SEGMENTS
    this.maxChannels = options.maxChannels ?? 1024
  }

  get size (): number { return this.channels.size }

  create (name: string): TrickleChannel {
    const existing = this.channels.get(name)
    if (existing !== undefined && !existing.closed) return existing
    if (this.channels.size >= this.maxChannels) throw new TrickleError('TRICKLE_ERROR_TOO_MANY', `at most ${this.maxChannels} channels`)
    const channel = new TrickleChannel(name, this.keep)
    this.channels.set(name, channel)
    return channel
  }

  get (name: string): TrickleChannel | undefined {
    return this.channels.get(name)
  }

  delete (name: string): boolean {
    const channel = this.channels.get(name)
    if (channel === undefined) return false
    channel.close()
    this.channels.delete(name)
    return true
  }

  /** closes channels idle for longer than `idleMs`; returns their names */
  sweep (idleMs: number, now = Date.now()): string[] {
    const gone: string[] = []
    for (const [name, c] of this.channels) {
      if (now - c.lastActivity > idleMs) { this.delete(name); gone.push(name) }
    }
    return gone
  }

  closeAll (): void {
    for (const name of [...this.channels.keys()]) this.delete(name)
  }
}
