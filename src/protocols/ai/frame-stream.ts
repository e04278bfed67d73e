import type { AbortOptions, Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { raceSignal } from '../../signals/race-signal.js'
import { maxPayloadBytes, type FrameTypeValue } from './codec.js'
import {
  FRAME_LIMITS,
  READ_HIGH_WATER_BYTES,
  READ_LOW_WATER_BYTES,
  STREAM_MAX_READ_BUFFER_BYTES
} from './constants.js'
import { AiProtocolError } from './errors.js'

/**
 * libp2p 3 depends on uint8arraylist 3 while this project pins 2.x: the classes are
 * interchangeable at runtime (both recognise lists by `Symbol.for`), only their
 * TypeScript types differ, hence the casts at the stream boundary.
 */
type StreamBytes = Parameters<Stream['send']>[0]

/** One decoded frame; `payload` excludes the type byte. */
export interface Frame {
  type: FrameTypeValue
  payload: Uint8ArrayList
}

export interface FrameStreamOptions {
  /** the largest InputChunk/ResultChunk payload accepted @default FRAME_LIMITS.maxDataFrameBytes */
  maxDataFrameBytes?: number
}

/**
 * The `/shoal/ai` framing over one libp2p stream, for many jobs in sequence.
 *
 * Reading is pull-based (`next()`), with flow control: above a high-water mark of
 * decoded-but-unread bytes the stream is paused (yamux stops granting window, so the
 * sender blocks) and resumed below the low-water mark. A length prefix beyond the
 * limits, an unknown type or a type-specific oversize is detected before the frame
 * body is buffered, and resets this stream only.
 *
 * Writing is corked: frames written before the event loop's next check phase leave
 * in one `stream.send` (one yamux frame, one noise message), so a small job costs one
 * packet each way even when its frames come from several async steps.
 */
export class FrameStream {
  readonly stream: Stream
  private readonly buffer = new Uint8ArrayList()
  private readonly frames: Frame[] = []
  private readonly maxDataFrameBytes: number
  private readonly maxAnyPayload: number
  private queuedBytes = 0
  /** length (type + payload) of the frame being assembled, -1 while reading a prefix */
  private pendingLength = -1
  private pendingTypeChecked = false
  private pendingType = 0
  private waiter: PromiseWithResolvers<void> | undefined
  private ended = false
  private endPending = false
  private failure: Error | undefined
  private paused = false
  private corked: Uint8Array[] = []
  private corkedBytes = 0
  private flushScheduled = false

  constructor (stream: Stream, options: FrameStreamOptions = {}) {
    this.stream = stream
    this.maxDataFrameBytes = options.maxDataFrameBytes ?? FRAME_LIMITS.maxDataFrameBytes
    this.maxAnyPayload = Math.max(this.maxDataFrameBytes, FRAME_LIMITS.maxControlFrameBytes)
    this.flush = this.flush.bind(this)
    // a paused stream may still receive one granted yamux window (see constants)
    stream.maxReadBufferLength = Math.max(stream.maxReadBufferLength, STREAM_MAX_READ_BUFFER_BYTES)
    stream.addEventListener('message', (evt: StreamMessageEvent) => { this.onData(evt.data as Uint8Array | Uint8ArrayList) })
    stream.addEventListener('remoteCloseWrite', () => { this.onEnd() })
    stream.addEventListener('close', (evt: StreamCloseEvent) => {
      if (evt.error !== undefined) this.fail(evt.error)
      else this.onEnd()
    })
  }

  /** Still usable for another job: open both ways, nothing failed, no EOF. */
  get usable (): boolean {
    return this.failure === undefined && !this.ended && this.stream.status === 'open' &&
      this.stream.writeStatus === 'writable' && this.stream.remoteWriteStatus === 'writable'
  }

  /** The remote closed its write side (after all frames it sent were decoded). */
  get remoteEnded (): boolean {
    return this.ended
  }

  /** Frames decoded but not yet taken by `next()`. */
  get queued (): number {
    return this.frames.length
  }

  /**
   * The next frame, or `null` once the remote closed its write side cleanly. Throws the
   * reset or protocol error that ended the stream, or the signal's reason. Only one
   * `next()` may be pending at a time; an aborted call consumes nothing.
   */
  async next (options: AbortOptions = {}): Promise<Frame | null> {
    while (true) {
      const frame = this.frames.shift()
      if (frame !== undefined) {
        this.queuedBytes -= frame.payload.byteLength + 1
        if (this.paused && this.queuedBytes + this.buffer.byteLength < READ_LOW_WATER_BYTES) {
          this.paused = false
          if (this.stream.readStatus === 'paused') this.stream.resume()
        }
        return frame
      }
      if (this.failure !== undefined) throw this.failure
      if (this.ended) return null
      this.waiter ??= Promise.withResolvers<void>()
      await raceSignal(this.waiter.promise, options.signal)
    }
  }

  /** Queue bytes (whole frames, or a frame header then its payload in the same tick). */
  write (bytes: Uint8Array): void {
    this.corked.push(bytes)
    this.corkedBytes += bytes.byteLength
    if (!this.flushScheduled) {
      this.flushScheduled = true
      setImmediate(this.flush)
    }
  }

  /** Bytes written but not yet flushed. */
  get pendingBytes (): number {
    return this.corkedBytes
  }

  /** The stream asked for a drain: stop writing bulk data until `drained()` resolves. */
  get needsDrain (): boolean {
    return this.stream.writableNeedsDrain
  }

  /** Send what `write` queued now. Returns false when the stream wants a drain first. */
  flush (): boolean {
    this.flushScheduled = false
    if (this.corked.length === 0) return !this.stream.writableNeedsDrain
    const list = new Uint8ArrayList(...this.corked)
    this.corked = []
    this.corkedBytes = 0
    if (this.stream.writeStatus !== 'writable') return false
    try {
      return this.stream.send(list as unknown as StreamBytes)
    } catch (err) {
      this.fail(err as Error)
      return false
    }
  }

  /** Flush, then wait until the stream accepts more (backpressure for bulk writes). */
  async drained (options: AbortOptions = {}): Promise<void> {
    this.flush()
    if (this.failure !== undefined) throw this.failure
    if (this.stream.writableNeedsDrain) await this.stream.onDrain(options)
  }

  /** Flush and close our write side; the stream ends when the remote closes too. */
  async close (options: AbortOptions = {}): Promise<void> {
    this.flush()
    if (this.stream.writeStatus !== 'writable') return
    try {
      await this.stream.close(options)
    } catch (err) {
      this.stream.abort(err as Error)
    }
  }

  /** Flush what is queued (it leaves before the reset), then reset the stream. */
  abort (err: Error): void {
    this.flush()
    this.fail(err)
    this.stream.abort(err)
  }

  private fail (err: Error): void {
    this.failure ??= err
    this.wake()
  }

  private onEnd (): void {
    if (this.ended || this.failure !== undefined) return
    if (this.stream.readBufferLength > 0) {
      // paused with bytes still inside the stream: end once they have been decoded
      this.endPending = true
      return
    }
    if (this.buffer.byteLength > 0 || this.pendingLength >= 0) {
      this.protocolError(new AiProtocolError('AI_PROTOCOL_ERROR_UNEXPECTED_EOF', 'stream ended in the middle of a frame'))
      return
    }
    this.ended = true
    this.wake()
  }

  private wake (): void {
    const waiter = this.waiter
    this.waiter = undefined
    waiter?.resolve()
  }

  private protocolError (err: AiProtocolError): void {
    if (this.failure !== undefined) return
    this.failure = err
    this.buffer.consume(this.buffer.byteLength)
    this.stream.abort(err)
    this.wake()
  }

  private onData (data: Uint8Array | Uint8ArrayList): void {
    if (this.failure !== undefined) return
    this.buffer.append(data)
    try {
      this.decode()
    } catch (err) {
      this.protocolError(err as AiProtocolError)
      return
    }
    if (!this.paused && this.queuedBytes + this.buffer.byteLength > READ_HIGH_WATER_BYTES && this.stream.readStatus === 'readable') {
      this.paused = true
      this.stream.pause()
    }
    if (this.frames.length > 0) this.wake()
    if (this.endPending && this.stream.readBufferLength === 0) {
      this.endPending = false
      this.onEnd()
    }
  }

  private decode (): void {
    while (true) {
      if (this.pendingLength < 0) {
        let value = 0
        let used = 0
        let complete = false
        const available = Math.min(this.buffer.byteLength, FRAME_LIMITS.maxLengthPrefixBytes)
        while (used < available) {
          const byte = this.buffer.get(used)
          value += (byte & 0x7f) * 2 ** (7 * used)
          used++
          if ((byte & 0x80) === 0) { complete = true; break }
        }
        if (!complete) {
          if (this.buffer.byteLength >= FRAME_LIMITS.maxLengthPrefixBytes) {
            throw new AiProtocolError('AI_PROTOCOL_ERROR_FRAME_TOO_LARGE', `length prefix longer than ${FRAME_LIMITS.maxLengthPrefixBytes} bytes`)
          }
          return
        }
        if (value === 0) throw new AiProtocolError('AI_PROTOCOL_ERROR_MALFORMED_FRAME', 'empty frame (no type byte)')
        if (value - 1 > this.maxAnyPayload) {
          throw new AiProtocolError('AI_PROTOCOL_ERROR_FRAME_TOO_LARGE', `frame of ${value - 1} bytes exceeds ${this.maxAnyPayload}`)
        }
        this.buffer.consume(used)
        this.pendingLength = value
        this.pendingTypeChecked = false
      }
      if (this.buffer.byteLength === 0) return
      if (!this.pendingTypeChecked) {
        const type = this.buffer.get(0)
        const max = maxPayloadBytes(type, this.maxDataFrameBytes)
        if (max === undefined) throw new AiProtocolError('AI_PROTOCOL_ERROR_UNKNOWN_FRAME', `unknown frame type 0x${type.toString(16)}`)
        if (this.pendingLength - 1 > max) {
          throw new AiProtocolError('AI_PROTOCOL_ERROR_FRAME_TOO_LARGE', `frame type 0x${type.toString(16)} of ${this.pendingLength - 1} bytes exceeds ${max}`)
        }
        this.pendingType = type
        this.pendingTypeChecked = true
      }
      if (this.buffer.byteLength < this.pendingLength) return
      const payload = this.buffer.sublist(1, this.pendingLength)
      this.buffer.consume(this.pendingLength)
      this.frames.push({ type: this.pendingType as FrameTypeValue, payload })
      this.queuedBytes += this.pendingLength
      this.pendingLength = -1
    }
  }
}
