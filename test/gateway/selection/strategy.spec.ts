import { expect } from 'chai'
import { createAdaptiveStrategy } from '../../../src/gateway/selection/strategy.js'
import { p95SecondsPerUnit, type Candidate } from '../../../src/gateway/selection/candidate.js'
import { candidate, firstCounts, seededRandom } from '../helpers.js'

const ctx = (now: number, random: () => number) => ({ pipeline: 'upscale' as const, modelId: 'esrgan-slim', now, random })

describe('gateway selection: adaptive strategy', () => {
  it('puts warm orchestrators before cold ones, and free before full within each', () => {
    const s = createAdaptiveStrategy()
    const list: Candidate[] = [
      candidate('cold-free', { warm: false }),
      candidate('warm-full', { inUse: 4 }),
      candidate('cold-full', { warm: false, capacity: 1, inUse: 1 }),
      candidate('warm-free')
    ]
    for (let seed = 1; seed < 20; seed++) {
      expect(s.order(list, ctx(0, seededRandom(seed))).map(c => c.peerId)).to.deep.equal(['warm-free', 'warm-full', 'cold-free', 'cold-full'])
    }
  })

  it('spreads load over equal orchestrators instead of sending everything to one', () => {
    const s = createAdaptiveStrategy()
    const list = ['a', 'b', 'c', 'd'].map(p => candidate(p))
    const random = seededRandom(7)
    const counts = firstCounts(() => s.order(list, ctx(0, random)), 4000)
    for (const p of ['a', 'b', 'c', 'd']) {
      expect(counts.get(p), p).to.be.within(800, 1200)
    }
  })

  it('prefers lower latency per unit of work, yet still sends some traffic to the slow one', () => {
    const s = createAdaptiveStrategy()
    // fast: 1 s for 1e6 units; slow: 4 s for the same work (per unit: 4x slower)
    for (let i = 0; i < 5; i++) {
      s.record('fast', { pipeline: 'upscale', modelId: 'esrgan-slim' }, { kind: 'success', seconds: 1, units: 1e6 }, 0)
      s.record('slow', { pipeline: 'upscale', modelId: 'esrgan-slim' }, { kind: 'success', seconds: 4, units: 1e6 }, 0)
    }
    // a big job on a fast orchestrator is not mistaken for slowness
    s.record('big-jobs', { pipeline: 'upscale', modelId: 'esrgan-slim' }, { kind: 'success', seconds: 10, units: 1e7 }, 0)
    const random = seededRandom(3)
    const list = [candidate('fast'), candidate('slow'), candidate('big-jobs')]
    const counts = firstCounts(() => s.order(list, ctx(0, random)), 3000)
    const fast = counts.get('fast') ?? 0
    const slow = counts.get('slow') ?? 0
    const big = counts.get('big-jobs') ?? 0
    expect(fast).to.be.greaterThan(slow * 5)
    expect(big).to.be.greaterThan(slow * 5)
    expect(slow).to.be.greaterThan(0)
  })

  it('prefers orchestrators with more free slots', () => {
    const s = createAdaptiveStrategy()
    const random = seededRandom(11)
    const list = [candidate('roomy', { capacity: 8, inUse: 0 }), candidate('tight', { capacity: 8, inUse: 7 })]
    const counts = firstCounts(() => s.order(list, ctx(0, random)), 3000)
    expect(counts.get('roomy') ?? 0).to.be.greaterThan(counts.get('tight') ?? 0)
  })

  it('does not penalise busy answers', () => {
    const s = createAdaptiveStrategy()
    for (let i = 0; i < 10; i++) s.record('busy', { pipeline: 'upscale', modelId: 'esrgan-slim' }, { kind: 'busy' }, 0)
    expect(s.stats('busy', { pipeline: 'upscale', modelId: 'esrgan-slim' })).to.equal(undefined)
    const random = seededRandom(5)
    const counts = firstCounts(() => s.order([candidate('busy'), candidate('other')], ctx(0, random)), 2000)
    expect(counts.get('busy') ?? 0).to.be.within(800, 1200)
  })

  it('suspends a failing orchestrator with a backoff that grows, and brings it back afterwards', () => {
    const s = createAdaptiveStrategy({ suspendBaseMs: 1000, suspendMaxMs: 8000, lastResortSuspended: false })
    const list = [candidate('flaky'), candidate('steady')]
    const ids = (now: number): string[] => s.order(list, ctx(now, seededRandom(1))).map(c => c.peerId)

    s.record('flaky', { pipeline: 'upscale', modelId: 'esrgan-slim' }, { kind: 'failure' }, 0)
    expect(ids(500)).to.deep.equal(['steady'])
    expect(ids(1000)).to.include('flaky')

    s.record('flaky', { pipeline: 'upscale', modelId: 'esrgan-slim' }, { kind: 'failure' }, 1000)
    expect(ids(2500)).to.deep.equal(['steady'])
    expect(ids(3000)).to.include('flaky')

    s.record('flaky', { pipeline: 'upscale', modelId: 'esrgan-slim' }, { kind: 'failure' }, 3000)
    expect(s.stats('flaky', { pipeline: 'upscale', modelId: 'esrgan-slim' })?.suspendedUntil).to.equal(7000)
    for (let i = 0; i < 5; i++) s.record('flaky', { pipeline: 'upscale', modelId: 'esrgan-slim' }, { kind: 'failure' }, 10_000)
    expect(s.stats('flaky', { pipeline: 'upscale', modelId: 'esrgan-slim' })?.suspendedUntil).to.equal(18_000) // capped at suspendMaxMs

    // a success ends the suspension and resets the backoff
    s.record('flaky', { pipeline: 'upscale', modelId: 'esrgan-slim' }, { kind: 'success', seconds: 1, units: 1 }, 18_000)
    expect(s.stats('flaky', { pipeline: 'upscale', modelId: 'esrgan-slim' })?.consecutiveFailures).to.equal(0)
    s.record('flaky', { pipeline: 'upscale', modelId: 'esrgan-slim' }, { kind: 'failure' }, 20_000)
    expect(s.stats('flaky', { pipeline: 'upscale', modelId: 'esrgan-slim' })?.suspendedUntil).to.equal(21_000)
  })

  it('sends less traffic to an orchestrator with a lower success rate once it is back', () => {
    const s = createAdaptiveStrategy({ suspendBaseMs: 1 })
    for (let i = 0; i < 3; i++) s.record('flaky', { pipeline: 'upscale', modelId: 'esrgan-slim' }, { kind: 'failure' }, 0)
    const random = seededRandom(9)
    const list = [candidate('flaky'), candidate('steady')]
    const counts = firstCounts(() => s.order(list, ctx(1000, random)), 2000)
    expect(counts.get('steady') ?? 0).to.be.greaterThan((counts.get('flaky') ?? 0) * 3)
  })

  it('orders suspended orchestrators last, soonest back first, so the only one left is still tried', () => {
    const s = createAdaptiveStrategy({ suspendBaseMs: 1000 })
    s.record('a', { pipeline: 'upscale', modelId: 'esrgan-slim' }, { kind: 'failure' }, 0)
    s.record('b', { pipeline: 'upscale', modelId: 'esrgan-slim' }, { kind: 'failure' }, 0)
    s.record('b', { pipeline: 'upscale', modelId: 'esrgan-slim' }, { kind: 'failure' }, 0)
    const list = [candidate('b'), candidate('a'), candidate('healthy')]
    expect(s.order(list, ctx(10, seededRandom(2))).map(c => c.peerId)).to.deep.equal(['healthy', 'a', 'b'])
    expect(s.order([candidate('b')], ctx(10, seededRandom(2))).map(c => c.peerId)).to.deep.equal(['b'])
  })

  it('keeps state per (orchestrator, model)', () => {
    const s = createAdaptiveStrategy({ lastResortSuspended: false })
    s.record('p', { pipeline: 'upscale', modelId: 'model-a' }, { kind: 'failure' }, 0)
    const a = s.order([candidate('p', { modelId: 'model-a' })], { ...ctx(1, Math.random), modelId: 'model-a' })
    const b = s.order([candidate('p', { modelId: 'model-b' })], { ...ctx(1, Math.random), modelId: 'model-b' })
    expect(a).to.have.length(0)
    expect(b).to.have.length(1)
  })

  it('keeps state per (orchestrator, pipeline, model): one model served for two pipelines is measured apart', () => {
    const s = createAdaptiveStrategy()
    const upscale = { pipeline: 'upscale' as const, modelId: 'shared' }
    const i2i = { pipeline: 'image-to-image' as const, modelId: 'shared' }
    // seconds per pixel of upscale and per pixel x step of image-to-image are different units
    s.record('p', upscale, { kind: 'success', seconds: 1, units: 1_000 }, 0)
    s.record('p', i2i, { kind: 'success', seconds: 1, units: 1_000_000 }, 0)
    expect(s.latency('p', upscale)?.secondsPerUnit).to.equal(1e-3)
    expect(s.latency('p', i2i)?.secondsPerUnit).to.equal(1e-6)
    s.record('p', i2i, { kind: 'failure' }, 0)
    expect(s.stats('p', i2i)?.consecutiveFailures).to.equal(1)
    expect(s.stats('p', upscale)?.consecutiveFailures).to.equal(0)
    expect(s.stats('p', { pipeline: 'image-to-text', modelId: 'shared' })).to.equal(undefined)
  })

  it('bounds what it remembers', () => {
    const s = createAdaptiveStrategy({ maxEntries: 10 })
    for (let i = 0; i < 50; i++) s.record(`p${i}`, { pipeline: 'upscale', modelId: 'm' }, { kind: 'failure' }, 0)
    expect(s.stats('p0', { pipeline: 'upscale', modelId: 'm' })).to.equal(undefined)
    expect(s.stats('p49', { pipeline: 'upscale', modelId: 'm' })).to.not.equal(undefined)
  })

  it('lists each orchestrator once even when announced twice', () => {
    const s = createAdaptiveStrategy()
    expect(s.order([candidate('a'), candidate('a'), candidate('b')], ctx(0, seededRandom(2)))).to.have.length(2)
  })

  it('gives unproven orchestrators only the exploration share of first places while proven ones exist', () => {
    const s = createAdaptiveStrategy({ explorationShare: 0.1 })
    for (const p of ['proven-a', 'proven-b']) s.record(p, { pipeline: 'upscale', modelId: 'esrgan-slim' }, { kind: 'success', seconds: 1, units: 1 }, 0)
    // unproven ones advertise far more free slots: without the split they would rank first
    const list = [candidate('proven-a', { capacity: 1 }), candidate('proven-b', { capacity: 1 }), ...Array.from({ length: 50 }, (_, i) => candidate(`new${i}`, { capacity: 1000 }))]
    const random = seededRandom(13)
    const counts = firstCounts(() => s.order(list, ctx(0, random)), 4000)
    const provenFirst = (counts.get('proven-a') ?? 0) + (counts.get('proven-b') ?? 0)
    const share = 1 - provenFirst / 4000
    expect(share).to.be.within(0.07, 0.13)
    // the context overrides the option
    const none = firstCounts(() => s.order(list, { ...ctx(0, random), explorationShare: 0 }), 1000)
    expect((none.get('proven-a') ?? 0) + (none.get('proven-b') ?? 0)).to.equal(1000)
    // every candidate is still ordered, unproven ones after the proven
    expect(s.order(list, { ...ctx(0, random), explorationShare: 0 }).slice(0, 2).map(c => c.peerId).sort()).to.deep.equal(['proven-a', 'proven-b'])
  })

  it('orders unproven orchestrators normally when none is proven', () => {
    const s = createAdaptiveStrategy({ explorationShare: 0.1 })
    const random = seededRandom(17)
    const counts = firstCounts(() => s.order([candidate('a'), candidate('b')], ctx(0, random)), 2000)
    expect(counts.get('a') ?? 0).to.be.within(800, 1200)
  })

  it('keeps a moving variance of seconds per unit for a p95', () => {
    const s = createAdaptiveStrategy({ ewmaAlpha: 0.3 })
    for (let i = 0; i < 50; i++) s.record('steady', { pipeline: 'upscale', modelId: 'm' }, { kind: 'success', seconds: 1, units: 1 }, 0)
    for (let i = 0; i < 50; i++) s.record('jumpy', { pipeline: 'upscale', modelId: 'm' }, { kind: 'success', seconds: i % 2 === 0 ? 0.5 : 1.5, units: 1 }, 0)
    const steady = s.latency('steady', { pipeline: 'upscale', modelId: 'm' })
    const jumpy = s.latency('jumpy', { pipeline: 'upscale', modelId: 'm' })
    expect(steady?.secondsPerUnitVariance).to.equal(0)
    expect(steady?.successes).to.equal(50)
    expect(p95SecondsPerUnit(steady!)).to.equal(1)
    expect(jumpy?.secondsPerUnitVariance).to.be.greaterThan(0.1)
    expect(p95SecondsPerUnit(jumpy!)).to.be.within(1.4, 2.2)
  })
})
