/**
 * The dialer's side of a session start over `/shoal/live` framing (live video and custom
 * capability streams share it): dial, send `start`, answer the `payment` frames that come
 * before `started`. Any failure is a `LiveStartError` and leaves the stream aborted.
 */
import type { PeerId, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { LiveChannel } from './channel.js'
import type { LiveMessage, LiveStart, LiveStarted } from './codec.js'
import { LiveStartError } from './errors.js'

export type DialProtocol = (peer: PeerId, protocol: string, options: { signal: AbortSignal }) => Promise<Stream>

/** Opens a stream of `protocol` to `peer`; a failed dial is UNREACHABLE. */
export async function dialLiveChannel (dial: DialProtocol, peer: string, protocol: string, signal: AbortSignal): Promise<LiveChannel> {
  let stream: Stream
  try {
    stream = await dial(peerIdFromString(peer), protocol, { signal })
  } catch (err) {
    throw new LiveStartError('UNREACHABLE', `dial failed: ${(err as Error).message}`)
  }
  return new LiveChannel(stream)
}

/** The price a `started` frame announces (pixels per unit 0 read as 1). */
export interface LiveStartedPrice { pricePerUnit: bigint, pixelsPerUnit: bigint }

export interface LiveStartHandlers {
  signal: AbortSignal
  /** a `payment` frame before `started`: ticket params, the prepayment asked for */
  onPayment: (message: Extract<LiveMessage, { type: 'payment' }>) => Promise<void>
  /** the `started` frame and its price; what it throws fails the start as a broken stream does */
  onStarted: (started: LiveStarted, price: LiveStartedPrice) => void
}

/** Sends `start` on `channel` and reads until the peer has started, or fails with a `LiveStartError`. */
export async function startLiveSession (channel: LiveChannel, start: LiveStart, handlers: LiveStartHandlers): Promise<void> {
  const { signal } = handlers
  try {
    await channel.write({ type: 'start', start }, { signal })
    while (true) {
      const message = await channel.read({ signal })
      if (message.type === 'payment') {
        await handlers.onPayment(message)
        continue
      }
      if (message.type === 'started') {
        const { pricePerUnit, pixelsPerUnit } = message.started
        handlers.onStarted(message.started, { pricePerUnit: BigInt(pricePerUnit), pixelsPerUnit: BigInt(pixelsPerUnit === '0' ? '1' : pixelsPerUnit) })
        return
      }
      if (message.type === 'close') throw new LiveStartError(message.close.code, `${message.close.code}: ${message.close.message}`)
      throw new LiveStartError('INTERNAL', `unexpected ${message.type} before started`)
    }
  } catch (err) {
    channel.abort(err as Error)
    if (err instanceof LiveStartError) throw err
    throw new LiveStartError('UNREACHABLE', (err as Error).message)
  }
}
