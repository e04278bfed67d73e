/**
 * The orchestrator's side of custom capability stream sessions: it accepts
 * `/shoal/stream/1.0.0` sessions for the capabilities declared `streaming`, holds one of
 * the capability's slots for each, and speaks a small HTTP contract with the app:
 * `POST /stream/start?stream_id=ID` with the params as a JSON body answers a long-running
 * body of data messages (SSE events or lines), relayed to the gateway as they come;
 * `POST /stream/update?stream_id=ID` takes new params, its answer relayed back; the
 * session stops by closing the start request. It bills the time the session holds the
 * app, by the interval: every `paymentIntervalMs` it debits the milliseconds elapsed at
 * the capability's price per second from the gateway's credit (the price per request once,
 * when the app has started) and tells the gateway its balance and the milliseconds billed;
 * a credit that does not cover the next interval ends the session.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Connection, Stream } from '@libp2p/interface'
import type { CustomCapability } from '../../inference/custom/config.js'
import type { RunnerLease } from '../../inference/managers/index.js'
import { feeFor } from '../../kernel/billing.js'
import type { InferenceJob, RunnerResponse } from '../../kernel/job.js'
import { JobError } from '../../kernel/job-outcome.js'
import { modelKey } from '../../kernel/model-key.js'
import { encodeQuotePayment } from '../../payments/job-payment.js'
import type { PaymentRecipient } from '../../payments/index.js'
import { LiveChannel, type LiveCloseCode, type LiveMessage } from '../../protocols/live/index.js'
import { DEFAULT_MAX_STREAM_SESSIONS, DEFAULT_STREAM_PAYMENT_INTERVAL_MS, parseStreamUpdate, STREAM_LIMITS, STREAM_PROTOCOL, type StreamEvent } from '../../protocols/stream/index.js'
import type { WeiPrice } from '../offers.js'
import { createSessionPaymentAcceptor, SessionEnd, sessionEndOf } from '../session-payments.js'
import { acquireSessionLease, readSessionStart, writeSessionStarted, type SessionService, type SessionServiceComponents } from '../session-service.js'
import { dataMessages } from './data.js'
import type { StreamOrchestratorMetrics } from './metrics.js'
import { anySignal } from '../../signals/any-signal.js'

export interface StreamOrchestratorOptions {
  /** sessions at once over this protocol */
  maxSessions: number
  /** how often compute time is debited and the balance sent */
  paymentIntervalMs: number
  /** how long the gateway has to send its start and its first payment */
  startTimeoutMs: number
  /** how long the app has to answer a params update */
  updateTimeoutMs: number
}

export const defaultStreamOrchestratorOptions: StreamOrchestratorOptions = {
  maxSessions: DEFAULT_MAX_STREAM_SESSIONS,
  paymentIntervalMs: DEFAULT_STREAM_PAYMENT_INTERVAL_MS,
  startTimeoutMs: 10_000,
  updateTimeoutMs: 15_000
}

export interface StreamOrchestratorComponents extends SessionServiceComponents<StreamOrchestratorMetrics, StreamOrchestratorOptions> {
  /** the declared custom capabilities; only `streaming` ones are served */
  capabilities: readonly CustomCapability[]
}

export type StreamOrchestrator = SessionService

const PIPELINE = 'custom'
/** the app's paths; `stream_id` in the query */
export const APP_START_PATH = '/stream/start'
export const APP_UPDATE_PATH = '/stream/update'

/** The start of a body as text, at most `max` bytes read (the rest dropped). */
async function head (body: AsyncIterable<Uint8Array>, max: number): Promise<string> {
  const parts: Uint8Array[] = []
  let size = 0
  const iterator = body[Symbol.asyncIterator]()
  try {
    for (let next = await iterator.next(); next.done !== true && size < max; next = await iterator.next()) {
      parts.push(next.value)
      size += next.value.byteLength
    }
  } finally {
    await iterator.return?.()
  }
  return Buffer.concat(parts).subarray(0, max).toString('utf8')
}

function jsonJob (name: string, path: string, timeoutMs: number, params: unknown): InferenceJob {
  return {
    pipeline: PIPELINE,
    modelId: name,
    params: { path, timeout_ms: timeoutMs },
    inputs: [{ field: 'body', filename: 'body', contentType: 'application/json', data: Buffer.from(JSON.stringify(params)) }]
  }
}

export function createStreamOrchestrator (components: StreamOrchestratorComponents): StreamOrchestrator {
  const { registrar, manager, prices, recipient, metrics } = components
  const options = { ...defaultStreamOrchestratorOptions, ...components.options }
  const logger = components.logger.child({ component: 'stream' })
  const streaming = new Map(components.capabilities.filter(c => c.streaming).map(c => [c.name, c]))
  const running = new Set<AbortController>()
  // called only where the orchestrator is paid (recipient set)
  const acceptPayment = createSessionPaymentAcceptor(recipient as PaymentRecipient)

  async function serve (stream: Stream, connection: Connection): Promise<void> {
    const channel = new LiveChannel(stream)
    const peer = connection.remotePeer.toString()
    const controller = new AbortController()
    const signal = controller.signal
    running.add(controller)
    let lease: RunnerLease | undefined
    let log = logger.child({ peer })
    let outcome: LiveCloseCode = 'OK'
    let counted = false
    /** the app's start request: aborted to stop the app's session */
    const app = new AbortController()
    /** compute time billed, and how to bill the rest (set once the app has started) */
    let billFinal: (() => Promise<void>) | undefined
    try {
      if (running.size > options.maxSessions) throw new SessionEnd('INSUFFICIENT_CAPACITY', `at most ${options.maxSessions} stream sessions`)
      const start = await readSessionStart(channel, signal, options.startTimeoutMs)
      log = log.child({ job: start.requestId, stream: start.streamId, capability: start.modelId })
      if (start.pipeline !== PIPELINE) throw new SessionEnd('UNSUPPORTED', `this protocol serves custom capabilities, not ${start.pipeline}`)
      const capability = streaming.get(start.modelId)
      if (capability === undefined) throw new SessionEnd('UNSUPPORTED', `custom capability ${start.modelId} does not serve stream sessions here`)
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(start.streamId)) throw new SessionEnd('BAD_REQUEST', 'a stream id is 1-128 letters, digits, _ . - (starting with a letter or digit)')
      const price: WeiPrice | undefined = prices.get(modelKey({ pipeline: PIPELINE, modelId: capability.name }))

      // payment: the gateway's address bound to its peer id, and credit for the price per
      // request and one interval before the app starts
      let sender: string | undefined
      if (recipient !== undefined) {
        if (price === undefined) throw new SessionEnd('UNSUPPORTED', `custom capability ${capability.name} has no price here`)
        sender = await acceptPayment(peer, start.payment, signal)
        const need = (price.pricePerRequest ?? 0n) + feeFor(BigInt(options.paymentIntervalMs), price)
        const deadline = anySignal([signal, AbortSignal.timeout(options.startTimeoutMs)])
        while (recipient.balance(sender) < need) {
          const params = await recipient.ticketParams(sender, { signal })
          await channel.write({ type: 'payment', payment: { quote: encodeQuotePayment(params), balance: recipient.balance(sender).toString(), pixels: 0 } }, { signal })
          const next = await channel.read({ signal: deadline }).catch(() => { throw new SessionEnd('PAYMENT_REQUIRED', `no payment covering ${need.toString()} wei (the price per request and ${options.paymentIntervalMs} ms) from ${sender} within ${options.startTimeoutMs} ms`) })
          if (next.type === 'close') throw new SessionEnd('OK', `the gateway closed the session: ${next.close.message}`)
          if (next.type !== 'payment') throw new SessionEnd('PAYMENT_REQUIRED', `expected a payment before any ${next.type}`)
          await acceptPayment(peer, next.payment.payment, signal)
        }
      }

      lease = await acquireSessionLease(manager, PIPELINE, capability.name, signal)
      const held = lease
      const query = `?stream_id=${encodeURIComponent(start.streamId)}`
      let response: RunnerResponse
      try {
        // the capability's timeout is the longest a session runs
        response = await held.client.run(jsonJob(capability.name, APP_START_PATH + query, capability.timeoutMs, JSON.parse(start.params)), { signal: anySignal([signal, app.signal]) })
      } catch (err) {
        throw new SessionEnd('RUNNER_FAILURE', `the app did not start the session: ${(err as Error).message}`)
      }
      if (response.status < 200 || response.status >= 300) {
        const text = await head(response.body, STREAM_LIMITS.maxUpdateBodyBytes).catch(() => '')
        throw new SessionEnd(response.status >= 400 && response.status < 500 ? 'BAD_REQUEST' : 'RUNNER_FAILURE', `the app answered ${response.status} to ${APP_START_PATH}: ${text.slice(0, 300)}`)
      }

      // billed from here: the app runs the session
      const startedAt = performance.now()
      let billedMs = 0
      if (recipient !== undefined && sender !== undefined && price?.pricePerRequest !== undefined) recipient.debit(sender, price.pricePerRequest)
      /** Debits the milliseconds since the last debit; false when the credit did not cover them (what was left is taken). */
      const bill = (): boolean => {
        const total = Math.ceil(performance.now() - startedAt)
        const delta = total - billedMs
        if (delta <= 0) return true
        billedMs = total
        metrics?.computeMs.inc(delta)
        if (recipient === undefined || sender === undefined || price === undefined) return true
        const fee = feeFor(BigInt(delta), price)
        const balance = recipient.balance(sender)
        recipient.debit(sender, fee <= balance ? fee : balance > 0n ? balance : 0n)
        return fee <= balance
      }
      const balanceFrame = async (withQuote: boolean, frameSignal?: AbortSignal): Promise<void> => {
        const balance = recipient !== undefined && sender !== undefined ? recipient.balance(sender) : 0n
        const quote = withQuote && recipient !== undefined && sender !== undefined ? encodeQuotePayment(await recipient.ticketParams(sender, { signal }).catch(() => null)) : undefined
        await channel.write({ type: 'payment', payment: { balance: balance.toString(), pixels: billedMs, ...(quote === undefined ? {} : { quote }) } }, frameSignal === undefined ? {} : { signal: frameSignal })
      }
      billFinal = async () => {
        bill()
        if (channel.open) await balanceFrame(false, AbortSignal.timeout(1_000)).catch(() => {})
      }

      await writeSessionStarted(channel, { price, paymentIntervalMs: options.paymentIntervalMs, recipient, sender }, signal)
      const started: StreamEvent = { type: 'started', content_type: response.contentType.slice(0, 256) }
      await channel.write({ type: 'event', event: { json: JSON.stringify(started) } }, { signal })
      metrics?.sessions.inc()
      counted = true
      log.info({ runner: held.client.url }, 'stream session started')

      const ended = new AbortController()
      const stopAll = anySignal([signal, ended.signal])

      const dataLoop = async (): Promise<never> => {
        let seq = 0
        try {
          for await (const message of dataMessages(response.body, /^text\/event-stream\b/i.test(response.contentType), STREAM_LIMITS.maxDataBytes)) {
            await channel.write({ type: 'output', segment: { seq: seq++, data: message as Uint8Array<ArrayBuffer>, width: 0, height: 0, frames: 0 } }, { signal: stopAll })
            metrics?.messages.inc()
          }
        } catch (err) {
          if (stopAll.aborted) throw err
          if (err instanceof JobError && err.outcome === 'DEADLINE_EXCEEDED') throw new SessionEnd('OK', `the session's time limit of ${capability.timeoutMs} ms passed (the capability's timeout)`)
          throw new SessionEnd('RUNNER_FAILURE', `the app's stream failed: ${(err as Error).message}`)
        }
        throw new SessionEnd('OK', 'the app ended the stream')
      }

      // updates one at a time, in order, each answered by an event naming it
      let updates: Promise<void> = Promise.resolve()
      const update = async (json: string): Promise<void> => {
        const parsed = parseStreamUpdate(json)
        if (typeof parsed === 'string') throw new SessionEnd('BAD_REQUEST', parsed)
        let reply: StreamEvent
        try {
          const answer = await held.client.run(jsonJob(capability.name, APP_UPDATE_PATH + query, options.updateTimeoutMs, parsed.params), { signal: anySignal([stopAll, AbortSignal.timeout(options.updateTimeoutMs)]) })
          reply = { type: 'update', update_id: parsed.update_id, status: answer.status, content_type: answer.contentType.slice(0, 256), body: await head(answer.body, STREAM_LIMITS.maxUpdateBodyBytes) }
        } catch (err) {
          if (stopAll.aborted) return
          reply = { type: 'update', update_id: parsed.update_id, status: 502, content_type: 'application/json', body: JSON.stringify({ error: { message: `the app did not take the update: ${(err as Error).message}`.slice(0, 1000) } }) }
        }
        metrics?.updates.inc({ result: reply.status >= 200 && reply.status < 300 ? 'ok' : 'refused' })
        // the body may have been cut inside a character: the event stays valid JSON within the limit
        while (Buffer.byteLength(reply.body) > STREAM_LIMITS.maxUpdateBodyBytes) reply.body = reply.body.slice(0, -1)
        await channel.write({ type: 'event', event: { json: JSON.stringify(reply) } }, { signal: stopAll })
      }

      const readLoop = async (): Promise<never> => {
        while (true) {
          let message: LiveMessage
          try {
            message = await channel.read({ signal: stopAll })
          } catch (err) {
            if (stopAll.aborted) throw err
            throw new SessionEnd('OK', `the gateway went away: ${(err as Error).message}`)
          }
          if (message.type === 'control') {
            const json = message.control.params
            updates = updates.then(async () => { await update(json) }).catch((err: unknown) => { if (err instanceof SessionEnd) ended.abort(err) })
          } else if (message.type === 'payment') {
            if (recipient !== undefined && sender !== undefined) await acceptPayment(peer, message.payment.payment, stopAll)
          } else if (message.type === 'close') {
            throw new SessionEnd('OK', `the gateway closed the session: ${message.close.message}`)
          } else {
            throw new SessionEnd('BAD_REQUEST', `unexpected ${message.type} frame on a stream session`)
          }
        }
      }

      const paymentLoop = async (): Promise<never> => {
        while (true) {
          await sleep(options.paymentIntervalMs, undefined, { signal: stopAll })
          if (!bill()) throw new SessionEnd('PAYMENT_REQUIRED', `credit spent: the balance did not cover the last ${options.paymentIntervalMs} ms`)
          await balanceFrame(true, stopAll)
        }
      }

      const aborted = new Promise<never>((_resolve, reject) => {
        const onEnd = (): void => { reject(ended.signal.reason) }
        if (ended.signal.aborted) onEnd()
        else ended.signal.addEventListener('abort', onEnd, { once: true })
      })
      const loops = [dataLoop(), readLoop(), paymentLoop(), aborted]
      try {
        await Promise.race(loops)
      } finally {
        ended.abort()
        app.abort()
        await Promise.allSettled(loops)
      }
    } catch (err) {
      const end = sessionEndOf(err, signal.aborted)
      outcome = end.code
      if (end.code === 'OK') log.info({ reason: end.message }, 'stream session ended')
      else log.info({ code: end.code, reason: end.message }, 'stream session closed')
      // what the session ran is billed and reported before the close
      app.abort()
      await billFinal?.()
      if (channel.open) await channel.write({ type: 'close', close: { code: end.code, message: end.message.slice(0, 4000) } }).catch(() => {})
    } finally {
      app.abort()
      lease?.release()
      running.delete(controller)
      if (counted) metrics?.sessions.dec()
      metrics?.sessionsEnded.inc({ outcome })
      await channel.close()
    }
  }

  return {
    async start () {
      if (streaming.size === 0) return
      await registrar.handle(STREAM_PROTOCOL, (stream, connection) => { void serve(stream, connection) }, {
        maxInboundStreams: options.maxSessions + 8,
        runOnLimitedConnection: false
      })
    },
    async stop () {
      if (streaming.size > 0) await registrar.unhandle(STREAM_PROTOCOL)
      for (const c of running) c.abort(new Error('the orchestrator is stopping'))
    },
    get sessions () { return running.size }
  }
}
