/**
 * The JSON carried in `/shoal/stream` control and event frames (the frames themselves are
 * `/shoal/live`'s `LiveFrame`s, see ../live/codec.ts), checked at the boundary: a peer's
 * text is parsed and schema-checked before anything acts on it.
 */
import { Type, type Static } from '@sinclair/typebox'
import { compileSchema } from '../../kernel/schema.js'
import { STREAM_LIMITS } from './constants.js'

/** gateway -> orchestrator (LiveControl.params): new params for the app, answered by an `update` event with the same id */
export const StreamUpdateSchema = Type.Object({
  update_id: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  params: Type.Object({})
}, { additionalProperties: false })
export type StreamUpdate = Static<typeof StreamUpdateSchema>

/** orchestrator -> gateway (LiveEvent.json) */
export const StreamEventSchema = Type.Union([
  // the app's answer to an update: its status and the start of its body
  Type.Object({
    type: Type.Literal('update'),
    update_id: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    status: Type.Integer({ minimum: 100, maximum: 599 }),
    content_type: Type.String({ maxLength: 256 }),
    body: Type.String({ maxLength: STREAM_LIMITS.maxUpdateBodyBytes })
  }, { additionalProperties: false }),
  // the app's session started: its data's content type
  Type.Object({
    type: Type.Literal('started'),
    content_type: Type.String({ maxLength: 256 })
  }, { additionalProperties: false })
])
export type StreamEvent = Static<typeof StreamEventSchema>

const updateSchema = compileSchema(StreamUpdateSchema)
const eventSchema = compileSchema(StreamEventSchema)

/** The update in a control frame's JSON, or a reason it is not one. */
export function parseStreamUpdate (json: string): StreamUpdate | string {
  return parse(json, updateSchema, 'update')
}

/** The event in an event frame's JSON, or a reason it is not one. */
export function parseStreamEvent (json: string): StreamEvent | string {
  return parse(json, eventSchema, 'event')
}

function parse<T> (json: string, schema: { check: (value: unknown) => { ok: true, value: T } | { ok: false, problem: { path: string[], message: string } } }, what: string): T | string {
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch {
    return `the ${what} is not JSON`
  }
  const checked = schema.check(value)
  return checked.ok ? checked.value : `the ${what}'s ${checked.problem.path.join('.') || 'value'} ${checked.problem.message}`
}
