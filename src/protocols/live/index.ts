/**
 * @packageDocumentation
 *
 * Live video-to-video on the mesh. `/shoal/live/1.0.0` carries one session per stream
 * between a gateway and an orchestrator (input segments, output segments, acks for
 * segments in flight, params, status events, payments by the interval); `trickle/` is the
 * reference's segmented publish/subscribe over HTTP, which the orchestrator serves to its
 * runner and the gateway to its clients. See docs/protocols.md.
 */
export * from './constants.js'
export { LiveProtocolError, LiveStartError, type LiveProtocolErrorCode, type LiveStartFailure } from './errors.js'
export { encodeLiveMessage, decodeLiveMessage, type LiveMessage, type LiveStart } from './codec.js'
export { LiveChannel } from './channel.js'
export { dialLiveChannel, startLiveSession, type DialProtocol, type LiveStartHandlers, type LiveStartedPrice } from './start.js'
