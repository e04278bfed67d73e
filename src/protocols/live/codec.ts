/**
 * `/shoal/live/1.0.0` frames: the protobuf `LiveFrame` with exactly one field set, checked
 * against `LIVE_LIMITS` after decoding, as a discriminated union.
 */
import { LIVE_CLOSE_CODES, LIVE_LIMITS, type LiveCloseCode } from './constants.js'
import { LiveProtocolError } from './errors.js'
import { LiveFrame, type LiveClose, type LiveControl, type LiveEvent, type LivePayment, type LiveSegment, type LiveStart, type LiveStarted, type LiveAck } from './pb/live.js'

export type LiveMessage =
  | { type: 'start', start: LiveStart }
  | { type: 'started', started: LiveStarted }
  | { type: 'input', segment: LiveSegment }
  | { type: 'output', segment: LiveSegment }
  | { type: 'ack', ack: LiveAck }
  | { type: 'control', control: LiveControl }
  | { type: 'event', event: LiveEvent }
  | { type: 'payment', payment: LivePayment }
  | { type: 'close', close: { code: LiveCloseCode, message: string } }

export type { LiveStart, LiveStarted, LiveSegment, LiveAck, LiveControl, LiveEvent, LivePayment, LiveClose }

function malformed (message: string): never {
  throw new LiveProtocolError('LIVE_PROTOCOL_ERROR_MALFORMED_FRAME', message)
}

function checkString (name: string, value: string, max: number = LIVE_LIMITS.maxStringBytes): void {
  if (Buffer.byteLength(value) > max) malformed(`${name} is longer than ${max} bytes`)
}

function checkBytes (name: string, value: Uint8Array | undefined, max: number): void {
  if (value !== undefined && value.byteLength > max) malformed(`${name} is larger than ${max} bytes`)
}

function checkJsonObject (name: string, value: string): void {
  checkString(name, value, LIVE_LIMITS.maxJsonBytes)
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    malformed(`${name} is not JSON`)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) malformed(`${name} is not a JSON object`)
}

function checkSegment (name: string, s: LiveSegment): void {
  if (!Number.isSafeInteger(s.seq) || s.seq < 0) malformed(`${name}.seq is not a sequence number`)
  if (s.data.byteLength === 0) malformed(`${name} is empty`)
  checkBytes(name, s.data, LIVE_LIMITS.maxSegmentBytes)
}

export function encodeLiveMessage (message: LiveMessage): Uint8Array {
  switch (message.type) {
    case 'start': return LiveFrame.encode({ start: message.start })
    case 'started': return LiveFrame.encode({ started: message.started })
    case 'input': return LiveFrame.encode({ input: message.segment })
    case 'output': return LiveFrame.encode({ output: message.segment })
    case 'ack': return LiveFrame.encode({ ack: message.ack })
    case 'control': return LiveFrame.encode({ control: message.control })
    case 'event': return LiveFrame.encode({ event: message.event })
    case 'payment': return LiveFrame.encode({ payment: message.payment })
    case 'close': return LiveFrame.encode({ close: message.close })
  }
}

/** Decodes and checks one frame; throws `LiveProtocolError` (MALFORMED_FRAME). */
export function decodeLiveMessage (bytes: Uint8Array): LiveMessage {
  let frame: LiveFrame
  try {
    frame = LiveFrame.decode(bytes)
  } catch (err) {
    malformed(`undecodable frame: ${(err as Error).message}`)
  }
  const set = Object.entries(frame).filter(([, v]) => v !== undefined)
  if (set.length !== 1) malformed(`a frame sets exactly one field, this one sets ${set.length}`)
  if (frame.start !== undefined) {
    const s = frame.start
    for (const k of ['pipeline', 'modelId', 'streamId', 'requestId'] as const) checkString(`start.${k}`, s[k])
    checkJsonObject('start.params', s.params)
    checkBytes('start.payment', s.payment, LIVE_LIMITS.maxPaymentBytes)
    return { type: 'start', start: s }
  }
  if (frame.started !== undefined) {
    const s = frame.started
    checkString('started.pricePerUnit', s.pricePerUnit)
    checkString('started.pixelsPerUnit', s.pixelsPerUnit)
    checkBytes('started.quote', s.quote, LIVE_LIMITS.maxPaymentBytes)
    return { type: 'started', started: s }
  }
  if (frame.input !== undefined) { checkSegment('input', frame.input); return { type: 'input', segment: frame.input } }
  if (frame.output !== undefined) { checkSegment('output', frame.output); return { type: 'output', segment: frame.output } }
  if (frame.ack !== undefined) return { type: 'ack', ack: frame.ack }
  if (frame.control !== undefined) { checkJsonObject('control.params', frame.control.params); return { type: 'control', control: frame.control } }
  if (frame.event !== undefined) { checkJsonObject('event.json', frame.event.json); return { type: 'event', event: frame.event } }
  if (frame.payment !== undefined) {
    const p = frame.payment
    checkBytes('payment.payment', p.payment, LIVE_LIMITS.maxPaymentBytes)
    checkBytes('payment.quote', p.quote, LIVE_LIMITS.maxPaymentBytes)
    checkString('payment.balance', p.balance)
    return { type: 'payment', payment: p }
  }
  const close = frame.close as LiveClose
  checkString('close.message', close.message, LIVE_LIMITS.maxMessageBytes)
  const code = (LIVE_CLOSE_CODES as readonly string[]).includes(close.code) ? close.code as LiveCloseCode : 'INTERNAL'
  return { type: 'close', close: { code, message: close.message } }
}
