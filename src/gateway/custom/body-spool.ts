/**
 * A custom capability's request body as it arrives, so that the `/shoal/ai` client sends
 * it to the orchestrator while the HTTP client is still sending it, instead of after
 * holding it whole. The first `replayBytes` are kept (read ahead at once, while an
 * orchestrator is chosen); the rest is read only as the orchestrator takes it, and not
 * kept. The body can be read again from its first byte, for another attempt, until a byte
 * past the kept part has been handed out: then `replayable` is false and the dispatcher
 * starts no other attempt.
 */
import type { StreamedBytes } from '../../kernel/job.js'
import { ShoalError } from '../../kernel/errors.js'

export class BodySpoolError extends ShoalError<'BODY_SPOOL_ERROR_NOT_REPLAYABLE' | 'BODY_SPOOL_ERROR_BUSY'> {
  static override readonly name = 'BodySpoolError'
}

export class BodySpool implements StreamedBytes {
  readonly streamed = true
  readonly byteLength: number
  private readonly replayBytes: number
  private readonly source: AsyncIterator<Uint8Array>
  private readonly kept: Uint8Array[] = []
  private keptBytes = 0
  /** a byte past the kept part was handed to a reader: the start is gone */
  private dropped = false
  private ended = false
  private failure: unknown
  /** the source read in progress, shared by whoever waits for it */
  private pulling: Promise<void> | undefined
  /** a chunk pulled past the kept part, not handed out yet */
  private pending: Uint8Array | undefined
  private reading = false

  constructor (source: AsyncIterable<Uint8Array>, byteLength: number, replayBytes: number) {
    this.source = source[Symbol.asyncIterator]()
    this.byteLength = byteLength
    this.replayBytes = replayBytes
    // the kept part now: the attempt that reads it finds it here
    void this.prefetch().catch(() => {})
  }

  get replayable (): boolean {
    return !this.dropped
  }

  /** Bytes read from the client so far and held here (the kept part, and at most one chunk past it). */
  get heldBytes (): number {
    return this.keptBytes + (this.pending?.byteLength ?? 0)
  }

  private async prefetch (): Promise<void> {
    while (!this.ended && this.pending === undefined && this.keptBytes < this.replayBytes) await this.pull()
  }

  /** One chunk from the source: kept while the kept part has room, else held as `pending`. */
  private async pull (): Promise<void> {
    this.pulling ??= (async () => {
      try {
        const next = await this.source.next()
        if (next.done === true) { this.ended = true; return }
        const chunk = next.value
        if (!this.dropped && this.pending === undefined && this.keptBytes < this.replayBytes) {
          this.kept.push(chunk)
          this.keptBytes += chunk.byteLength
        } else {
          this.pending = chunk
        }
      } catch (err) {
        this.failure = err
        this.ended = true
      } finally {
        this.pulling = undefined
      }
    })()
    await this.pulling
  }

  async * read (signal?: AbortSignal): AsyncGenerator<Uint8Array> {
    if (this.dropped) throw new BodySpoolError('BODY_SPOOL_ERROR_NOT_REPLAYABLE', `the request body was already streamed past the ${this.replayBytes} bytes kept to send it again`)
    if (this.reading) throw new BodySpoolError('BODY_SPOOL_ERROR_BUSY', 'the request body is being read by another attempt')
    this.reading = true
    try {
      let index = 0
      while (true) {
        signal?.throwIfAborted()
        if (index < this.kept.length) {
          yield this.kept[index++] as Uint8Array
          continue
        }
        if (this.pending !== undefined) {
          const chunk = this.pending
          this.pending = undefined
          this.dropped = true
          yield chunk
          continue
        }
        if (this.failure !== undefined) throw this.failure
        if (this.ended) return
        await (signal === undefined ? this.pull() : raceAbort(this.pull(), signal))
      }
    } finally {
      this.reading = false
    }
  }
}

/** `promise`, or the signal's reason when it aborts first (the promise goes on: its result is kept by the spool). */
async function raceAbort (promise: Promise<void>, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted()
  let onAbort: (() => void) | undefined
  try {
    await Promise.race([promise, new Promise<never>((_resolve, reject) => {
      onAbort = () => { reject(signal.reason) }
      signal.addEventListener('abort', onAbort, { once: true })
    })])
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
  }
}
