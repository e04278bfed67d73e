import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { expect } from 'chai'
import { Wallet } from 'ethers'
import { LiveSessionError } from '../../../src/gateway/live/errors.js'
import { defaultGatewayLiveOptions, type GatewayLiveOptions } from '../../../src/gateway/live/options.js'
import { GatewayLiveSession, LIVE_PIPELINE, type LiveSessionDeps } from '../../../src/gateway/live/session.js'
import { createEthBinding } from '../../../src/identity/binding.js'
import { createTicketSigner } from '../../../src/identity/ethereum.js'
import { feeFor } from '../../../src/kernel/billing.js'
import { silentLogger } from '../../../src/observability/logger.js'
import { manualClock } from '../../../src/payments/clock.js'
import { createPaymentRecipient, type PaymentRecipient } from '../../../src/payments/payment-recipient.js'
import { createPaymentSender, type PaymentSender } from '../../../src/payments/payment-sender.js'
import { TrickleChannel } from '../../../src/protocols/live/trickle/channel.js'
import { StubBroker } from '../../payments/stubs.js'
import { TINY_SEGMENT, TINY_SEGMENT_INFO } from '../../protocols/live/tiny-segment.js'
import { FakeOrchestrator, fakeNetwork } from './fake-orchestrator.js'

const ETH = 10n ** 18n
const MODEL = 'human-models/selfie-background'
const TINY_PIXELS = TINY_SEGMENT_INFO.width * TINY_SEGMENT_INFO.height * TINY_SEGMENT_INFO.frames

/**
 * The gateway's live session state machine (start, input and output, backpressure,
 * update, swap, stop, credit exhaustion, failure counting) against scripted orchestrators
 * over in-memory `/shoal/live` streams: real frames both ways, no process and no runner.
 */
describe('gateway/live: session state machine against fake orchestrators', function () {
  this.timeout(10_000)
  let orchestrators: FakeOrchestrator[]
  let sessions: GatewayLiveSession[]

  async function fakeOrchestrators (n: number, price: Array<{ pricePerUnit: bigint, inUse?: number }> = []): Promise<FakeOrchestrator[]> {
    return await Promise.all(Array.from({ length: n }, async (_, i) => {
      const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
      return new FakeOrchestrator(peerId, { peerId, pipeline: LIVE_PIPELINE, modelId: MODEL, warm: true, capacity: 1, inUse: price[i]?.inUse ?? 0, pricePerUnit: price[i]?.pricePerUnit ?? 1n, pixelsPerUnit: 1n })
    }))
  }

  function session (options: Partial<GatewayLiveOptions> = {}, extra: Partial<LiveSessionDeps> & { orchestrator?: string } = {}): GatewayLiveSession & { ended: { count: number }, output: TrickleChannel, network: ReturnType<typeof fakeNetwork> } {
    const network = fakeNetwork(orchestrators)
    const output = new TrickleChannel('out', 64)
    const ended = { count: 0 }
    const { orchestrator, ...deps } = extra
    const s = new GatewayLiveSession({ streamId: 'cam', requestId: 'req-1', modelId: MODEL, params: { background: '#00ff00' }, ...(orchestrator === undefined ? {} : { orchestrator }) }, {
      dialProtocol: network.dialProtocol,
      candidates: network.candidates,
      output,
      logger: silentLogger(),
      options: { ...defaultGatewayLiveOptions, stallTimeoutMs: 400, startTimeoutMs: 2_000, ...options },
      onEnd: () => { ended.count++ },
      ...deps
    })
    sessions.push(s)
    return Object.assign(s, { output, network, ended })
  }

  /** what a promise rejects with (it must reject) */
  const rejection = async (p: Promise<unknown>): Promise<Error> => await p.then(() => { throw new Error('expected a rejection') }, (err: unknown) => err as Error)

  const until = async (check: () => boolean, what: string): Promise<void> => {
    const deadline = Date.now() + 5_000
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await new Promise(resolve => setTimeout(resolve, 20))
    }
  }

  beforeEach(async () => {
    // distinct prices: the cheapest is picked first, the next on a swap
    orchestrators = await fakeOrchestrators(3, [{ pricePerUnit: 1n }, { pricePerUnit: 2n }, { pricePerUnit: 3n }])
    sessions = []
  })

  afterEach(async () => {
    await Promise.all(sessions.map(async s => { await s.end('stopped', 'test over') }))
  })

  it('starts on an orchestrator with a free slot, cheapest first, and relays input and output counting frames and pixels', async () => {
    orchestrators = await fakeOrchestrators(3, [{ pricePerUnit: 1n, inUse: 1 }, { pricePerUnit: 5n }, { pricePerUnit: 2n }])
    const s = session()
    await s.start(AbortSignal.timeout(5_000))
    expect(s.state).to.equal('running')
    // the busy one is last although cheapest; of the free ones the cheaper
    expect(s.network.dials).to.deep.equal([orchestrators[2].peerId])
    const o = orchestrators[2].last
    expect(o.start).to.include({ pipeline: LIVE_PIPELINE, modelId: MODEL, streamId: 'cam', requestId: 'req-1' })
    expect(JSON.parse(o.start?.params ?? '')).to.deep.equal({ background: '#00ff00' })

    for (let i = 0; i < 3; i++) await s.publishInput(TINY_SEGMENT)
    await o.until(() => o.inputs.length === 3, 'three inputs')
    expect(o.inputs).to.deep.equal([0, 1, 2])
    const out = await s.output.lookup(2, AbortSignal.timeout(5_000))
    expect(out.kind).to.equal('segment')
    if (out.kind === 'segment') expect(Buffer.from(await out.segment.bytesWhenDone())).to.deep.equal(Buffer.from(TINY_SEGMENT))
    const st = s.status()
    expect(st.orchestrator).to.equal(orchestrators[2].peerId)
    expect(st.gateway).to.include({ segments_in: 3, segments_out: 3, frames_in: 6, frames_out: 6, pixels_out: 3 * TINY_PIXELS, segments_in_flight: 0 })
  })

  it('holds input back while maxSegmentsInFlight are unacknowledged, and goes on when the orchestrator acks', async () => {
    for (const o of orchestrators) o.script = { ack: false, output: false }
    const s = session({ maxSegmentsInFlight: 2, stallTimeoutMs: 60_000 })
    await s.start(AbortSignal.timeout(5_000))
    await s.publishInput(TINY_SEGMENT)
    await s.publishInput(TINY_SEGMENT)
    let third = false
    const publishing = s.publishInput(TINY_SEGMENT).then(() => { third = true })
    const o = orchestrators[0].last
    await o.until(() => o.inputs.length === 2, 'two inputs')
    await new Promise(resolve => setTimeout(resolve, 200))
    expect(third, 'the third segment waits').to.equal(false)
    expect(s.status().gateway).to.include({ segments_in_flight: 2 })
    await o.send({ type: 'ack', ack: { seq: 0 } })
    await publishing
    await o.until(() => o.inputs.length === 3, 'the third input')
    // a publisher that gives up while waiting leaves nothing behind
    expect((await rejection(s.publishInput(TINY_SEGMENT, AbortSignal.timeout(100)))).name).to.equal('TimeoutError')
    expect(s.status().gateway).to.include({ segments_in: 3 })
  })

  it('sends new params on update; after stop it closes the orchestrator\'s stream with OK, ends the output, calls onEnd once and refuses input', async () => {
    const s = session()
    await s.start(AbortSignal.timeout(5_000))
    const o = orchestrators[0].last
    await s.update({ background: '#ff0000' })
    await o.until(() => o.controls.length === 1, 'the control message')
    expect(o.controls).to.deep.equal([{ background: '#ff0000' }])
    expect(s.status().params).to.deep.equal({ background: '#ff0000' })

    await s.end('stopped', 'stopped by the client')
    await s.end('stopped', 'twice')
    await o.until(() => o.closedBy !== undefined, 'the gateway\'s close')
    expect(o.closedBy).to.deep.equal({ code: 'OK', message: 'stopped by the client' })
    expect(s.state).to.equal('stopped')
    expect(s.ended.count).to.equal(1)
    expect((await s.output.lookup(0)).kind).to.equal('closed')
    for (const err of [await rejection(s.publishInput(TINY_SEGMENT)), await rejection(s.update({}))]) {
      expect(err).to.be.instanceOf(LiveSessionError)
      expect(err.message).to.match(/is stopped/)
    }
  })

  it('on start tries the next orchestrator when one is unreachable or refuses, and names every failure when none starts', async () => {
    orchestrators[0].unreachable = true
    orchestrators[1].script = { refuse: 'INSUFFICIENT_CAPACITY' }
    orchestrators[2].script = { refuse: 'RUNNER_FAILURE' }
    const s = session()
    const err = await rejection(s.start(AbortSignal.timeout(5_000)))
    expect(err).to.be.instanceOf(LiveSessionError)
    expect((err as LiveSessionError).code).to.equal('LIVE_ERROR_NO_ORCHESTRATOR')
    expect((err as Error).message).to.include('dial failed').and.include('INSUFFICIENT_CAPACITY').and.include('RUNNER_FAILURE')
    expect(s.network.dials).to.have.members(orchestrators.map(o => o.peerId))

    // a bad request is the client's: no other orchestrator is tried
    for (const o of orchestrators) { o.unreachable = false; o.script = { refuse: 'BAD_REQUEST' } }
    const bad = session()
    const badErr = await rejection(bad.start(AbortSignal.timeout(5_000)))
    expect((badErr as LiveSessionError).code).to.equal('LIVE_ERROR_BAD_REQUEST')
    expect(bad.network.dials).to.have.length(1)

    // at most maxAttempts per start
    for (const o of orchestrators) o.script = { refuse: 'INSUFFICIENT_CAPACITY' }
    const few = session({ maxAttempts: 2 })
    expect(await rejection(few.start(AbortSignal.timeout(5_000)))).to.be.instanceOf(LiveSessionError)
    expect(few.network.dials).to.have.length(2)
  })

  it('swaps to another orchestrator when its stream dies, continuing the input numbering, and says so in status', async () => {
    const s = session()
    await s.start(AbortSignal.timeout(5_000))
    const first = orchestrators[0]
    await s.publishInput(TINY_SEGMENT)
    await s.publishInput(TINY_SEGMENT)
    await first.last.until(() => first.last.inputs.length === 2, 'two inputs')
    first.last.kill()
    await until(() => s.status().gateway !== undefined && (s.status().gateway as { swaps: unknown[] }).swaps.length === 1 && s.state === 'running', 'a swap')
    const second = orchestrators[1]
    const swap = (s.status().gateway as { swaps: Array<Record<string, unknown>> }).swaps[0]
    expect(swap).to.include({ from: first.peerId, to: second.peerId })
    expect(String(swap.reason)).to.match(/live stream ended|UNEXPECTED_EOF|UNREACHABLE/)
    expect(s.status().orchestrator).to.equal(second.peerId)
    expect(second.last.start?.streamId).to.equal('cam')
    await s.publishInput(TINY_SEGMENT)
    await second.last.until(() => second.last.inputs.length === 1, 'input on the new orchestrator')
    expect(second.last.inputs).to.deep.equal([2])
    // its output continues the client's output numbering
    const out = await s.output.lookup(2, AbortSignal.timeout(5_000))
    expect(out.kind).to.equal('segment')
  })

  it('swaps a stalled orchestrator: segments in flight and nothing heard for the stall timeout', async () => {
    // the first reads input but never acks nor outputs
    orchestrators[0].script = { ack: false, output: false }
    const s = session({ stallTimeoutMs: 300 })
    await s.start(AbortSignal.timeout(5_000))
    // idle with nothing in flight is not a stall
    await new Promise(resolve => setTimeout(resolve, 700))
    expect(s.status().orchestrator).to.equal(orchestrators[0].peerId)
    await s.publishInput(TINY_SEGMENT)
    await until(() => s.state === 'running' && (s.status().gateway as { swaps: unknown[] }).swaps.length === 1, 'a swap')
    const swap = (s.status().gateway as { swaps: Array<Record<string, unknown>> }).swaps[0]
    expect(swap).to.include({ from: orchestrators[0].peerId, to: orchestrators[1].peerId })
    expect(String(swap.reason)).to.match(/^STALLED: nothing from the orchestrator for \d+ ms with 1 segments in flight/)
  })

  it('counts swaps in the window: past maxSwaps the session fails, and an orchestrator asked for by name is never swapped', async () => {
    const s = session({ maxSwaps: 1 })
    await s.start(AbortSignal.timeout(5_000))
    const first = orchestrators.find(x => x.sessions.length > 0) as FakeOrchestrator
    first.last.kill()
    await until(() => s.state === 'running' && s.status().orchestrator !== first.peerId, 'the first swap')
    const second = orchestrators.find(x => x.peerId === s.status().orchestrator) as FakeOrchestrator
    second.last.kill()
    await until(() => s.state === 'failed', 'the session failing')
    expect(s.status().reason).to.match(/^1 swaps in 180000 ms already/)
    expect(s.ended.count).to.equal(1)
    expect((s.status().gateway as { swaps: unknown[] }).swaps).to.have.length(1)
    // the third orchestrator was never dialled: the window was spent
    expect(orchestrators.filter(o => o.sessions.length > 0)).to.have.length(2)

    const pinned = session({}, { orchestrator: orchestrators[2].peerId })
    await pinned.start(AbortSignal.timeout(5_000))
    expect(pinned.network.dials).to.deep.equal([orchestrators[2].peerId])
    orchestrators[2].last.kill()
    await until(() => pinned.state === 'failed', 'the pinned session failing')
    expect(pinned.status().reason).to.match(/^the orchestrator asked for failed/)
    expect(pinned.network.dials).to.have.length(1)
  })

  describe('paid by the interval', () => {
    const gwKey = Wallet.createRandom().privateKey
    const gwAddress = createTicketSigner(gwKey).address
    let identity: { address: string, binding: string }
    let broker: StubBroker
    let recipient: PaymentRecipient
    let sender: PaymentSender

    before(async () => {
      const gwPeer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
      identity = { address: gwAddress, binding: (await createEthBinding(gwPeer.toString(), gwKey)).ethBinding }
    })

    /** an orchestrator's payments taking tickets of `ev` wei each */
    function paidOrchestrators (ev: bigint): void {
      recipient = createPaymentRecipient({
        privateKey: Wallet.createRandom().privateKey, broker, secret: new Uint8Array(32).fill(5),
        ev, redeemGas: 100_000n, gasPrice: 10n ** 9n, clock: manualClock(), options: { paramsExpirationBlocks: 10n, countDeposit: false }
      })
      for (const o of orchestrators) o.script = { recipient }
    }

    beforeEach(() => {
      broker = new StubBroker()
      broker.fund(gwAddress, ETH, ETH, 4)
      sender = createPaymentSender({ privateKey: gwKey, broker, clock: manualClock(), caps: { maxTicketEV: ETH } })
      paidOrchestrators(10n ** 9n)
    })

    it('prepays before the runner starts, pays each interval for the pixels received, and ends as payment_required (no swap) when the credit runs out', async () => {
      const prepayPixels = 1_000_000
      const s = session({ prepayPixels }, { payments: { sender, identity } })
      await s.start(AbortSignal.timeout(5_000))
      const o = orchestrators.find(x => x.sessions.length > 0) as FakeOrchestrator
      const fake = o.last
      expect(fake.sender?.toLowerCase()).to.equal(gwAddress.toLowerCase())
      expect(fake.payments).to.equal(1)
      expect(fake.credited).to.have.length(1)
      expect(fake.credited[0] > 0n, 'real tickets credited').to.equal(true)
      const price = { pricePerUnit: 1n, pixelsPerUnit: 1n }
      expect(BigInt((s.status().gateway as { wei_paid: string }).wei_paid)).to.equal(feeFor(BigInt(prepayPixels), price))

      for (let i = 0; i < 4; i++) await s.publishInput(TINY_SEGMENT)
      await until(() => (s.status().gateway as { segments_out: number }).segments_out === 4, 'four outputs')
      await fake.askPayment()
      await fake.until(() => fake.payments === 2, 'the interval payment')
      // the interval pays exactly the pixels delivered since
      expect(BigInt((s.status().gateway as { wei_paid: string }).wei_paid)).to.equal(feeFor(BigInt(prepayPixels + 4 * TINY_PIXELS), price))
      // nothing delivered since: the next interval pays nothing
      await fake.askPayment()
      await new Promise(resolve => setTimeout(resolve, 100))
      expect(fake.payments).to.equal(2)

      await fake.send({ type: 'close', close: { code: 'PAYMENT_REQUIRED', message: 'credit spent' } })
      await until(() => s.state === 'payment_required', 'payment_required')
      expect(s.status().reason).to.equal('credit spent')
      expect((s.status().gateway as { swaps: unknown[], errors: Array<{ message: string }> }).swaps).to.have.length(0)
      expect((s.status().gateway as { errors: Array<{ message: string }> }).errors.map(e => e.message).join('\n')).to.match(/payment required: credit spent/)
      expect(orchestrators.filter(x => x.sessions.length > 0)).to.have.length(1)
      expect(s.ended.count).to.equal(1)
    })

    it('sends no more tickets past the per-session spending cap, and says why in status', async () => {
      const prepayPixels = 1_000
      const s = session({ prepayPixels, maxWeiPerSession: 1_000n + 2n * BigInt(TINY_PIXELS) }, { payments: { sender, identity } })
      await s.start(AbortSignal.timeout(5_000))
      const fake = (orchestrators.find(x => x.sessions.length > 0) as FakeOrchestrator).last
      for (let i = 0; i < 3; i++) await s.publishInput(TINY_SEGMENT)
      await until(() => (s.status().gateway as { segments_out: number }).segments_out === 3, 'three outputs')
      await fake.askPayment()
      await new Promise(resolve => setTimeout(resolve, 200))
      // 3 segments' pixels would pass the cap: not paid
      expect(fake.payments).to.equal(1)
      expect(BigInt((s.status().gateway as { wei_paid: string }).wei_paid)).to.equal(1_000n)
      expect((s.status().gateway as { errors: Array<{ message: string }> }).errors.map(e => e.message).join('\n')).to.match(/per-session spending cap/)
    })

    it('leaves its estimate of the credit equal to the orchestrator\'s balance after a session, and prepays the next session from that credit', async () => {
      const s = session({ prepayPixels: 10 * TINY_PIXELS }, { payments: { sender, identity } })
      await s.start(AbortSignal.timeout(5_000))
      const fake = orchestrators[0].last
      for (let i = 0; i < 3; i++) await s.publishInput(TINY_SEGMENT)
      await until(() => (s.status().gateway as { segments_out: number }).segments_out === 3, 'three outputs')
      await fake.askPayment()
      await fake.until(() => fake.payments === 2, 'the interval payment')
      await s.end('stopped')
      const orchestratorAddress = (await recipient.ticketParams(gwAddress)).recipient
      // the prepayment it did not use is credit there, and the gateway knows it
      expect(recipient.balance(gwAddress)).to.equal(10n * BigInt(TINY_PIXELS) + (fake.credited.reduce((a, b) => a + b, 0n) - 10n * BigInt(TINY_PIXELS) - 3n * BigInt(TINY_PIXELS)))
      expect(sender.credit(orchestratorAddress)).to.equal(recipient.balance(gwAddress))

      const next = session({ prepayPixels: 10 * TINY_PIXELS }, { payments: { sender, identity } })
      await next.start(AbortSignal.timeout(5_000))
      const again = orchestrators[0].last
      expect(again).to.not.equal(fake)
      // asked for the prepayment again, and paid it from the credit: no ticket
      expect(again.payments).to.equal(1)
      expect(again.credited).to.have.length(0)
      await next.publishInput(TINY_SEGMENT)
      await until(() => (next.status().gateway as { segments_out: number }).segments_out === 1, 'output')
    })

    it('is asked for the prepayment again after it ran its credit down there, and starts (not refused at the first segment)', async () => {
      // tickets worth a bit more than a segment; the cap stops the interval payments: the
      // orchestrator spends the prepayment, then closes with some credit left, less than a segment
      paidOrchestrators(2_500n)
      const s = session({ prepayPixels: 2 * TINY_PIXELS, maxWeiPerSession: 2n * BigInt(TINY_PIXELS) }, { payments: { sender, identity } })
      await s.start(AbortSignal.timeout(5_000))
      const first = orchestrators[0].last
      for (let i = 0; i < 3; i++) await s.publishInput(TINY_SEGMENT).catch(() => {})
      await until(() => s.state === 'payment_required', 'payment_required')
      const left = recipient.balance(gwAddress)
      expect(left > 0n && left < BigInt(TINY_PIXELS), `${left} wei left: some, less than a segment`).to.equal(true)
      expect(sender.credit((await recipient.ticketParams(gwAddress)).recipient)).to.equal(left)

      const next = session({ prepayPixels: 2 * TINY_PIXELS }, { payments: { sender, identity } })
      await next.start(AbortSignal.timeout(5_000))
      const again = orchestrators[0].last
      expect(again).to.not.equal(first)
      expect(again.credited, 'new tickets for the prepayment').to.have.length(1)
      expect(recipient.balance(gwAddress) >= 2n * BigInt(TINY_PIXELS)).to.equal(true)
      await next.publishInput(TINY_SEGMENT)
      await until(() => (next.status().gateway as { segments_out: number }).segments_out === 1, 'output after coming back')
      expect(next.state).to.equal('running')
    })
  })
})
