import { mkdir, mkdtemp, open, rm, unlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Registry } from 'prom-client'
import type { Logger } from '../../observability/logger.js'
import type { Attempt } from '../dispatch/errors.js'
import { ResultTooLargeError, StoreFullError, TooManyJobsError } from '../http/errors.js'
import type { GatewayMetrics } from '../metrics.js'
import { createJsonScan } from './json-scan.js'
import { createAsyncStoreMetrics, type AsyncStoreMetrics } from './metrics.js'

/** A result's bytes: in memory when small, else in a file of the spill directory. */
export interface StoredResult {
  size: number
  memory?: Buffer
  file?: string
  /** a JSON result that is one complete object or array, safe to write inside another JSON document */
  json: boolean
}

/** The answer an asynchronous job ended with: the runner's, or the gateway's error. */
export interface AsyncJobOutcome {
  status: number
  contentType: string
  result: StoredResult
  orchestrator?: string
  attempts: Attempt[]
  /** the model the job was dispatched for (after alias resolution) */
  model?: string
  /** a failure's Retry-After (seconds), as the synchronous answer would have carried it */
  retryAfterS?: number
}

/** Whether the job failed: every route reports it as failed, with this status. */
export function outcomeFailed (outcome: AsyncJobOutcome): boolean {
  return outcome.status >= 400
}

export interface AsyncJob {
  requestId: string
  pipeline: string
  createdAt: number
  /** queued: waiting for a dispatch slot (`maxDispatches`) */
  state: 'queued' | 'processing' | 'complete'
  /** aborts the dispatch (server stopping) */
  controller: AbortController
  completedAt?: number
  outcome?: AsyncJobOutcome
}

export interface AsyncJobStoreOptions {
  /** how long a finished job's result is kept */
  ttlMs: number
  /** jobs held at once: queued, processing and complete */
  maxJobs: number
  /** jobs dispatched at once; the rest wait in order */
  maxDispatches: number
  /** the largest result kept (larger: 502) */
  maxResultBytes: number
  /** results up to this size stay in memory... */
  memoryResultBytes: number
  /** ...while all in-memory results together stay under this */
  memoryBudgetBytes: number
  /** all results, memory and disk; past it new jobs are refused and old results evicted */
  storeBudgetBytes: number
  /** directory for spilled results (emptied at start and on close); unset: a temporary one */
  spillDir?: string
}

export interface AsyncJobStore {
  /**
   * Registers a job and runs `run` when a dispatch slot is free; throws TooManyJobsError
   * when `maxJobs` are held and none is complete, StoreFullError when results fill the budget.
   */
  submit: (requestId: string, pipeline: string, run: (job: AsyncJob) => Promise<void>) => AsyncJob
  /** reads `body` into the store (memory, or disk past the thresholds); throws ResultTooLargeError, StoreFullError */
  keep: (requestId: string, contentType: string, body: AsyncIterable<Uint8Array>) => Promise<StoredResult>
  complete: (requestId: string, outcome: AsyncJobOutcome) => void
  /** the job, or undefined when unknown or expired */
  get: (requestId: string) => AsyncJob | undefined
  /** the result's bytes as a stream; the file is opened before this resolves (throws when gone) */
  read: (result: StoredResult) => Promise<AsyncIterable<Buffer>>
  /** drops expired results; also runs on a timer */
  sweep: () => void
  size: () => number
  bytes: () => { memory: number, disk: number }
  /** aborts every job not finished, stops the timer and removes the spilled files */
  close: () => Promise<void>
}

export interface AsyncJobStoreInit {
  options: AsyncJobStoreOptions
  metrics: GatewayMetrics | null
  register?: Registry
  logger: Logger
  now?: () => number
}

function isJsonType (contentType: string): boolean {
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase()
  return type === 'application/json' || type.endsWith('+json')
}

/**
 * Store of `Prefer: respond-async` jobs with a byte budget. Results are kept `ttlMs`
 * after they complete. Small results stay in memory (bounded in total); larger ones are
 * streamed to a file as they arrive, so a result never sits in memory whole. When full
 * (jobs or bytes), the oldest completed results are dropped first, and a new job is
 * refused only when that is not enough. At most `maxDispatches` jobs run at once; the
 * others wait in order (they count as held jobs).
 */
export function createAsyncJobStore (init: AsyncJobStoreInit): AsyncJobStore {
  const { options, metrics, logger } = init
  const now = init.now ?? Date.now
  const storeMetrics: AsyncStoreMetrics | undefined = init.register !== undefined ? createAsyncStoreMetrics(init.register) : undefined
  const jobs = new Map<string, AsyncJob>()
  const waiting: Array<() => void> = []
  let running = 0
  let unfinished = 0
  let memoryBytes = 0
  let diskBytes = 0
  let closed = false
  let spillDir: Promise<string> | undefined
  let fileCount = 0

  const report = (): void => {
    if (metrics !== null) {
      const queued = waiting.length
      metrics.asyncJobs.set({ state: 'queued' }, queued)
      metrics.asyncJobs.set({ state: 'processing' }, unfinished - queued)
      metrics.asyncJobs.set({ state: 'complete' }, jobs.size - unfinished)
    }
    storeMetrics?.resultBytes.set({ where: 'memory' }, memoryBytes)
    storeMetrics?.resultBytes.set({ where: 'disk' }, diskBytes)
  }

  function spillDirectory (): Promise<string> {
    spillDir ??= (async () => {
      if (options.spillDir === undefined) return await mkdtemp(join(tmpdir(), 'shoal-async-'))
      // the directory is the store's own: what an earlier run left is no one's result now
      await rm(options.spillDir, { recursive: true, force: true })
      await mkdir(options.spillDir, { recursive: true, mode: 0o700 })
      return options.spillDir
    })()
    return spillDir
  }

  function release (result: StoredResult | undefined): void {
    if (result === undefined) return
    if (result.file !== undefined) {
      diskBytes -= result.size
      unlink(result.file).catch(() => {})
    } else {
      memoryBytes -= result.size
    }
  }

  function drop (id: string, job: AsyncJob): void {
    jobs.delete(id)
    release(job.outcome?.result)
  }

  function sweep (): void {
    const limit = now() - options.ttlMs
    for (const [id, job] of jobs) {
      if (job.state === 'complete' && (job.completedAt ?? 0) <= limit) drop(id, job)
    }
    report()
  }

  /** drops the oldest completed results until `enough()` */
  function evict (enough: () => boolean): void {
    for (const [id, job] of jobs) {
      if (enough()) break
      if (job.state === 'complete') drop(id, job)
    }
    report()
  }

  const timer = setInterval(sweep, Math.max(1_000, Math.min(options.ttlMs, 60_000)))
  timer.unref()

  function pump (): void {
    while (running < options.maxDispatches && waiting.length > 0) waiting.shift()?.()
    report()
  }

  return {
    submit (requestId, pipeline, run) {
      if (closed) throw new StoreFullError('gateway stopping')
      if (jobs.size >= options.maxJobs) {
        sweep()
        evict(() => jobs.size < options.maxJobs)
        if (jobs.size >= options.maxJobs) throw new TooManyJobsError(options.maxJobs)
      }
      if (memoryBytes + diskBytes >= options.storeBudgetBytes) {
        sweep()
        evict(() => memoryBytes + diskBytes < options.storeBudgetBytes)
        if (memoryBytes + diskBytes >= options.storeBudgetBytes) {
          throw new StoreFullError(`asynchronous results fill the store's budget of ${options.storeBudgetBytes} bytes (asyncStoreBudgetBytes)`)
        }
      }
      const job: AsyncJob = { requestId, pipeline, createdAt: now(), state: 'queued', controller: new AbortController() }
      jobs.set(requestId, job)
      unfinished++
      waiting.push(() => {
        if (job.controller.signal.aborted) return
        running++
        job.state = 'processing'
        run(job).catch((err: unknown) => {
          logger.error({ err, requestId }, 'asynchronous job failed unexpectedly')
        }).finally(() => {
          running--
          pump()
        })
      })
      pump()
      return job
    },

    async keep (requestId, contentType, body) {
      const json = isJsonType(contentType)
      const scan = json ? createJsonScan() : undefined
      const chunks: Buffer[] = []
      let size = 0
      let inMemory = 0
      let file: string | undefined
      let handle: import('node:fs/promises').FileHandle | undefined
      let onDisk = 0
      try {
        for await (const piece of body) {
          const chunk = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength)
          size += chunk.byteLength
          if (size > options.maxResultBytes) throw new ResultTooLargeError(options.maxResultBytes)
          if (memoryBytes + diskBytes + chunk.byteLength > options.storeBudgetBytes) {
            evict(() => memoryBytes + diskBytes + chunk.byteLength <= options.storeBudgetBytes)
            if (memoryBytes + diskBytes + chunk.byteLength > options.storeBudgetBytes) {
              throw new StoreFullError(`asynchronous results fill the store's budget of ${options.storeBudgetBytes} bytes (asyncStoreBudgetBytes)`)
            }
          }
          scan?.push(chunk)
          if (handle === undefined && (size > options.memoryResultBytes || memoryBytes + chunk.byteLength > options.memoryBudgetBytes)) {
            // too large to keep in memory: what came so far goes to a file, then the rest as it arrives
            const dir = await spillDirectory()
            file = join(dir, `${++fileCount}-${requestId.replace(/[^A-Za-z0-9-]/g, '_')}.bin`)
            handle = await open(file, 'w', 0o600)
            memoryBytes -= inMemory
            diskBytes += inMemory
            onDisk = inMemory
            inMemory = 0
            for (const c of chunks.splice(0)) await handle.write(c)
          }
          if (handle !== undefined) {
            diskBytes += chunk.byteLength
            onDisk += chunk.byteLength
            await handle.write(chunk)
          } else {
            memoryBytes += chunk.byteLength
            inMemory += chunk.byteLength
            chunks.push(chunk)
          }
        }
      } catch (err) {
        memoryBytes -= inMemory
        diskBytes -= onDisk
        await handle?.close().catch(() => {})
        if (file !== undefined) await unlink(file).catch(() => {})
        report()
        throw err
      }
      report()
      if (handle !== undefined && file !== undefined) {
        await handle.close()
        return { size, file, json: scan?.valid() === true }
      }
      const memory = chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks)
      let valid = false
      if (json) {
        try {
          JSON.parse(memory.toString('utf8'))
          valid = scan?.valid() === true
        } catch {
          // labelled JSON but is not: kept as text
        }
      }
      return { size, memory, json: valid }
    },

    complete (requestId, outcome) {
      const job = jobs.get(requestId)
      if (job === undefined || job.state === 'complete') {
        // dropped meanwhile (store closed): its bytes are no one's
        release(outcome.result)
        report()
        return
      }
      job.state = 'complete'
      job.completedAt = now()
      job.outcome = outcome
      unfinished--
      report()
    },

    get (requestId) {
      const job = jobs.get(requestId)
      if (job === undefined) return undefined
      if (job.state === 'complete' && (job.completedAt ?? 0) <= now() - options.ttlMs) {
        drop(requestId, job)
        report()
        return undefined
      }
      return job
    },

    async read (result) {
      if (result.file === undefined) {
        const memory = result.memory ?? Buffer.alloc(0)
        return (async function * () { yield memory })()
      }
      // opened now, so a result evicted while it is read stays readable (and one gone is an error before any header)
      const handle = await open(result.file, 'r')
      return handle.createReadStream({ highWaterMark: 64 * 1024, autoClose: true })
    },

    sweep,
    size: () => jobs.size,
    bytes: () => ({ memory: memoryBytes, disk: diskBytes }),

    async close () {
      closed = true
      clearInterval(timer)
      waiting.length = 0
      for (const [id, job] of jobs) {
        if (job.state !== 'complete') job.controller.abort(new Error('gateway stopping'))
        drop(id, job)
      }
      unfinished = 0
      report()
      if (spillDir !== undefined) {
        const dir = await spillDir.catch(() => undefined)
        if (dir !== undefined) await rm(dir, { recursive: true, force: true }).catch(() => {})
      }
    }
  }
}
