/**
 * Trickle over HTTP, the reference's routes under a base path:
 * `POST /<channel>` creates, `POST /<channel>/<seq>` publishes (body streamed),
 * `GET /<channel>/<seq>` subscribes (`-1`: live edge), `GET /<channel>/next` gives the next
 * seq, `DELETE /<channel>` closes. 404: no channel (with `Lp-Trickle-Closed` when it was
 * closed); 470: the channel exists, the segment does not.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { TrickleError } from './errors.js'
import type { TrickleStore } from './channel.js'
import { STATUS_SEGMENT_GONE, TRICKLE_CLOSED, TRICKLE_LATEST, TRICKLE_SEQ } from './headers.js'

export interface TrickleHttpOptions {
  /** a published segment larger than this is refused with 413 */
  maxSegmentBytes: number
  /** a publish whose first byte does not come within this is dropped, as the reference's 10 s */
  firstByteTimeoutMs: number
  /** content type of subscribed segments @default video/mp2t */
  contentType?: (channel: string) => string
}

function answer (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) { res.destroy(); return }
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers })
  res.end(body)
}

const SEQ = /^-?\d{1,15}$/

/**
 * Serves one trickle request; `path` is what follows the base path (`<channel>`,
 * `<channel>/<seq>`, `<channel>/next`), already URL-decoded. Resolves when answered.
 */
export async function handleTrickleRequest (store: TrickleStore, req: IncomingMessage, res: ServerResponse, path: string, options: TrickleHttpOptions): Promise<void> {
  const parts = path.split('/').filter(p => p !== '')
  if (parts.length === 0 || parts.length > 2) { answer(res, 404, 'no such channel'); return }
  const [name, rest] = parts
  const method = req.method ?? 'GET'
  const channel = store.get(name)

  if (method === 'POST' && rest === undefined) {
    try {
      store.create(name)
      answer(res, 200, '')
    } catch (err) {
      answer(res, 503, (err as Error).message)
    }
    return
  }
  if (method === 'DELETE') {
    if (rest === undefined) store.delete(name)
    answer(res, channel === undefined ? 404 : 200, '')
    return
  }
  if (channel === undefined || channel.closed) {
    answer(res, 404, 'no such channel', channel?.closed === true ? { [TRICKLE_CLOSED]: 'terminated' } : {})
    return
  }
  if (method === 'GET' && rest === 'next') {
    answer(res, 200, String(channel.latest + 1), { [TRICKLE_LATEST]: String(channel.latest) })
    return
  }
  if (rest === undefined || !SEQ.test(rest)) { answer(res, 400, 'the segment number must be an integer'); return }
  const seq = Number(rest)

  if (method === 'POST') {
    let segment
    try {
      segment = channel.publish(seq)
    } catch (err) {
      if (err instanceof TrickleError && err.code === 'TRICKLE_ERROR_SEQ_BEHIND') {
        answer(res, 400, err.message, { [TRICKLE_LATEST]: String(channel.latest) })
        return
      }
      answer(res, 404, (err as Error).message, { [TRICKLE_CLOSED]: 'terminated' })
      return
    }
    const declared = Number(req.headers['content-length'] ?? 0)
    if (declared > options.maxSegmentBytes) {
      segment.fail(new TrickleError('TRICKLE_ERROR_TOO_LARGE', 'segment too large'))
      answer(res, 413, `segment larger than ${options.maxSegmentBytes} bytes`, { connection: 'close' })
      req.resume()
      return
    }
    let received = 0
    let firstByte = false
    const timer = setTimeout(() => {
      if (!firstByte) req.destroy(new Error('no first byte'))
    }, options.firstByteTimeoutMs)
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        firstByte = true
        received += chunk.byteLength
        if (received > options.maxSegmentBytes) {
          segment.fail(new TrickleError('TRICKLE_ERROR_TOO_LARGE', 'segment too large'))
          answer(res, 413, `segment larger than ${options.maxSegmentBytes} bytes`, { connection: 'close' })
          req.destroy()
          return
        }
        segment.append(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
      }
      segment.finish()
      answer(res, 200, '', { [TRICKLE_SEQ]: String(segment.seq) })
    } catch (err) {
      segment.fail(err instanceof Error ? err : new Error(String(err)))
      if (!res.headersSent) answer(res, 400, 'publish aborted')
    } finally {
      clearTimeout(timer)
    }
    return
  }

  if (method !== 'GET') { answer(res, 405, 'method not allowed'); return }
  const controller = new AbortController()
  const onClose = (): void => { if (!res.writableFinished) controller.abort(new Error('subscriber gone')) }
  res.once('close', onClose)
  const release = channel.addSubscriber()
  try {
    const found = await channel.lookup(seq, controller.signal)
    if (found.kind === 'closed') { answer(res, 404, 'channel closed', { [TRICKLE_CLOSED]: 'terminated' }); return }
    if (found.kind === 'gone') { answer(res, STATUS_SEGMENT_GONE, 'segment not available', { [TRICKLE_LATEST]: String(found.latest) }); return }
    const segment = found.segment
    res.writeHead(200, {
      'content-type': options.contentType?.(name) ?? 'video/mp2t',
      [TRICKLE_SEQ]: String(segment.seq),
      [TRICKLE_LATEST]: String(channel.latest),
      'cache-control': 'no-cache'
    })
    for await (const chunk of segment.read(controller.signal)) {
      if (!res.write(chunk)) {
        await new Promise<void>((resolve) => { res.once('drain', resolve); res.once('close', resolve) })
      }
    }
    res.end()
  } catch {
    // the subscriber left or the publisher failed mid-segment: the reader sees a cut body
    res.destroy()
  } finally {
    release()
    res.off('close', onClose)
  }
}
