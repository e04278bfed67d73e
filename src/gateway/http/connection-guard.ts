import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Logger } from '../../observability/logger.js'
import { ApiError, BadRequestError, HeadersTooLargeError, RequestTimeoutError } from './errors.js'

/** How long a connection refused mid-body is still read (and discarded) so the answer reaches the client before the close. */
export const REFUSED_BODY_LINGER_MS = 1_000

/** The bytes of a complete HTTP/1.1 answer carrying `error` in the JSON error shape, closing the connection. */
export function rawErrorResponse (error: ApiError, extraHeaders: Record<string, string> = {}): string {
  const body = JSON.stringify(error.toBody())
  const headers = {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    Connection: 'close',
    ...extraHeaders
  }
  return `HTTP/1.1 ${error.statusCode} ${STATUS_CODES[error.statusCode] ?? 'Error'}\r\n` +
    Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n' + body
}

/** Node's parser errors (and its request timeout) as the answer they get. */
export function clientErrorToApiError (err: NodeJS.ErrnoException, maxHeaderBytes: number): ApiError | undefined {
  switch (err.code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return undefined
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new RequestTimeoutError('the request did not arrive in time', { timeout: 'requestTimeoutMs/headersTimeoutMs' })
    case 'HPE_HEADER_OVERFLOW':
      return new HeadersTooLargeError(maxHeaderBytes)
    default:
      return new BadRequestError(`malformed HTTP request${typeof err.code === 'string' && err.code.startsWith('HPE_') ? ` (${err.code})` : ''}`)
  }
}

/**
 * The server's `clientError` handler: what Node's HTTP parser refuses (bad request line,
 * oversized or malformed headers, a request that did not arrive within the timeouts) is
 * answered in the JSON error shape, not Node's plain-text 400/408/431, and the
 * connection closed.
 */
export function createClientErrorHandler (maxHeaderBytes: number, logger: Logger, onError: (status: number) => void) {
  return (err: NodeJS.ErrnoException, socket: Socket): void => {
    const apiError = clientErrorToApiError(err, maxHeaderBytes)
    // an answer already started on this connection cannot take another
    const inProgress = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage
    if (apiError !== undefined && socket.writable && (inProgress === undefined || inProgress === null || !inProgress.headersSent)) {
      onError(apiError.statusCode)
      logger.debug({ code: err.code, status: apiError.statusCode }, 'client error')
      socket.end(rawErrorResponse(apiError))
      // a client that never reads must not hold the socket
      setTimeout(() => socket.destroy(), REFUSED_BODY_LINGER_MS).unref()
      return
    }
    socket.destroy()
  }
}

export interface BodyRate {
  /** the body must be complete before this, or show this rate on average, ms */
  bodyTimeoutMs: number
  bodyMinBytesPerSecond: number
}

/**
 * Watches a request's body arrive (by the socket's byte count, so the body stream is left
 * alone) and calls `cut` when it stalls for `bodyTimeoutMs` or, after `bodyTimeoutMs`,
 * averages under `bodyMinBytesPerSecond`: a body sent a byte every few seconds, or a
 * chunked body never finished, is cut long before Node's whole-request timeout.
 * Returns a stop function; it also stops itself when the body is complete.
 */
export function watchBodyRate (raw: IncomingMessage, rate: BodyRate, cut: (reason: string) => void, now: () => number = Date.now): () => void {
  const socket = raw.socket
  const start = now()
  const startBytes = socket.bytesRead
  let lastBytes = startBytes
  let lastProgress = start
  const timer = setInterval(() => {
    if (raw.complete || socket.destroyed) { stop(); return }
    const t = now()
    const bytes = socket.bytesRead
    if (bytes > lastBytes) {
      lastBytes = bytes
      lastProgress = t
    }
    const elapsed = t - start
    if (t - lastProgress > rate.bodyTimeoutMs) {
      stop()
      cut(`no request body bytes for ${rate.bodyTimeoutMs} ms (bodyTimeoutMs)`)
    } else if (elapsed > rate.bodyTimeoutMs && (bytes - startBytes) * 1000 / elapsed < rate.bodyMinBytesPerSecond) {
      stop()
      cut(`request body slower than ${rate.bodyMinBytesPerSecond} bytes/s (bodyMinBytesPerSecond)`)
    }
  }, Math.max(20, Math.min(1_000, Math.floor(rate.bodyTimeoutMs / 4))))
  timer.unref()
  const stop = (): void => { clearInterval(timer) }
  raw.once('end', stop)
  raw.once('close', stop)
  return stop
}

/**
 * Answers a request whose body is not (all) read yet, then closes its connection: the
 * answer goes straight onto the socket (Node's own response would destroy the socket as
 * soon as it is written, and a client still uploading would see a reset instead of the
 * answer), the rest of the body is read and thrown away for at most
 * `REFUSED_BODY_LINGER_MS`, then the connection is ended whatever the client does.
 */
export function answerAndClose (raw: IncomingMessage, error: ApiError, headers: Record<string, string> = {}): void {
  const socket = raw.socket
  if (socket.destroyed || !socket.writable) { socket.destroy(); return }
  socket.write(rawErrorResponse(error, headers))
  // busboy or a body parser may still hold the stream: the rest goes nowhere
  raw.unpipe()
  raw.removeAllListeners('data')
  raw.resume()
  const destroy = setTimeout(() => socket.destroy(), REFUSED_BODY_LINGER_MS)
  destroy.unref()
  const end = (): void => {
    socket.end()
  }
  if (raw.complete) end()
  else raw.once('end', end)
  socket.once('close', () => { clearTimeout(destroy) })
}
