/**
 * An app's stream-session answer as data messages: Server-Sent Events (`text/event-stream`,
 * each event's `data:` lines joined by newlines; comments and other fields dropped) or,
 * for any other content type, one message per non-empty line (JSON lines). Bounded: a
 * message or line over `maxBytes` is an error, never buffered past it.
 */
import { ShoalError } from '../../kernel/errors.js'

export class StreamDataError extends ShoalError<'STREAM_DATA_ERROR_TOO_LARGE'> {
  static override readonly name = 'StreamDataError'
}

const NEWLINE = 0x0a

export async function * dataMessages (body: AsyncIterable<Uint8Array>, sse: boolean, maxBytes: number): AsyncGenerator<Uint8Array> {
  let line: Buffer[] = []
  let lineBytes = 0
  /** SSE: the data lines of the event being read */
  let event: Buffer[] = []
  let eventBytes = 0
  const tooLarge = (): StreamDataError => new StreamDataError('STREAM_DATA_ERROR_TOO_LARGE', `a data message over ${maxBytes} bytes`, { maxBytes })

  /** One whole line (no newline); yields what it completes. */
  function onLine (raw: Buffer): Uint8Array | undefined {
    const text = raw.byteLength > 0 && raw[raw.byteLength - 1] === 0x0d ? raw.subarray(0, -1) : raw
    if (!sse) return text.byteLength === 0 ? undefined : text
    if (text.byteLength === 0) {
      if (event.length === 0) return undefined
      const joined = Buffer.concat(event.flatMap((part, i) => i === 0 ? [part] : [Buffer.from('\n'), part]))
      event = []
      eventBytes = 0
      return joined
    }
    if (text[0] === 0x3a /* ':' a comment */) return undefined
    const colon = text.indexOf(0x3a)
    const field = (colon === -1 ? text : text.subarray(0, colon)).toString('latin1')
    if (field !== 'data') return undefined
    let value = colon === -1 ? Buffer.alloc(0) : text.subarray(colon + 1)
    if (value[0] === 0x20) value = value.subarray(1)
    eventBytes += value.byteLength + (event.length > 0 ? 1 : 0)
    if (eventBytes > maxBytes) throw tooLarge()
    event.push(Buffer.from(value))
    return undefined
  }

  for await (const chunk of body) {
    let data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    for (let at = data.indexOf(NEWLINE); at !== -1; at = data.indexOf(NEWLINE)) {
      const piece = data.subarray(0, at)
      if (lineBytes + piece.byteLength > maxBytes + 1) throw tooLarge()
      const whole = line.length === 0 ? piece : Buffer.concat([...line, piece])
      line = []
      lineBytes = 0
      data = data.subarray(at + 1)
      const message = onLine(whole)
      if (message !== undefined) yield message
    }
    if (data.byteLength > 0) {
      lineBytes += data.byteLength
      // +1: the carriage return of a CRLF line
      if (lineBytes > maxBytes + 1) throw tooLarge()
      line.push(Buffer.from(data))
    }
  }
  // the last line without its newline, and an event the stream ended inside
  if (lineBytes > 0) {
    const message = onLine(Buffer.concat(line))
    if (message !== undefined) yield message
  }
  if (sse && event.length > 0) {
    const message = onLine(Buffer.alloc(0))
    if (message !== undefined) yield message
  }
}
