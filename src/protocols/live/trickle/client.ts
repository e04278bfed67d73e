/**
 * A trickle client over HTTP (fetch): publish numbered segments, and follow a channel
 * segment by segment from the live edge, jumping to the latest when it falls behind
 * (470), ending when the channel closes (404).
 */
import { TrickleError } from './errors.js'
import { STATUS_SEGMENT_GONE, TRICKLE_LATEST, TRICKLE_SEQ } from './headers.js'

export interface TrickleSegmentRead {
  seq: number
  data: Uint8Array
}

/** Publishes one complete segment; resolves when the server took it all. `headers`: e.g. a gateway's Authorization. */
export async function tricklePublish (channelUrl: string, seq: number, data: Uint8Array, options: { signal?: AbortSignal, contentType?: string, headers?: Record<string, string> } = {}): Promise<void> {
  const res = await fetch(`${channelUrl}/${seq}`, {
    method: 'POST',
    body: data,
    headers: { ...options.headers, 'content-type': options.contentType ?? 'video/mp2t' },
    ...(options.signal === undefined ? {} : { signal: options.signal })
  })
  const text = await res.text()
  if (res.status !== 200) throw new TrickleError(res.status === 404 ? 'TRICKLE_ERROR_CLOSED' : 'TRICKLE_ERROR_HTTP', `publish ${channelUrl}/${seq}: ${res.status} ${text}`, { status: res.status })
}

/** Closes a channel (DELETE); never throws. */
export async function trickleClose (channelUrl: string, signal?: AbortSignal): Promise<void> {
  try {
    const res = await fetch(channelUrl, { method: 'DELETE', ...(signal === undefined ? {} : { signal }) })
    await res.arrayBuffer()
  } catch {}
}

/**
 * Segments of a channel in order from `from` (-1: the live edge). A segment no longer
 * available is skipped to the latest. Ends when the channel is closed or gone (404).
 * `requireChannel`: a 404 before the first segment is TRICKLE_ERROR_NOT_FOUND (a user
 * who subscribed to a stream that does not exist, or already ended, learns it), not an
 * empty stream.
 */
export async function * trickleSubscribe (channelUrl: string, options: { from?: number, signal?: AbortSignal, headers?: Record<string, string>, requireChannel?: boolean } = {}): AsyncGenerator<TrickleSegmentRead> {
  let seq = options.from ?? -1
  let read = 0
  while (true) {
    options.signal?.throwIfAborted()
    const res = await fetch(`${channelUrl}/${seq}`, { ...(options.signal === undefined ? {} : { signal: options.signal }), ...(options.headers === undefined ? {} : { headers: options.headers }) })
    if (res.status === 404) {
      const text = await res.text().catch(() => '')
      if (read === 0 && options.requireChannel === true) throw new TrickleError('TRICKLE_ERROR_NOT_FOUND', `subscribe ${channelUrl}/${seq}: 404 ${text}`, { status: 404 })
      return
    }
    if (res.status === STATUS_SEGMENT_GONE) {
      await res.arrayBuffer().catch(() => {})
      const latest = Number(res.headers.get(TRICKLE_LATEST) ?? '-1')
      seq = latest >= 0 && latest >= seq ? latest : -1
      continue
    }
    if (res.status !== 200) {
      const text = await res.text().catch(() => '')
      throw new TrickleError('TRICKLE_ERROR_HTTP', `subscribe ${channelUrl}/${seq}: ${res.status} ${text}`, { status: res.status })
    }
    const effective = Number(res.headers.get(TRICKLE_SEQ) ?? String(seq))
    let data: Uint8Array
    try {
      data = new Uint8Array(await res.arrayBuffer())
    } catch (err) {
      // the publisher failed mid-segment: skip it
      if (options.signal?.aborted === true) throw err
      seq = effective + 1
      continue
    }
    read++
    yield { seq: effective, data }
    seq = effective + 1
  }
}
