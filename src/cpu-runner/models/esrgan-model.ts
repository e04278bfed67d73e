/**
 * The `upscale` pipeline's ESRGAN model as the runner uses it: `workers` worker
 * threads, each holding one copy of the model (1-3 MB of weights), so that inference
 * never blocks the HTTP event loop and an aborted request stops its job.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { randomInt } from 'node:crypto'
import type { Logger } from '../../observability/logger.js'
import { ModelFailureError, ModelInputError } from '../errors.js'
import type { EsrganModelSpec, EsrganOptions } from './esrgan.js'
import type { EsrganWorkerData, EsrganWorkerReply, EsrganWorkerRequest } from './esrgan-worker.js'
import type { CpuModel } from './types.js'

export interface EsrganModelOptions extends EsrganOptions {
  /** worker threads, i.e. jobs run at once. @default 1 */
  workers?: number
  logger: Logger
}

interface Pending {
  resolve: (reply: Extract<EsrganWorkerReply, { type: 'result' }>) => void
  reject: (err: Error) => void
}

interface ModelWorker {
  worker: Worker
  busy: boolean
  pending: Map<number, Pending>
}

/**
 * The worker's entry. Compiled, it is `esrgan-worker.js`. From TypeScript sources
 * (tsx: tests, dev), a worker does not inherit the tsx loader, so a small module
 * registers it first and then imports the `.ts` worker.
 */
function workerEntry (): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./esrgan-worker.js', import.meta.url)
  const worker = new URL('./esrgan-worker.ts', import.meta.url).href
  // the ESM flavour of tsx's API, found through its package.json (CommonJS resolution would pick the .cjs one)
  const require = createRequire(import.meta.url)
  const pkgPath = require.resolve('tsx/package.json')
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> }
  const api = JSON.stringify(pathToFileURL(join(dirname(pkgPath), pkg.exports['./esm/api'].import.default)).href)
  const code = `const api = await import(${api}); api.register(); await import(${JSON.stringify(worker)})`
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`)
}

export function createEsrganModel (spec: EsrganModelSpec, options: EsrganModelOptions): CpuModel {
  const { workers: workerCount = 1, logger, ...esrganOptions } = options
  const workers: ModelWorker[] = []
  let nextId = 1
  let closed = false

  async function spawn (signal?: AbortSignal): Promise<ModelWorker> {
    const data: EsrganWorkerData = { spec, options: esrganOptions }
    const worker = new Worker(workerEntry(), { workerData: data, execArgv: [] })
    const slot: ModelWorker = { worker, busy: false, pending: new Map() }
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => { void worker.terminate(); reject(signal?.reason as Error) }
      signal?.addEventListener('abort', onAbort, { once: true })
      const onExit = (code: number): void => { reject(new ModelFailureError(`the model worker exited with code ${code} while loading`)) }
      worker.once('exit', onExit)
      worker.once('error', reject)
      worker.once('message', (reply: EsrganWorkerReply) => {
        signal?.removeEventListener('abort', onAbort)
        worker.off('exit', onExit)
        worker.off('error', reject)
        if (reply.type === 'ready') resolve()
        else reject(new ModelFailureError(`the model failed to load: ${reply.type === 'load-error' ? reply.message : reply.type}`))
      })
    })
    worker.on('message', (reply: EsrganWorkerReply) => {
      if (reply.type !== 'result' && reply.type !== 'error') return
      const pending = slot.pending.get(reply.id)
      if (pending === undefined) return
      slot.pending.delete(reply.id)
      if (reply.type === 'result') pending.resolve(reply)
      else if (reply.input) pending.reject(new ModelInputError(reply.message))
      else pending.reject(new ModelFailureError(reply.aborted ? 'the job was aborted' : reply.message))
    })
    worker.on('error', (err) => { logger.error({ err }, 'model worker failed') })
    worker.on('exit', (code) => {
      const index = workers.indexOf(slot)
      if (index >= 0) workers.splice(index, 1)
      for (const pending of slot.pending.values()) pending.reject(new ModelFailureError(`the model worker exited with code ${code}`))
      slot.pending.clear()
      if (!closed) logger.warn({ code }, 'model worker exited; a new one starts on the next job')
    })
    return slot
  }

  return {
    pipeline: 'upscale',
    modelId: spec.modelId,
    concurrency: workerCount,
    load: async ({ signal } = {}) => {
      // one at a time: two CPUs, and each load compiles the WASM kernels
      for (let i = 0; i < workerCount; i++) workers.push(await spawn(signal))
    },
    run: async (request, { signal }) => {
      signal.throwIfAborted()
      let slot = workers.find((w) => !w.busy)
      if (slot === undefined) {
        if (closed) throw new ModelFailureError('the model is closed')
        slot = await spawn(signal)
        workers.push(slot)
      }
      slot.busy = true
      const id = nextId++
      const target = slot
      const onAbort = (): void => { target.worker.postMessage({ type: 'abort', id } satisfies EsrganWorkerRequest) }
      try {
        const result = await new Promise<Extract<EsrganWorkerReply, { type: 'result' }>>((resolve, reject) => {
          target.pending.set(id, { resolve, reject })
          target.worker.postMessage({ type: 'run', id, image: request.files.image.data } satisfies EsrganWorkerRequest)
          signal.addEventListener('abort', onAbort, { once: true })
        })
        const seed = typeof request.params.seed === 'number' ? request.params.seed : randomInt(0, 2 ** 32)
        const png = Buffer.from(result.png.buffer, result.png.byteOffset, result.png.byteLength)
        // no safety checker runs on CPU: nsfw is always false (safety_check is accepted and ignored)
        return { kind: 'json', body: { images: [{ url: `data:image/png;base64,${png.toString('base64')}`, seed, nsfw: false }] } }
      } finally {
        signal.removeEventListener('abort', onAbort)
        target.busy = false
      }
    },
    close: async () => {
      closed = true
      await Promise.all(workers.splice(0).map(async (w) => await w.worker.terminate()))
    }
  }
}
