/**
 * A hostile `/shoal/ai` peer: speaks the wire by hand (raw frames, bad varints,
 * unfinished inputs), so tests and bench/memory can send what no real client would.
 */
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import {
  decodeFinal,
  decodeHello,
  encodeEmpty,
  encodeJobHeader,
  frameHeader,
  FrameType,
  type FinalMessage,
  type HelloMessage,
  type JobHeaderMessage
} from '../../../src/protocols/ai/codec.js'
import { AI_PROTOCOL } from '../../../src/protocols/ai/constants.js'
import { FrameStream } from '../../../src/protocols/ai/frame-stream.js'

type StreamBytes = Parameters<Stream['send']>[0]

/** What the server answered a hostile sequence with. */
export type ServerAnswer =
  | { kind: 'final', final: FinalMessage }
  | { kind: 'reset', message: string }
  | { kind: 'eof' }

export class RawAiStream {
  readonly frames: FrameStream
  hello: HelloMessage | undefined

  constructor (readonly stream: Stream) {
    // reads the server's frames with the protocol's own decoder (it accepts any known type)
    this.frames = new FrameStream(stream)
  }

  static async open (node: Libp2p, peer: PeerId | Multiaddr, options: { signal?: AbortSignal } = {}): Promise<RawAiStream> {
    const stream = await node.dialProtocol(peer, AI_PROTOCOL, { signal: options.signal ?? AbortSignal.timeout(10_000) })
    const raw = new RawAiStream(stream)
    const first = await raw.frames.next({ signal: AbortSignal.timeout(10_000) })
    if (first === null || first.type !== FrameType.HELLO) throw new Error('no Hello')
    raw.hello = decodeHello(first.payload)
    return raw
  }

  /** Sends bytes as they are, waiting for the stream to drain (a well-behaved sender). */
  async send (bytes: Uint8Array, signal?: AbortSignal): Promise<void> {
    if (!this.stream.send(bytes as unknown as StreamBytes)) await this.stream.onDrain({ signal })
  }

  async header (header: Omit<JobHeaderMessage, 'requestId' | 'payment' | 'params'> & Partial<JobHeaderMessage>): Promise<void> {
    await this.send(encodeJobHeader({ requestId: `hostile-${Math.random().toString(36).slice(2)}`, params: {}, payment: null, ...header }))
  }

  /** `total` input bytes as InputChunks of up to 256 KiB (zero bytes: the content does not matter). */
  async input (total: number, options: { signal?: AbortSignal, chunk?: number } = {}): Promise<void> {
    const size = options.chunk ?? 256 * 1024
    const zeros = new Uint8Array(size)
    for (let sent = 0; sent < total;) {
      const n = Math.min(size, total - sent)
      await this.send(frameHeader(FrameType.INPUT_CHUNK, n), options.signal)
      await this.send(n === size ? zeros : zeros.subarray(0, n), options.signal)
      sent += n
    }
  }

  async inputEnd (): Promise<void> {
    await this.send(encodeEmpty(FrameType.INPUT_END))
  }

  /** The next Final, skipping progress and result frames; or how the stream ended. */
  async answer (timeoutMs = 10_000): Promise<ServerAnswer> {
    const signal = AbortSignal.timeout(timeoutMs)
    try {
      while (true) {
        const frame = await this.frames.next({ signal })
        if (frame === null) return { kind: 'eof' }
        if (frame.type === FrameType.FINAL) return { kind: 'final', final: decodeFinal(frame.payload) }
      }
    } catch (err) {
      if (signal.aborted) throw new Error(`no answer within ${timeoutMs} ms`)
      return { kind: 'reset', message: (err as Error).message }
    }
  }

  reset (): void {
    this.stream.abort(new Error('hostile peer leaves'))
  }
}
