/**
 * @packageDocumentation
 *
 * Custom capability stream sessions on the mesh. `/shoal/stream/1.0.0` carries one
 * session per stream between a gateway and an orchestrator in `/shoal/live`'s framing
 * (`LiveChannel`, `LiveFrame`): start, started, data messages as output segments, params
 * updates as control frames answered by events, payments by the interval, close. See
 * docs/protocols.md.
 */
export * from './constants.js'
export { parseStreamEvent, parseStreamUpdate, StreamEventSchema, StreamUpdateSchema, type StreamEvent, type StreamUpdate } from './messages.js'
