import { expect } from 'chai'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { silentLogger } from '../../../src/observability/logger.js'
import { createDispatcher, type SendJob } from '../../../src/gateway/dispatch/dispatcher.js'
import { UnreachableError } from '../../../src/gateway/dispatch/errors.js'
import { createAdaptiveStrategy } from '../../../src/gateway/selection/strategy.js'
import { createGatewayMetrics } from '../../../src/gateway/metrics.js'
import type { Candidate } from '../../../src/gateway/selection/candidate.js'
import { candidate, seededRandom } from '../helpers.js'
import { ok, upscaleJob as job } from './fakes.js'

const signal = new AbortController().signal
const REAL = ['real-a', 'real-b', 'real-c']

/** real orchestrators answer in 10 ms of a virtual clock; anything else is a fake identity with no reachable address */
function mesh () {
  let clock = 0
  const calls: string[] = []
  const firsts: string[] = []
  let fresh = true
  const send: SendJob = async (peerId) => {
    calls.push(peerId)
    if (fresh) { firsts.push(peerId); fresh = false }
    if (REAL.includes(peerId) || peerId === 'greedy') { clock += 10; return ok() }
    clock += 1
    throw new UnreachableError('dial request has no valid addresses')
  }
  return { send, calls, firsts, now: () => clock, next: () => { fresh = true } }
}

describe('gateway dispatch: Sybils and price ceiling', () => {
  it('3,000 unproven identities get no more than the exploration share of first attempts; every request succeeds', async function () {
    this.timeout(120_000)
    const m = mesh()
    const strategy = createAdaptiveStrategy()
    // the real orchestrators have served before
    for (const p of REAL) strategy.record(p, { pipeline: 'upscale', modelId: 'esrgan-slim' }, { kind: 'success', seconds: 0.01, units: 1 }, 0)
    const sybils = Array.from({ length: 3000 }, (_, i) => candidate(`sybil${i}`, { capacity: 1000, pricePerUnit: 1n }))
    const list: Candidate[] = [...REAL.map(p => candidate(p, { capacity: 2 })), ...sybils]
    const d = createDispatcher({ candidates: () => list, strategy, send: m.send, logger: silentLogger(), metrics: null, now: m.now, random: seededRandom(99) })
    const requests = 400
    let served = 0
    for (let i = 0; i < requests; i++) {
      m.next()
      const r = await d.dispatch(job, { signal, requestId: `r${i}`, workUnits: 1 })
      if (REAL.includes(r.orchestrator)) served++
    }
    const sybilFirsts = m.firsts.filter(p => !REAL.includes(p)).length
    expect(served).to.equal(requests)
    // the default share is 10 %: 40 expected of 400 (binomial sd ~6)
    expect(sybilFirsts / requests).to.be.within(0.05, 0.15)
    // a request that drew a Sybil first still went on to a real one at once
    expect(m.calls.length / requests).to.be.below(1.2)
  })

  it('excludes an orchestrator far above the proven median, ignores 1-wei Sybils as a reference, and says so once', async () => {
    const m = mesh()
    const strategy = createAdaptiveStrategy()
    for (const p of [...REAL, 'greedy']) strategy.record(p, { pipeline: 'upscale', modelId: 'esrgan-slim' }, { kind: 'success', seconds: 0.01, units: 1 }, 0)
    const list: Candidate[] = [
      ...REAL.map((p, i) => candidate(p, { pricePerUnit: 100n + BigInt(i * 10) })),
      candidate('greedy', { pricePerUnit: 100_000n, capacity: 100 }),
      ...Array.from({ length: 300 }, (_, i) => candidate(`sybil${i}`, { pricePerUnit: 1n }))
    ]
    const lines: Array<{ msg: string, peerId?: string }> = []
    const logger = pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line)) } })
    const registry = new Registry()
    const d = createDispatcher({ candidates: () => list, strategy, send: m.send, logger, metrics: createGatewayMetrics(registry), now: m.now, random: seededRandom(5) })
    let real = 0
    for (let i = 0; i < 100; i++) {
      const r = await d.dispatch(job, { signal, requestId: `r${i}` })
      if (REAL.includes(r.orchestrator)) real++
    }
    expect(m.calls).to.not.include('greedy')
    expect(real).to.equal(100)
    const ceilingLines = lines.filter(l => l.msg.includes('above the ceiling'))
    expect(ceilingLines.map(l => l.peerId)).to.deep.equal(['greedy'])
    expect(await registry.metrics()).to.match(/shoal_gateway_selection_excluded_total\{pipeline="upscale",reason="price_ceiling"\} [1-9]/)

    // the operator lifts it: the greedy one (many free slots) takes traffic again
    const lifted = createDispatcher({ candidates: () => list, strategy, send: m.send, logger: silentLogger(), metrics: null, now: m.now, random: seededRandom(5), options: { maxPriceMultiple: 0 } })
    let greedy = 0
    for (let i = 0; i < 50; i++) if ((await lifted.dispatch(job, { signal, requestId: `x${i}` })).orchestrator === 'greedy') greedy++
    expect(greedy).to.be.greaterThan(0)
  })

  it('applies only the absolute limits while no orchestrator is proven', async () => {
    const m = mesh()
    // greedy is dear but, with far more free slots, first in line; with no proven price there is no reference
    const list = [candidate('real-a', { pricePerUnit: 1n, capacity: 1 }), candidate('greedy', { pricePerUnit: 1_000_000n, capacity: 100 })]
    const d = createDispatcher({ candidates: () => list, strategy: createAdaptiveStrategy(), send: m.send, logger: silentLogger(), metrics: null, now: m.now, random: () => 0.5 })
    expect((await d.dispatch(job, { signal, requestId: 'first' })).orchestrator).to.equal('greedy')
    // an absolute limit still applies
    const capped = createDispatcher({
      candidates: () => list, strategy: createAdaptiveStrategy(), send: m.send, logger: silentLogger(), metrics: null, now: m.now, random: () => 0.5,
      options: { maxPrice: { global: { pricePerUnit: 1000n, pixelsPerUnit: 1n } } }
    })
    expect((await capped.dispatch(job, { signal, requestId: 'second' })).orchestrator).to.equal('real-a')
  })
})
