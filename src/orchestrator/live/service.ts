/**
 * The orchestrator's side of live video: it accepts `/shoal/live/1.0.0` sessions, is the
 * trickle server of its runners (HTTP on 127.0.0.1, random channel names per session)
 * and calls the runner's `POST /live-video-to-video` with the four channel URLs, as the
 * reference orchestrator does, so any runner that speaks that route (the CPU live runner,
 * a GPU ai-runner container) serves sessions. It relays input segments to the runner's
 * input channel (acknowledging each once the runner has read it: the gateway's segments
 * in flight), output segments and status events back, params to the control channel, and
 * charges pixels really delivered (width x height x frames of each output segment) to
 * the gateway's credit, closing the session when the credit runs out.
 */
import { randomUUID } from 'node:crypto'
import type { Connection, Stream } from '@libp2p/interface'
import type { RunnerLease } from '../../inference/managers/index.js'
import { feeFor } from '../../kernel/billing.js'
import { modelKey } from '../../kernel/model-key.js'
import { encodeQuotePayment } from '../../payments/job-payment.js'
import type { PaymentRecipient } from '../../payments/index.js'
import { DEFAULT_MAX_LIVE_STREAMS, DEFAULT_PAYMENT_INTERVAL_MS, LIVE_PROTOCOL, LiveChannel, type LiveCloseCode, type LiveMessage } from '../../protocols/live/index.js'
import { inspectSegment } from '../../protocols/live/mpegts.js'
import type { TrickleChannel } from '../../protocols/live/trickle/channel.js'
import { startTrickleServer, type TrickleServer } from '../../protocols/live/trickle/server.js'
import type { WeiPrice } from '../offers.js'
import { createSessionPaymentAcceptor, SessionEnd, sessionEndOf } from '../session-payments.js'
import { acquireSessionLease, readSessionStart, writeSessionStarted, type SessionService, type SessionServiceComponents } from '../session-service.js'
import type { LiveOrchestratorMetrics } from './metrics.js'
import { anySignal } from '../../signals/any-signal.js'

export const LIVE_PIPELINE = 'live-video-to-video'

export interface LiveOrchestratorOptions {
  /** sessions at once over this protocol */
  maxSessions: number
  /** how often the balance and fresh ticket params are sent, and payments expected */
  paymentIntervalMs: number
  /** how long the gateway has to send LiveStart */
  startTimeoutMs: number
}

export const defaultLiveOrchestratorOptions: LiveOrchestratorOptions = {
  maxSessions: DEFAULT_MAX_LIVE_STREAMS,
  paymentIntervalMs: DEFAULT_PAYMENT_INTERVAL_MS,
  startTimeoutMs: 10_000
}

export type LiveOrchestratorComponents = SessionServiceComponents<LiveOrchestratorMetrics, LiveOrchestratorOptions>

export interface LiveOrchestrator extends SessionService {
  /** the trickle server of its runners (once started) */
  readonly trickleUrl: string | undefined
}

export function createLiveOrchestrator (components: LiveOrchestratorComponents): LiveOrchestrator {
  const { registrar, manager, prices, recipient, metrics } = components
  const options = { ...defaultLiveOrchestratorOptions, ...components.options }
  const logger = components.logger.child({ component: 'live' })
  const running = new Set<AbortController>()
  let trickle: TrickleServer | undefined
  // called only where the orchestrator is paid (recipient set)
  const acceptPayment = createSessionPaymentAcceptor(recipient as PaymentRecipient, {
    onAccepted: (peer, credited, balance) => {
      metrics?.payments.inc({ result: 'accepted' })
      logger.debug({ peer, credited: credited.toString(), balance: balance.toString() }, 'live tickets received')
    },
    onRefused: () => { metrics?.payments.inc({ result: 'refused' }) }
  })

  function priceOf (modelId: string): WeiPrice | undefined {
    return prices.get(modelKey({ pipeline: LIVE_PIPELINE, modelId }))
  }

  async function serve (stream: Stream, connection: Connection): Promise<void> {
    const channel = new LiveChannel(stream)
    const peer = connection.remotePeer.toString()
    const controller = new AbortController()
    const signal = controller.signal
    running.add(controller)
    let lease: RunnerLease | undefined
    const names: string[] = []
    let log = logger.child({ peer })
    let outcome: LiveCloseCode = 'OK'
    const startedAt = performance.now()
    try {
      if (running.size > options.maxSessions) throw new SessionEnd('INSUFFICIENT_CAPACITY', `at most ${options.maxSessions} live sessions`)
      const start = await readSessionStart(channel, signal, options.startTimeoutMs)
      log = log.child({ job: start.requestId, stream: start.streamId, model: start.modelId })
      if (start.pipeline !== LIVE_PIPELINE) throw new SessionEnd('UNSUPPORTED', `this protocol serves ${LIVE_PIPELINE}, not ${start.pipeline}`)
      const served = manager.capabilities().find(c => c.pipeline === LIVE_PIPELINE && c.modelId === start.modelId)
      if (served === undefined) throw new SessionEnd('UNSUPPORTED', `${LIVE_PIPELINE} ${start.modelId} is not served here`)
      const price = priceOf(start.modelId)

      // payment: the gateway's address bound to its peer id, and credit before anything runs
      let sender: string | undefined
      if (recipient !== undefined) {
        if (price === undefined) throw new SessionEnd('UNSUPPORTED', `${LIVE_PIPELINE} ${start.modelId} has no price here`)
        sender = await acceptPayment(peer, start.payment, signal)
        // ticket params and the gateway's credit here, every session: it prepays before any runner
        // work (from that credit when it covers the prepayment, so a gateway back after running its
        // credit down is not refused at its first segment)
        const params = await recipient.ticketParams(sender, { signal })
        await channel.write({ type: 'payment', payment: { quote: encodeQuotePayment(params), balance: recipient.balance(sender).toString(), pixels: 0 } }, { signal })
        const deadline = anySignal([signal, AbortSignal.timeout(options.startTimeoutMs)])
        do {
          const next = await channel.read({ signal: deadline }).catch(() => { throw new SessionEnd('PAYMENT_REQUIRED', `no payment from ${sender} within ${options.startTimeoutMs} ms`) })
          if (next.type === 'close') throw new SessionEnd('OK', `the gateway closed the session: ${next.close.message}`)
          if (next.type !== 'payment') throw new SessionEnd('PAYMENT_REQUIRED', `expected a payment before any ${next.type}`)
          await acceptPayment(peer, next.payment.payment, signal)
        } while (recipient.balance(sender) <= 0n)
      }

      lease = await acquireSessionLease(manager, LIVE_PIPELINE, start.modelId, signal)
      trickle ??= await startTrickleServer()
      const server = trickle
      const id = randomUUID()
      const channels: Record<'in' | 'out' | 'control' | 'events', TrickleChannel> = {
        in: server.store.create(`${id}-in`),
        out: server.store.create(`${id}-out`),
        control: server.store.create(`${id}-control`),
        events: server.store.create(`${id}-events`)
      }
      names.push(...Object.values(channels).map(c => c.name))
      const response = await lease.client.run({
        pipeline: LIVE_PIPELINE,
        modelId: start.modelId,
        params: {
          subscribe_url: server.channelUrl(channels.in.name),
          publish_url: server.channelUrl(channels.out.name),
          control_url: server.channelUrl(channels.control.name),
          events_url: server.channelUrl(channels.events.name),
          params: JSON.parse(start.params),
          stream_id: start.streamId,
          gateway_request_id: start.requestId
        },
        inputs: []
      }, { signal })
      const body: Uint8Array[] = []
      for await (const chunk of response.body) body.push(chunk)
      if (response.status !== 200) throw new SessionEnd(response.status === 400 || response.status === 422 ? 'BAD_REQUEST' : 'RUNNER_FAILURE', `the runner answered ${response.status}: ${Buffer.concat(body).toString('utf8').slice(0, 300)}`)

      await writeSessionStarted(channel, { price, paymentIntervalMs: options.paymentIntervalMs, recipient, sender }, signal)
      metrics?.sessions.inc()
      log.info({ runner: lease.client.url }, 'live session started')

      let pixels = 0
      let firstOutput = true
      const ended = new AbortController()
      const stopAll = anySignal([signal, ended.signal])

      const readLoop = async (): Promise<void> => {
        let controlSeq = 0
        // the runner's input channel is numbered from 0 on every session, whatever the gateway's seq
        // (after a swap the gateway continues its own numbering): the runner starts at segment 0
        let inSeq = 0
        while (true) {
          let message: LiveMessage
          try {
            message = await channel.read({ signal: stopAll })
          } catch (err) {
            if (stopAll.aborted) return
            throw new SessionEnd('OK', `the gateway went away: ${(err as Error).message}`)
          }
          if (message.type === 'input') {
            const segment = channels.in.publish(inSeq++)
            const seq = message.segment.seq
            // read by the runner: one segment fewer in flight at the gateway
            segment.onRead = () => { void channel.write({ type: 'ack', ack: { seq } }).catch(() => {}) }
            segment.append(message.segment.data)
            segment.finish()
            metrics?.segments.inc({ direction: 'in' })
            metrics?.bytes.inc({ direction: 'in' }, message.segment.data.byteLength)
          } else if (message.type === 'control') {
            const segment = channels.control.publish(controlSeq++)
            segment.append(Buffer.from(message.control.params))
            segment.finish()
          } else if (message.type === 'payment') {
            if (recipient === undefined || sender === undefined) continue
            await acceptPayment(peer, message.payment.payment, stopAll)
          } else if (message.type === 'close') {
            throw new SessionEnd('OK', `the gateway closed the session: ${message.close.message}`)
          } else {
            throw new SessionEnd('BAD_REQUEST', `unexpected ${message.type} frame`)
          }
        }
      }

      const outputLoop = async (): Promise<void> => {
        let seq = 0
        while (true) {
          const found = await channels.out.lookup(seq, stopAll)
          if (found.kind === 'closed') throw new SessionEnd('OK', 'the runner ended the stream')
          if (found.kind === 'gone') { seq = Math.max(found.latest, seq + 1); continue }
          const data = await found.segment.bytesWhenDone(stopAll)
          seq = found.segment.seq + 1
          if (found.segment.failed || data.byteLength === 0) continue
          const info = inspectSegment(data)
          const segmentPixels = info === undefined ? 0 : info.width * info.height * info.frames
          if (recipient !== undefined && sender !== undefined && price !== undefined) {
            const fee = feeFor(BigInt(segmentPixels), price)
            if (recipient.balance(sender) < fee) throw new SessionEnd('PAYMENT_REQUIRED', `credit spent: balance ${recipient.balance(sender).toString()} wei does not cover ${fee.toString()} wei for the next segment`)
            recipient.debit(sender, fee)
          }
          pixels += segmentPixels
          metrics?.pixels.inc(segmentPixels)
          metrics?.segments.inc({ direction: 'out' })
          metrics?.bytes.inc({ direction: 'out' }, data.byteLength)
          if (firstOutput) {
            firstOutput = false
            metrics?.firstSegmentSeconds.observe((performance.now() - startedAt) / 1000)
          }
          await channel.write({ type: 'output', segment: { seq: found.segment.seq, data: data as Uint8Array<ArrayBuffer>, width: info?.width ?? 0, height: info?.height ?? 0, frames: info?.frames ?? 0 } }, { signal: stopAll })
        }
      }

      const eventsLoop = async (): Promise<void> => {
        let seq = 0
        while (true) {
          const found = await channels.events.lookup(seq, stopAll)
          if (found.kind === 'closed') return
          if (found.kind === 'gone') { seq = Math.max(found.latest, seq + 1); continue }
          const data = await found.segment.bytesWhenDone(stopAll)
          seq = found.segment.seq + 1
          const json = Buffer.from(data).toString('utf8')
          try {
            const parsed = JSON.parse(json) as unknown
            if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) continue
          } catch { continue }
          await channel.write({ type: 'event', event: { json } }, { signal: stopAll })
        }
      }

      const paymentLoop = async (): Promise<void> => {
        while (!stopAll.aborted) {
          await new Promise<void>((resolve) => {
            const onAbort = (): void => { clearTimeout(t); resolve() }
            const t = setTimeout(() => { stopAll.removeEventListener('abort', onAbort); resolve() }, options.paymentIntervalMs)
            stopAll.addEventListener('abort', onAbort, { once: true })
          })
          if (stopAll.aborted) return
          const balance = recipient !== undefined && sender !== undefined ? recipient.balance(sender) : 0n
          const params = recipient !== undefined && sender !== undefined ? encodeQuotePayment(await recipient.ticketParams(sender, { signal: stopAll }).catch(() => null)) : undefined
          await channel.write({ type: 'payment', payment: { balance: balance.toString(), pixels, ...(params === undefined ? {} : { quote: params }) } }, { signal: stopAll })
        }
      }

      const loops = [readLoop(), outputLoop(), eventsLoop(), paymentLoop()]
      try {
        await Promise.race(loops)
      } finally {
        ended.abort()
        await Promise.allSettled(loops)
      }
    } catch (err) {
      const end = sessionEndOf(err, signal.aborted)
      outcome = end.code
      if (end.code === 'OK') log.info({ reason: end.message }, 'live session ended')
      else log.info({ code: end.code, reason: end.message }, 'live session closed')
      if (channel.open) await channel.write({ type: 'close', close: { code: end.code, message: end.message } }).catch(() => {})
    } finally {
      for (const name of names) trickle?.store.delete(name)
      lease?.release()
      running.delete(controller)
      metrics?.sessions.dec()
      metrics?.sessionsEnded.inc({ outcome })
      await channel.close()
    }
  }

  return {
    async start () {
      await registrar.handle(LIVE_PROTOCOL, (stream, connection) => { void serve(stream, connection) }, {
        maxInboundStreams: options.maxSessions + 8,
        runOnLimitedConnection: false
      })
    },
    async stop () {
      await registrar.unhandle(LIVE_PROTOCOL)
      for (const c of running) c.abort(new Error('the orchestrator is stopping'))
      await trickle?.stop()
      trickle = undefined
    },
    get sessions () { return running.size },
    get trickleUrl () { return trickle?.url }
  }
}
