import type { AbortOptions, PeerId, Startable } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import type { Libp2p } from '@libp2p/interface'
import { encodeSignedAnnouncement, type SignedAnnouncement } from '../../discovery/announcement.js'
import type { Logger } from '../../observability/logger.js'
import { INFO_DEFAULT_TIMEOUT_MS, INFO_MAX_INBOUND_STREAMS, INFO_MAX_OUTBOUND_STREAMS, INFO_MAX_RESPONSE_BYTES, INFO_PROTOCOL } from './constants.js'
import { InfoProtocolError } from './errors.js'

export { INFO_PROTOCOL } from './constants.js'
export { InfoProtocolError } from './errors.js'

export interface InfoServerInit {
  /** the node's current signed announcement, or undefined while it has none */
  current: () => SignedAnnouncement | undefined
  logger: Logger
}

/**
 * `/shoal/info/2.0.0` server: answers every stream with this node's current signed
 * announcement as one length-prefixed frame (an empty frame when it has none).
 */
export function infoServer (registrar: Pick<Libp2p, 'handle' | 'unhandle'>, init: InfoServerInit): Startable {
  return {
    async start () {
      await registrar.handle(INFO_PROTOCOL, async (stream) => {
        const signal = AbortSignal.timeout(INFO_DEFAULT_TIMEOUT_MS)
        try {
          const lp = lpStream(stream, { maxDataLength: INFO_MAX_RESPONSE_BYTES })
          const signed = init.current()
          await lp.write(signed === undefined ? new Uint8Array(0) : encodeSignedAnnouncement(signed), { signal })
          await stream.close({ signal })
        } catch (err) {
          init.logger.debug({ err: (err as Error).message }, 'info response failed')
          stream.abort(err as Error)
        }
      }, { maxInboundStreams: INFO_MAX_INBOUND_STREAMS, maxOutboundStreams: INFO_MAX_OUTBOUND_STREAMS, runOnLimitedConnection: true })
    },
    async stop () {
      await registrar.unhandle(INFO_PROTOCOL)
    }
  }
}

/**
 * Asks a peer for its current announcement. Returns the raw envelope bytes; the caller
 * validates them like a gossip message from that peer (nothing trusts a peer's bytes).
 */
export async function queryInfo (node: Pick<Libp2p, 'dialProtocol'>, peer: PeerId, options: AbortOptions = {}): Promise<Uint8Array> {
  const signal = options.signal ?? AbortSignal.timeout(INFO_DEFAULT_TIMEOUT_MS)
  let stream
  try {
    stream = await node.dialProtocol(peer, INFO_PROTOCOL, { signal })
  } catch (err) {
    throw new InfoProtocolError('INFO_ERROR_DIAL', `cannot open ${INFO_PROTOCOL} to ${peer.toString()}: ${(err as Error).message}`, undefined, { cause: err })
  }
  try {
    const lp = lpStream(stream, { maxDataLength: INFO_MAX_RESPONSE_BYTES })
    const frame = await lp.read({ signal })
    await stream.close({ signal }).catch(() => {})
    const bytes = frame.subarray()
    if (bytes.length === 0) throw new InfoProtocolError('INFO_ERROR_NO_ANNOUNCEMENT', `${peer.toString()} has no announcement`)
    return bytes
  } catch (err) {
    stream.abort(err as Error)
    if (err instanceof InfoProtocolError) throw err
    if (signal.aborted) throw new InfoProtocolError('INFO_ERROR_TIMEOUT', `${INFO_PROTOCOL} to ${peer.toString()} timed out`)
    throw new InfoProtocolError('INFO_ERROR_INVALID_RESPONSE', `bad ${INFO_PROTOCOL} response from ${peer.toString()}: ${(err as Error).message}`, undefined, { cause: err })
  }
}
