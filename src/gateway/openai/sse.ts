import { StringDecoder } from 'node:string_decoder'

/** Bounds one event: a runner cannot make the gateway buffer without end. */
const MAX_EVENT_BYTES = 1024 * 1024

/**
 * The `data` of each Server-Sent Event in a byte stream (multi-line data joined by
 * newlines, as the spec says); comments and other fields are skipped.
 */
export async function * sseData (body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8')
  let buffer = ''
  const events = function * (final: boolean): Generator<string> {
    for (;;) {
      const match = /\r?\n\r?\n/.exec(buffer)
      if (match === null) {
        if (!final || buffer.trim() === '') return
      }
      const raw = match === null ? buffer : buffer.slice(0, match.index)
      buffer = match === null ? '' : buffer.slice(match.index + match[0].length)
      const data = raw.split(/\r?\n/).filter(line => line.startsWith('data:')).map(line => line.slice(line.startsWith('data: ') ? 6 : 5))
      if (data.length > 0) yield data.join('\n')
      if (match === null) return
    }
  }
  for await (const chunk of body) {
    buffer += decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
    yield * events(false)
    if (buffer.length > MAX_EVENT_BYTES) throw new Error(`an event of the runner's stream is over ${MAX_EVENT_BYTES} bytes`)
  }
  buffer += decoder.end()
  yield * events(true)
}

/** One event as OpenAI streams them. */
export function sseEvent (data: unknown): string {
  return `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`
}
