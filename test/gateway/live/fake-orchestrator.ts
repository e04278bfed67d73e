/**
 * The orchestrator's side of `/shoal/live/1.0.0`, scripted for the gateway's unit tests:
 * real `LiveChannel`s over in-memory libp2p stream pairs (`streamPair`), no runner. Each
 * fake records what it was sent (start, input seqs, params, payments) and answers as its
 * script says: start or refuse, ack and echo each input as output (or stay silent: a
 * stalled orchestrator), ask for a prepayment with real ticket params, die mid-stream.
 */
import type { PeerId, Stream } from '@libp2p/interface'
import { streamPair } from '@libp2p/utils'
import type { Candidate } from '../../../src/gateway/selection/index.js'
import { decodeJobPayment, encodeQuotePayment } from '../../../src/payments/job-payment.js'
import type { PaymentRecipient } from '../../../src/payments/index.js'
import { LIVE_PROTOCOL, LiveChannel, type LiveCloseCode, type LiveMessage } from '../../../src/protocols/live/index.js'
import type { LiveStart } from '../../../src/protocols/live/codec.js'
import { TINY_SEGMENT, TINY_SEGMENT_INFO } from '../../protocols/live/tiny-segment.js'

export interface FakeScript {
  /** closes the session at start with this code instead of starting */
  refuse?: LiveCloseCode
  /** acknowledges each input (the runner took it) @default true */
  ack?: boolean
  /** answers each input with an output segment @default true */
  output?: boolean
  /** asks for credit before starting and verifies tickets with this recipient */
  recipient?: PaymentRecipient
}

export class FakeLiveSession {
  start: LiveStart | undefined
  readonly inputs: number[] = []
  readonly controls: Array<Record<string, unknown>> = []
  /** payment frames received (tickets, or none when the gateway's credit here covers the fee) */
  payments = 0
  /** wei credited by each payment that carried tickets */
  readonly credited: bigint[] = []
  /** the gateway's close, when it sent one */
  closedBy: { code: string, message: string } | undefined
  sender: string | undefined
  readonly done: Promise<void>
  private readonly waiters: Array<() => void> = []

  constructor (readonly channel: LiveChannel, private readonly script: FakeScript) {
    this.done = this.run().catch(() => {}).finally(() => { this.wake() })
  }

  private wake (): void { for (const w of this.waiters.splice(0)) w() }

  /** resolves once `check` holds (checked after each frame) */
  async until (check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await new Promise<void>(resolve => { this.waiters.push(resolve); setTimeout(resolve, 50) })
    }
  }

  async send (message: LiveMessage): Promise<void> { await this.channel.write(message) }

  /** an interval payment request: balance and fresh ticket params, as the orchestrator sends them */
  async askPayment (): Promise<void> {
    const r = this.script.recipient
    const sender = this.sender
    await this.send({ type: 'payment', payment: { balance: r !== undefined && sender !== undefined ? r.balance(sender).toString() : '0', pixels: 0, ...(r !== undefined && sender !== undefined ? { quote: encodeQuotePayment(await r.ticketParams(sender)) } : {}) } })
  }

  /** the stream reset under the gateway: the orchestrator process died */
  kill (): void { this.channel.abort(new Error('killed')) }

  private async receive (bytes: Uint8Array | undefined): Promise<void> {
    const payment = decodeJobPayment(bytes ?? null)
    if (payment === null) throw new Error('no payment')
    this.sender = payment.sender
    if (payment.tickets !== null && this.script.recipient !== undefined) this.credited.push((await this.script.recipient.receive(payment.tickets)).credited)
  }

  /** one output segment, its pixels debited first when paid (1 wei each); false: the credit is spent, the session closed */
  private async output (seq: number): Promise<boolean> {
    const r = this.script.recipient
    if (r !== undefined && this.sender !== undefined) {
      const fee = BigInt(TINY_SEGMENT_INFO.width * TINY_SEGMENT_INFO.height * TINY_SEGMENT_INFO.frames)
      if (r.balance(this.sender) < fee) {
        await this.send({ type: 'close', close: { code: 'PAYMENT_REQUIRED', message: 'credit spent' } })
        await this.channel.close()
        return false
      }
      r.debit(this.sender, fee)
    }
    await this.send({ type: 'output', segment: { seq, data: TINY_SEGMENT as Uint8Array<ArrayBuffer>, ...TINY_SEGMENT_INFO } })
    return true
  }

  private async run (): Promise<void> {
    const first = await this.channel.read()
    if (first.type !== 'start') throw new Error(`first frame ${first.type}`)
    this.start = first.start
    this.wake()
    if (this.script.refuse !== undefined) {
      await this.send({ type: 'close', close: { code: this.script.refuse, message: `refused: ${this.script.refuse}` } })
      await this.channel.close()
      return
    }
    const r = this.script.recipient
    if (r !== undefined) {
      await this.receive(first.start.payment)
      const sender = this.sender as string
      // as the orchestrator: ticket params and the balance, then the prepayment, every session
      await this.send({ type: 'payment', payment: { quote: encodeQuotePayment(await r.ticketParams(sender)), balance: r.balance(sender).toString(), pixels: 0 } })
      do {
        const next = await this.channel.read()
        if (next.type !== 'payment') throw new Error(`expected a payment, got ${next.type}`)
        this.payments++
        await this.receive(next.payment.payment)
      } while (r.balance(sender) <= 0n)
    }
    await this.send({ type: 'started', started: { pricePerUnit: '1', pixelsPerUnit: '1', paymentIntervalMs: 5_000, ...(r !== undefined ? { quote: encodeQuotePayment(await r.ticketParams(this.sender as string)) } : {}) } })
    while (true) {
      const message = await this.channel.read()
      if (message.type === 'input') {
        this.inputs.push(message.segment.seq)
        if (this.script.ack !== false) await this.send({ type: 'ack', ack: { seq: message.segment.seq } })
        if (this.script.output !== false && !await this.output(message.segment.seq)) return
      } else if (message.type === 'control') {
        this.controls.push(JSON.parse(message.control.params) as Record<string, unknown>)
      } else if (message.type === 'payment') {
        this.payments++
        await this.receive(message.payment.payment)
      } else if (message.type === 'close') {
        this.closedBy = message.close
        await this.channel.close()
        return
      }
      this.wake()
    }
  }
}

export class FakeOrchestrator {
  readonly sessions: FakeLiveSession[] = []
  script: FakeScript = {}
  /** dials fail (an unreachable peer) */
  unreachable = false

  constructor (readonly peerId: string, readonly candidate: Candidate) {}

  get last (): FakeLiveSession {
    const s = this.sessions[this.sessions.length - 1]
    if (s === undefined) throw new Error(`${this.peerId} has no session`)
    return s
  }

  accept (stream: Stream): void { this.sessions.push(new FakeLiveSession(new LiveChannel(stream), this.script)) }
}

/** A network of fakes: `dialProtocol` for the gateway's session deps, and the candidates to pick from. */
export function fakeNetwork (orchestrators: FakeOrchestrator[]): {
  dialProtocol: (peer: PeerId, protocol: string, options: { signal: AbortSignal }) => Promise<Stream>
  candidates: () => Candidate[]
  dials: string[]
} {
  const dials: string[] = []
  return {
    dials,
    candidates: () => orchestrators.map(o => o.candidate),
    async dialProtocol (peer, protocol) {
      const o = orchestrators.find(x => x.peerId === peer.toString())
      dials.push(peer.toString())
      if (o === undefined || o.unreachable) throw new Error(`cannot dial ${peer.toString()}`)
      if (protocol !== LIVE_PROTOCOL) throw new Error(`protocol ${protocol} not supported`)
      const [outbound, inbound] = await streamPair()
      o.accept(inbound)
      return outbound
    }
  }
}
