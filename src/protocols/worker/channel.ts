import type { AbortOptions, Stream } from '@libp2p/interface'
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import { decodeWorkerMessage, encodeWorkerMessage, type WorkerMessage } from './codec.js'
import { WORKER_LIMITS } from './constants.js'
import { WorkerProtocolError } from './errors.js'
import { readFrame } from '../framing/length-prefixed.js'

/** How long a graceful close may wait for the remote before the stream is reset. */
const CLOSE_TIMEOUT_MS = 1_000

/**
 * The `/shoal/worker` control stream: length-prefixed JSON messages, each read bounded
 * by `WORKER_LIMITS.maxMessageBytes` before it is buffered, each decoded strictly.
 */
export class ControlChannel {
  private readonly lp: LengthPrefixedStream<Stream>

  constructor (readonly stream: Stream) {
    this.lp = lpStream(stream, { maxDataLength: WORKER_LIMITS.maxMessageBytes })
  }

  /**
   * The next message. Throws `WorkerProtocolError`: MESSAGE_TOO_LARGE, MALFORMED_MESSAGE,
   * or UNEXPECTED_EOF when the stream ends or is reset; the signal's reason when it aborts.
   */
  async read (options: AbortOptions = {}): Promise<WorkerMessage> {
    const bytes = await readFrame(this.lp, options, (failure, cause) => failure === 'too-large'
      ? new WorkerProtocolError('WORKER_PROTOCOL_ERROR_MESSAGE_TOO_LARGE', `control message over ${WORKER_LIMITS.maxMessageBytes} bytes`, undefined, { cause })
      : new WorkerProtocolError('WORKER_PROTOCOL_ERROR_UNEXPECTED_EOF', `control stream ended: ${cause.message}`, undefined, { cause }))
    return decodeWorkerMessage(bytes.subarray())
  }

  async write (message: WorkerMessage, options: AbortOptions = {}): Promise<void> {
    const bytes = encodeWorkerMessage(message)
    try {
      await this.lp.write(bytes, options)
    } catch (err) {
      if (options.signal?.aborted === true) throw options.signal.reason
      throw new WorkerProtocolError('WORKER_PROTOCOL_ERROR_UNEXPECTED_EOF', `control stream ended: ${(err as Error).message}`, undefined, { cause: err })
    }
  }

  get open (): boolean {
    return this.stream.status === 'open'
  }

  /** Ends the stream gracefully, resetting it if the remote does not close its side in time. */
  async close (): Promise<void> {
    if (this.stream.status !== 'open') return
    try {
      await this.stream.close({ signal: AbortSignal.timeout(CLOSE_TIMEOUT_MS) })
    } catch (err) {
      this.stream.abort(err as Error)
    }
  }

  abort (err: Error): void {
    if (this.stream.status === 'open' || this.stream.status === 'closing') this.stream.abort(err)
  }
}
