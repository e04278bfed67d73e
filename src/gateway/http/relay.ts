/**
 * Relays a runner's answer to the HTTP client, for the pipeline routes and the custom
 * capability routes alike: the status (502 for one that is not HTTP), the content type,
 * and the body. A short answer is held before the headers go out, so a failure can still
 * become an error status and what is known only after the last byte (the signed
 * receipt; a custom answer's cost) can go in headers; a longer one and Server-Sent
 * Events are relayed chunk by chunk, the late facts then as trailers.
 */
import { Readable } from 'node:stream'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { RunnerResponse } from '../../kernel/job.js'
import { JobError } from '../../kernel/job-outcome.js'
import { receiptHeaderValue } from '../../trust/receipts/index.js'
import { isAttested } from '../verification/receipts.js'
import { RequestTimeoutError } from './errors.js'
import { SHOAL_HEADERS } from './headers.js'
import { mediaType } from './read-request.js'

/** An answer with a signed receipt is held up to this before its headers go out, so the receipt can be one of them. */
export const RECEIPT_HEADER_BUFFER_BYTES = 4 * 1024 * 1024
/** Chunks of an answer without a receipt held before its headers go out: most non-streamed results are one. */
const HELD_CHUNKS = 2

export interface RelayOptions {
  /**
   * Facts known after the last byte (a custom answer's compute time and charge): headers
   * when the whole answer was held (awaited at most `waitMs`), else trailers named
   * `names` (a fact not known is sent empty).
   */
  late?: { names: readonly string[], facts: () => Promise<Record<string, string>>, waitMs: number }
  /**
   * The trailer that says why a streamed answer ended early (`timeout: <message>`). With
   * it, the request's own timeout is a 408 before the headers went out and, after them,
   * a clean end with this trailer (SSE: an error event); without it a timeout after the
   * headers cuts a non-SSE body as any failure does.
   */
  errorTrailer?: string
  /**
   * Hold an answer with a signed receipt up to `RECEIPT_HEADER_BUFFER_BYTES` so the
   * receipt can be a header (the pipelines). Off: it is held as any other answer, and the
   * receipt is a header only when the whole answer fit in that (custom capabilities,
   * whose chunked answers must stream). @default true
   */
  holdForReceipt?: boolean
}

const encoder = new TextEncoder()

/** The job's own deadline passed (the orchestrator's Final DEADLINE_EXCEEDED, or the gateway's). */
function isTimeout (err: unknown): err is JobError {
  return err instanceof JobError && err.outcome === 'DEADLINE_EXCEEDED'
}

/** `promise`'s value, or `fallback` after `ms`. */
async function within<T> (promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([promise, new Promise<T>(resolve => { timer = setTimeout(() => { resolve(fallback) }, ms) })])
  } finally {
    clearTimeout(timer)
  }
}

function sseError (error: Record<string, string>): Uint8Array {
  return encoder.encode(`data: ${JSON.stringify({ error })}\n\n`)
}

export async function relay (response: RunnerResponse, request: FastifyRequest, reply: FastifyReply, options: RelayOptions = {}): Promise<FastifyReply> {
  const { late, errorTrailer, holdForReceipt = true } = options
  const status = Number.isInteger(response.status) && response.status >= 200 && response.status < 600 ? response.status : 502
  const sse = mediaType(response.contentType) === 'text/event-stream'
  void reply.code(status).header('content-type', response.contentType === '' ? 'application/octet-stream' : response.contentType)
  if (sse) void reply.header('cache-control', 'no-cache').header('x-accel-buffering', 'no')
  const body = response.body[Symbol.asyncIterator]()
  const head: Uint8Array[] = []
  const attested = isAttested(response)
  if (!sse) {
    // before the headers go out a failure (a refused receipt too) can still become a
    // proper error status; an answer with a signed receipt is held up to a bound so
    // that the receipt, which follows the last byte, can go in a header
    let held = 0
    while (true) {
      let next: IteratorResult<Uint8Array>
      try {
        next = await body.next()
      } catch (err) {
        if (errorTrailer !== undefined && isTimeout(err)) throw new RequestTimeoutError(err.message, { phase: 'answer' })
        throw err
      }
      if (next.done === true) {
        // the whole answer is here: its Final (receipt, cost) follows at once
        const [receipt, facts] = await Promise.all([
          attested ? response.receipt : undefined,
          late === undefined ? {} : within(late.facts().catch(() => ({})), late.waitMs, {})
        ])
        if (receipt !== undefined) void reply.header(SHOAL_HEADERS.receipt, receiptHeaderValue(receipt.signed))
        for (const [name, value] of Object.entries(facts)) void reply.header(name, value)
        const only = head[0]
        return await reply.send(head.length === 0 ? Buffer.alloc(0) : head.length === 1 && only !== undefined ? Buffer.from(only.buffer, only.byteOffset, only.byteLength) : Buffer.concat(head))
      }
      head.push(next.value)
      held += next.value.byteLength
      if (attested && holdForReceipt ? held > RECEIPT_HEADER_BUFFER_BYTES : head.length >= HELD_CHUNKS) break
    }
  }
  // streamed: the late facts are known only after the last byte
  let ended: string | undefined
  if (late !== undefined) {
    let facts: Promise<Record<string, string>> | undefined
    const factsLater = async (): Promise<Record<string, string>> => await (facts ??= late.facts().catch(() => ({})))
    for (const name of late.names) void reply.trailer(name, async () => (await factsLater())[name] ?? '')
  }
  if (errorTrailer !== undefined) void reply.trailer(errorTrailer, async () => ended ?? '')
  async function * chunks (): AsyncGenerator<Uint8Array> {
    try {
      yield * head
      for (let next = await body.next(); next.done !== true; next = await body.next()) yield next.value
    } catch (err) {
      // the client left: nothing to tell it
      if (reply.raw.destroyed) return
      const timeout = isTimeout(err)
      request.log.warn({ err, timeout }, 'runner answer failed mid-stream')
      if (timeout && (sse || errorTrailer !== undefined)) {
        // the answer so far is real: it ends, saying why (an SSE event, a trailer)
        ended = `timeout: ${err.message}`
        if (sse) yield sseError({ code: 'timeout', message: err.message })
        return
      }
      // SSE clients get a final error event as the reference sends; others a cut body
      if (!sse) throw err
      yield sseError({ message: 'stream interrupted' })
    } finally {
      await body.return?.()
    }
  }
  return await reply.send(Readable.from(chunks(), { objectMode: false }))
}
