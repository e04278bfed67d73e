import { expect } from 'chai'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { createAsyncJobStore, type AsyncJobStoreOptions, type StoredResult } from '../../../src/gateway/async/store.js'
import { createJsonScan } from '../../../src/gateway/async/json-scan.js'
import { StoreFullError, TooManyJobsError, ResultTooLargeError } from '../../../src/gateway/http/errors.js'
import { silentLogger } from '../../../src/observability/logger.js'
import { readAll } from '../../helpers/streams.js'

async function * chunksOf (data: Buffer, size = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.byteLength; i += size) yield data.subarray(i, i + size)
}

describe('gateway async: result store with a byte budget', function () {
  this.timeout(20_000)
  let dir: string
  const base = (over: Partial<AsyncJobStoreOptions> = {}): AsyncJobStoreOptions => ({
    ttlMs: 60_000,
    maxJobs: 100,
    maxDispatches: 4,
    maxResultBytes: 32 * 1024 * 1024,
    memoryResultBytes: 64 * 1024,
    memoryBudgetBytes: 256 * 1024,
    storeBudgetBytes: 64 * 1024 * 1024,
    spillDir: join(dir, 'async-results'),
    ...over
  })

  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'shoal-store-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('keeps small results in memory and streams large ones to a 0600 file in the spill directory, emptied at start and on close', async () => {
    await import('node:fs/promises').then(async fs => { await fs.mkdir(join(dir, 'async-results'), { recursive: true }) })
    await writeFile(join(dir, 'async-results', 'stale.bin'), 'left by an earlier run')
    const register = new Registry()
    const store = createAsyncJobStore({ options: base(), metrics: null, register, logger: silentLogger() })
    const small = await store.keep('s', 'application/json', chunksOf(Buffer.from('{"text":"hi"}')))
    expect(small).to.deep.include({ size: 13, json: true })
    expect(small.memory?.toString()).to.equal('{"text":"hi"}')
    const big = Buffer.alloc(4 * 1024 * 1024, 7)
    const spilled = await store.keep('b', 'image/png', chunksOf(big))
    expect(spilled.memory).to.equal(undefined)
    expect(spilled.file).to.be.a('string')
    expect(spilled.json).to.equal(false)
    expect((await stat(spilled.file as string)).mode & 0o777).to.equal(0o600)
    expect(await readdir(join(dir, 'async-results'))).to.deep.equal([spilled.file?.split('/').at(-1)])
    expect(store.bytes()).to.deep.equal({ memory: 13, disk: big.byteLength })
    expect((await readAll(await store.read(spilled))).equals(big)).to.equal(true)
    expect(await register.metrics()).to.match(/shoal_gateway_async_result_bytes\{where="disk"\} 4194304/)
    await store.close()
    expect(await readdir(dir)).to.deep.equal([])
  })

  it('spills to disk once in-memory results fill the memory budget, even small ones', async () => {
    const store = createAsyncJobStore({ options: base({ memoryResultBytes: 100 * 1024, memoryBudgetBytes: 200 * 1024 }), metrics: null, logger: silentLogger() })
    const results: StoredResult[] = []
    for (let i = 0; i < 5; i++) results.push(await store.keep(`j${i}`, 'application/octet-stream', chunksOf(Buffer.alloc(80 * 1024, i))))
    expect(results.filter(r => r.file === undefined)).to.have.length(2)
    expect(store.bytes().memory).to.be.at.most(200 * 1024)
    expect(store.bytes().disk).to.equal(3 * 80 * 1024)
    await store.close()
  })

  it('refuses a result over maxResultBytes and leaves no file or bytes behind', async () => {
    const store = createAsyncJobStore({ options: base({ maxResultBytes: 1024 * 1024 }), metrics: null, logger: silentLogger() })
    let error: unknown
    try { await store.keep('x', 'image/png', chunksOf(Buffer.alloc(2 * 1024 * 1024))) } catch (err) { error = err }
    expect(error).to.be.instanceOf(ResultTooLargeError)
    expect(store.bytes()).to.deep.equal({ memory: 0, disk: 0 })
    expect(await readdir(join(dir, 'async-results'))).to.deep.equal([])
    await store.close()
  })

  it('bounds bytes: the oldest completed results are evicted for new ones; when only unfinished jobs hold the budget, new jobs get 503', async () => {
    const store = createAsyncJobStore({ options: base({ storeBudgetBytes: 3 * 1024 * 1024, maxDispatches: 10 }), metrics: null, logger: silentLogger() })
    const run = async (): Promise<void> => await new Promise(() => {})
    for (let i = 0; i < 3; i++) {
      store.submit(`old${i}`, 'upscale', run)
      store.complete(`old${i}`, { status: 200, contentType: 'image/png', result: await store.keep(`old${i}`, 'image/png', chunksOf(Buffer.alloc(1024 * 1024))), attempts: [] })
    }
    expect(store.bytes().disk).to.equal(3 * 1024 * 1024)
    // a new job evicts the oldest result to get in
    store.submit('new', 'upscale', run)
    expect(store.get('old0')).to.equal(undefined)
    expect(store.get('old1')).to.not.equal(undefined)
    // a result being written evicts completed ones as it grows
    await store.keep('new', 'image/png', chunksOf(Buffer.alloc(2 * 1024 * 1024)))
    expect(store.get('old1')).to.equal(undefined)
    expect(store.bytes().disk).to.be.at.most(3 * 1024 * 1024)
    // nothing completed left to evict: the next result and the next job are refused
    let keepError: unknown
    try { await store.keep('more', 'image/png', chunksOf(Buffer.alloc(3 * 1024 * 1024))) } catch (err) { keepError = err }
    expect(keepError).to.be.instanceOf(StoreFullError)
    expect(store.get('old2')).to.equal(undefined)
    expect(store.bytes().disk).to.equal(2 * 1024 * 1024)
    await store.keep('fill', 'image/png', chunksOf(Buffer.alloc(1024 * 1024)))
    expect(() => store.submit('refused', 'upscale', run)).to.throw(StoreFullError, /asyncStoreBudgetBytes/)
    await store.close()
  })

  it('refuses a job with TooManyJobsError when maxJobs are held and none completed', async () => {
    const store = createAsyncJobStore({ options: base({ maxJobs: 2 }), metrics: null, logger: silentLogger() })
    const never = async (): Promise<void> => await new Promise(() => {})
    store.submit('a', 'llm', never)
    store.submit('b', 'llm', never)
    expect(() => store.submit('c', 'llm', never)).to.throw(TooManyJobsError)
    await store.close()
  })

  it('runs at most maxDispatches jobs at once; the others wait in order as queued', async () => {
    const store = createAsyncJobStore({ options: base({ maxDispatches: 2 }), metrics: null, logger: silentLogger() })
    let running = 0
    let peak = 0
    const order: string[] = []
    const releases: Array<() => void> = []
    const run = (id: string) => async (): Promise<void> => {
      running++
      peak = Math.max(peak, running)
      order.push(id)
      await new Promise<void>(resolve => releases.push(resolve))
      running--
      store.complete(id, { status: 200, contentType: 'text/plain', result: { size: 0, memory: Buffer.alloc(0), json: false }, attempts: [] })
    }
    for (const id of ['a', 'b', 'c', 'd', 'e']) store.submit(id, 'llm', run(id))
    expect(store.get('c')?.state).to.equal('queued')
    expect(store.get('a')?.state).to.equal('processing')
    while (order.length < 5 || releases.length > 0) {
      const release = releases.shift()
      if (release === undefined) { await new Promise(resolve => setImmediate(resolve)); continue }
      release()
      await new Promise(resolve => setImmediate(resolve))
    }
    expect(peak).to.equal(2)
    expect(order).to.deep.equal(['a', 'b', 'c', 'd', 'e'])
    expect(store.get('e')?.state).to.equal('complete')
    await store.close()
  })

  it('a JSON result is embeddable only when it is one balanced object or array', async () => {
    const store = createAsyncJobStore({ options: base({ memoryResultBytes: 16 }), metrics: null, logger: silentLogger() })
    const spilledJson = await store.keep('j', 'application/json', chunksOf(Buffer.from(JSON.stringify({ images: [{ url: 'data:image/png;base64,' + 'A'.repeat(1000) }] })), 7))
    expect(spilledJson.file).to.be.a('string')
    expect(spilledJson.json).to.equal(true)
    const injected = await store.keep('k', 'application/json', chunksOf(Buffer.from('{"a":1}, "status": "complete"')))
    expect(injected.json).to.equal(false)
    expect(JSON.parse((await readFile(spilledJson.file as string)).toString())).to.have.property('images')
    await store.close()
  })
})

describe('gateway async: JSON scan', () => {
  const scan = (text: string, split = 3): boolean => {
    const s = createJsonScan()
    const bytes = Buffer.from(text)
    for (let i = 0; i < bytes.length; i += split) s.push(bytes.subarray(i, i + split))
    return s.valid()
  }
  it('accepts objects and arrays, brackets inside strings and escaped quotes', () => {
    expect(scan(' {"a":"}]\\"{","b":[1,{"c":null}]} \n')).to.equal(true)
    expect(scan('[]')).to.equal(true)
  })
  it('refuses anything that could end early or add to its container', () => {
    for (const bad of ['{"a":1}}', '{"a":1},{"b":2}', '{"a":1} x', '1', '"s"', '{"a":[1}', '{"a":"open', '', '   ', '{'.repeat(2000) + '}'.repeat(2000)]) {
      expect(scan(bad), bad.slice(0, 40)).to.equal(false)
    }
  })
})
