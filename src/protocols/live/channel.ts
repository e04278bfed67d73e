import type { AbortOptions, Stream } from '@libp2p/interface'
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import { decodeLiveMessage, encodeLiveMessage, type LiveMessage } from './codec.js'
import { LIVE_LIMITS } from './constants.js'
import { LiveProtocolError } from './errors.js'
import { readFrame } from '../framing/length-prefixed.js'

/** How long a graceful close may wait before the stream is reset. */
const CLOSE_TIMEOUT_MS = 1_000
/** room for the frame's own fields beside the segment */
const FRAME_OVERHEAD = 64 * 1024

/**
 * One `/shoal/live` stream: length-prefixed `LiveFrame`s, each bounded before it is
 * buffered. Writes are queued one at a time (segments, events and payments interleave
 * whole); a write resolves once the frame was handed to the stream, after waiting for it
 * to drain (libp2p's backpressure).
 */
export class LiveChannel {
  private readonly lp: LengthPrefixedStream<Stream>
  private writing: Promise<void> = Promise.resolve()
  bytesIn = 0
  bytesOut = 0

  constructor (readonly stream: Stream) {
    const max = LIVE_LIMITS.maxSegmentBytes + FRAME_OVERHEAD
    this.lp = lpStream(stream, { maxDataLength: max, maxBufferSize: max + 16 })
  }

  /** The next frame; throws `LiveProtocolError` (FRAME_TOO_LARGE, MALFORMED_FRAME, UNEXPECTED_EOF). */
  async read (options: AbortOptions = {}): Promise<LiveMessage> {
    const bytes = await readFrame(this.lp, options, (failure, cause) => failure === 'too-large'
      ? new LiveProtocolError('LIVE_PROTOCOL_ERROR_FRAME_TOO_LARGE', `frame over ${LIVE_LIMITS.maxSegmentBytes + FRAME_OVERHEAD} bytes`, undefined, { cause })
      : new LiveProtocolError('LIVE_PROTOCOL_ERROR_UNEXPECTED_EOF', `live stream ended: ${cause.message}`, undefined, { cause }))
    this.bytesIn += bytes.byteLength
    return decodeLiveMessage(bytes.subarray())
  }

  async write (message: LiveMessage, options: AbortOptions = {}): Promise<void> {
    const bytes = encodeLiveMessage(message)
    const previous = this.writing
    const mine = (async () => {
      await previous.catch(() => {})
      try {
        await this.lp.write(bytes, options)
        this.bytesOut += bytes.byteLength
      } catch (err) {
        if (options.signal?.aborted === true) throw options.signal.reason
        throw new LiveProtocolError('LIVE_PROTOCOL_ERROR_UNEXPECTED_EOF', `live stream ended: ${(err as Error).message}`, undefined, { cause: err })
      }
    })()
    this.writing = mine
    await mine
  }

  get open (): boolean {
    return this.stream.status === 'open'
  }

  async close (): Promise<void> {
    if (this.stream.status !== 'open') return
    try {
      await this.writing.catch(() => {})
      await this.stream.close({ signal: AbortSignal.timeout(CLOSE_TIMEOUT_MS) })
    } catch (err) {
      this.stream.abort(err as Error)
    }
  }

  abort (err: Error): void {
    if (this.stream.status === 'open' || this.stream.status === 'closing') this.stream.abort(err)
  }
}
