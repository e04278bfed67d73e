import { expect } from 'chai'
import { Registry } from 'prom-client'
import { createCandidateLookup } from '../../../src/gateway/lookup/index.js'
import { silentLogger } from '../../../src/observability/logger.js'

/** a DHT stand-in: each lookup waits until released (or its signal aborts) and finds what `known` holds */
function fakeDht () {
  const started: string[] = []
  const waiting: Array<() => void> = []
  const known = new Set<string>()
  let aborted = 0
  return {
    started,
    known,
    get aborted () { return aborted },
    releaseAll: () => { for (const r of waiting.splice(0)) r() },
    lookup: async (pipeline: string, modelId: string, { signal }: { signal: AbortSignal }): Promise<number> => {
      started.push(`${pipeline}/${modelId}`)
      await new Promise<void>((resolve) => {
        waiting.push(resolve)
        signal.addEventListener('abort', () => { aborted++; resolve() }, { once: true })
      })
      return known.has(`${pipeline}/${modelId}`) ? 1 : 0
    },
    has: (pipeline: string, modelId: string) => known.has(`${pipeline}/${modelId}`)
  }
}

describe('gateway lookup: DHT lookups for unknown models', () => {
  it('500 concurrent requests for distinct unknown models start at most maxConcurrent lookups; the rest return at once', async () => {
    const dht = fakeDht()
    const lookups = createCandidateLookup({ lookup: dht.lookup, has: dht.has, options: { maxConcurrent: 4, timeoutMs: 10_000 }, logger: silentLogger() })
    const t0 = Date.now()
    const all = Array.from({ length: 500 }, async (_, i) => await lookups.refill('upscale', `unknown-${i}`, new AbortController().signal))
    // the 496 over capacity settle without waiting for any lookup
    const early = await Promise.race([Promise.all(all.slice(4)), new Promise(resolve => setTimeout(() => resolve('timeout'), 5_000))])
    expect(early).to.be.an('array')
    expect(new Set(early as string[])).to.deep.equal(new Set(['over_capacity']))
    expect(dht.started).to.have.length(4)
    expect(lookups.running()).to.equal(4)
    dht.releaseAll()
    expect(await Promise.all(all.slice(0, 4))).to.deep.equal(['not_found', 'not_found', 'not_found', 'not_found'])
    expect(lookups.running()).to.equal(0)
    expect(Date.now() - t0).to.be.below(5_000)
  })

  it('concurrent requests for one model share one lookup; "not found" is remembered for the TTL, then looked up again', async () => {
    const dht = fakeDht()
    let clock = 1_000
    const register = new Registry()
    const lookups = createCandidateLookup({ lookup: dht.lookup, has: dht.has, options: { negativeTtlMs: 30_000 }, logger: silentLogger(), register, now: () => clock })
    const signal = new AbortController().signal
    const same = Array.from({ length: 50 }, async () => await lookups.refill('llm', 'nope', new AbortController().signal))
    await new Promise(resolve => setImmediate(resolve))
    expect(dht.started).to.deep.equal(['llm/nope'])
    dht.releaseAll()
    const outcomes = await Promise.all(same)
    expect(outcomes.filter(o => o === 'not_found')).to.have.length(1)
    expect(outcomes.filter(o => o === 'joined')).to.have.length(49)

    expect(await lookups.refill('llm', 'nope', signal)).to.equal('cached_not_found')
    expect(dht.started).to.have.length(1)
    // another pipeline is another key
    const other = lookups.refill('upscale', 'nope', signal)
    await new Promise(resolve => setImmediate(resolve))
    expect(dht.started).to.have.length(2)
    dht.releaseAll()
    await other

    clock += 30_001
    dht.known.add('llm/nope')
    const again = lookups.refill('llm', 'nope', signal)
    await new Promise(resolve => setImmediate(resolve))
    dht.releaseAll()
    expect(await again).to.equal('found')
    expect(dht.started).to.have.length(3)
    const text = await register.metrics()
    expect(text).to.match(/shoal_gateway_candidate_lookups_total\{result="cached_not_found"\} 1/)
    expect(text).to.match(/shoal_gateway_candidate_lookups_total\{result="joined"\} 49/)
  })

  it('a caller that gives up stops waiting without aborting the lookup others share; the lookup ends at its own timeout', async () => {
    const dht = fakeDht()
    const lookups = createCandidateLookup({ lookup: dht.lookup, has: dht.has, options: { timeoutMs: 200 }, logger: silentLogger() })
    const impatient = new AbortController()
    const first = lookups.refill('upscale', 'm', impatient.signal)
    const second = lookups.refill('upscale', 'm', new AbortController().signal)
    impatient.abort(new Error('client left'))
    await first.catch((err: Error) => { expect(err.message).to.equal('client left') })
    expect(dht.aborted).to.equal(0)
    // never released: the lookup's own deadline ends it
    expect(await second).to.equal('joined')
    expect(dht.aborted).to.equal(1)
  })

  it('forgets the oldest "not found" past maxNegativeEntries', async () => {
    const dht = fakeDht()
    const lookups = createCandidateLookup({ lookup: dht.lookup, has: dht.has, options: { maxNegativeEntries: 2, maxConcurrent: 10 }, logger: silentLogger() })
    const signal = new AbortController().signal
    for (const m of ['a', 'b', 'c']) {
      const p = lookups.refill('llm', m, signal)
      await new Promise(resolve => setImmediate(resolve))
      dht.releaseAll()
      await p
    }
    expect(await lookups.refill('llm', 'c', signal)).to.equal('cached_not_found')
    const a = lookups.refill('llm', 'a', signal)
    await new Promise(resolve => setImmediate(resolve))
    expect(dht.started.at(-1)).to.equal('llm/a')
    dht.releaseAll()
    await a
  })
})
