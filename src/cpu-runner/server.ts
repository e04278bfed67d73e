/**
 * The CPU runner's HTTP server: the ai-runner API (routes, fields, defaults, response
 * and error shapes of ai-runner v0.14.1) in front of one model that really runs on CPU.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { once, setMaxListeners } from 'node:events'
import os from 'node:os'
import Fastify, { LogController, type FastifyReply, type FastifyRequest } from 'fastify'
import multipart from '@fastify/multipart'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { silentLogger } from '../observability/logger.js'
import type { JsonValue } from '../kernel/job.js'
import { pipelineDefinition, type PipelineName } from '../kernel/pipelines.js'
import { prepareValidators } from '../kernel/pipelines/validate.js'
import { ModelFailureError, ModelInputError, RunnerBusyError } from './errors.js'
import { createJobQueue } from './job-queue.js'
import { createCpuRunnerMetrics } from './metrics.js'
import { createCpuModel } from './models/index.js'
import type { ModelOutput } from './models/types.js'
import { resolveCpuRunnerOptions, type CpuRunnerOptions } from './options.js'
import { validateRunnerRequest, type RawRequest, type RequestFile, type ValidationIssue } from './schemas.js'
import { CPU_RUNNER_VERSION } from './version.js'
import { anySignal } from '../signals/any-signal.js'

/** The states of `GET /health`, as ai-runner names them. */
export type RunnerHealthStatus = 'LOADING' | 'OK' | 'ERROR' | 'IDLE'

export interface CpuRunnerServer {
  readonly pipeline: PipelineName
  readonly modelId: string
  /** `http://host:port` once listening; throws before */
  readonly url: string
  /** what `GET /health` answers now */
  readonly status: RunnerHealthStatus
  /** Listens (health answers LOADING) and starts loading the model in the background; resolves to the URL. */
  listen: (options?: { signal?: AbortSignal }) => Promise<string>
  /** Resolves once the model is loaded (health OK); rejects with `ModelFailureError` if it failed. */
  ready: (options?: { signal?: AbortSignal }) => Promise<void>
  /** `listen()` then `ready()`. */
  start: (options?: { signal?: AbortSignal }) => Promise<void>
  /** Aborts running jobs, closes the server and the model. Idempotent. */
  stop: () => Promise<void>
}

/** A body that is not valid JSON: FastAPI answers 422 `json_invalid`. */
class JsonBodyError extends Error {}

const jsonError = (msg: string): { detail: { msg: string } } => ({ detail: { msg } })

/**
 * Creates a runner for (pipeline, modelId). Throws `UnsupportedRunnerModelError` at
 * once when this runner cannot really run that model.
 */
export function createCpuRunnerServer (options: CpuRunnerOptions): CpuRunnerServer {
  const opts = resolveCpuRunnerOptions(options)
  const logger = opts.logger ?? silentLogger()
  const model = createCpuModel(opts.pipeline, opts.modelId, { logger, maxInputPixels: opts.maxInputPixels, workers: opts.workers })
  const pipeline = model.pipeline
  const registry = opts.registry ?? new Registry()
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry })
  const metrics = createCpuRunnerMetrics(registry)
  const queue = createJobQueue(model.concurrency, opts.maxQueue)
  const stopController = new AbortController()
  // every request in flight listens on it
  setMaxListeners(Infinity, stopController.signal)
  const tokenDigest = opts.authToken === undefined ? null : createHash('sha256').update(opts.authToken).digest()

  let status: RunnerHealthStatus = 'LOADING'
  let url: string | null = null
  let loading: Promise<void> | null = null
  let stopping: Promise<void> | null = null

  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.maxBodyBytes,
    forceCloseConnections: true,
    // longer than clients' keep-alive idle time, so a reused socket is not closed under a request
    keepAliveTimeout: 65_000
  })

  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string
    if (text.trim() === '') { done(null, undefined); return }
    try {
      done(null, JSON.parse(text))
    } catch {
      done(new JsonBodyError('JSON decode error'), undefined)
    }
  })
  void app.register(multipart, {
    limits: { fileSize: opts.maxBodyBytes, files: 8, fields: 64, fieldSize: 1024 * 1024, parts: 80 }
  })

  app.setNotFoundHandler((_request, reply) => { void reply.code(404).send({ detail: 'Not Found' }) })
  app.setErrorHandler((err: Error & { statusCode?: number, code?: string }, request, reply) => {
    if (err instanceof JsonBodyError) {
      void reply.code(422).send({ detail: [{ loc: ['body', 0], msg: 'JSON decode error', type: 'json_invalid' }] })
      return
    }
    const code = err.statusCode ?? 500
    if (code === 413) { void reply.code(413).send(jsonError('Request body too large.')); return }
    if (code === 415) { void reply.code(415).send(jsonError(`Unsupported media type: ${request.headers['content-type'] ?? 'none'}.`)); return }
    if (code >= 400 && code < 500) { void reply.code(code).send(jsonError(err.message)); return }
    logger.error({ err }, 'runner request failed')
    void reply.code(500).send(jsonError('Pipeline error.'))
  })

  app.get('/health', async () => ({ status }))
  app.get('/version', async () => ({ pipeline, model_id: model.modelId, version: CPU_RUNNER_VERSION }))
  /** With a token, pipeline and hardware routes require it; /health, /version and /metrics stay open (probes). */
  const requireToken = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (tokenDigest === null) return
    const header = request.headers.authorization ?? ''
    const match = /^Bearer\s+(.+)$/i.exec(header)
    const given = createHash('sha256').update(match?.[1] ?? '').digest()
    if (match === null || !timingSafeEqual(given, tokenDigest)) {
      if (request.method === 'POST') metrics.requests.inc({ pipeline, status: '401' })
      await reply.code(401).send(jsonError('Invalid bearer token.'))
    }
  }

  app.get('/hardware/info', { onRequest: requireToken }, async () => ({
    pipeline,
    model_id: model.modelId,
    // a CPU runner has no GPU; the CPU it runs on is reported beside the reference fields
    gpu_info: {},
    cpu_info: { name: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism(), memory_total: os.totalmem() }
  }))
  app.get('/hardware/stats', { onRequest: requireToken }, async () => ({
    pipeline,
    model_id: model.modelId,
    gpu_stats: {},
    cpu_stats: {
      load_average: os.loadavg()[0],
      memory_free: os.freemem(),
      process_rss: process.memoryUsage.rss(),
      jobs_running: queue.running,
      jobs_waiting: queue.waiting
    }
  }))
  app.get('/metrics', async (_request, reply) => {
    void reply.type(registry.contentType)
    return await registry.metrics()
  })

  app.post(pipelineDefinition(pipeline).route, { onRequest: requireToken }, handlePipeline)

  async function readRequest (request: FastifyRequest): Promise<RawRequest | ValidationIssue[]> {
    if (!request.isMultipart()) {
      const body = request.body
      if (body === undefined || body === null) return { fields: {}, files: {}, form: false }
      if (typeof body !== 'object' || Array.isArray(body)) {
        return [{ loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', type: 'model_attributes_type' }]
      }
      return { fields: body as Record<string, unknown>, files: {}, form: false }
    }
    const fields: Record<string, unknown> = {}
    const files: Record<string, RequestFile> = {}
    try {
      for await (const part of request.parts()) {
        if (part.type === 'file') {
          files[part.fieldname] = { filename: part.filename, contentType: part.mimetype, data: await part.toBuffer() }
        } else {
          if (part.valueTruncated) throw Object.assign(new Error('a form field is too large'), { statusCode: 413 })
          fields[part.fieldname] = typeof part.value === 'string' ? part.value : String(part.value)
        }
      }
    } catch (err) {
      const code = (err as { statusCode?: number }).statusCode
      if (code !== undefined && code >= 400 && code < 500) throw err
      throw Object.assign(new Error(`Malformed multipart body: ${(err as Error).message}`), { statusCode: 400 })
    }
    return { fields, files, form: true }
  }

  async function handlePipeline (request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const started = performance.now()
    const finish = (code: number): void => {
      metrics.requests.inc({ pipeline, status: String(code) })
      metrics.duration.observe({ pipeline }, (performance.now() - started) / 1000)
    }
    if (status !== 'OK') {
      finish(503)
      return await reply.code(503).send(jsonError(status === 'LOADING' ? 'Model is loading.' : 'Model failed to load.'))
    }
    const raw = await readRequest(request)
    const validated = Array.isArray(raw) ? { ok: false as const, issues: raw } : validateRunnerRequest(pipeline, raw)
    if (!validated.ok) {
      finish(422)
      return await reply.code(422).send({ detail: validated.issues })
    }
    const requested = validated.value.model
    if (requested !== '' && requested !== model.modelId) {
      finish(400)
      return await reply.code(400).send(jsonError(`pipeline configured with ${model.modelId} but called with ${requested}`))
    }

    // the client going away (connection closed before the response) cancels the job
    // one controller for both reasons to stop, wired by hand: AbortSignal.any allocated more
    // than anything else in a small request (it keeps weak references on every source)
    const job = new AbortController()
    let clientGone = false
    const onClose = (): void => {
      if (reply.raw.writableFinished) return
      clientGone = true
      job.abort(new Error('client disconnected'))
    }
    const onStop = (): void => { job.abort(stopController.signal.reason) }
    reply.raw.once('close', onClose)
    if (stopController.signal.aborted) onStop()
    else stopController.signal.addEventListener('abort', onStop, { once: true })
    const detach = (): void => {
      reply.raw.off('close', onClose)
      stopController.signal.removeEventListener('abort', onStop)
    }
    const signal = job.signal
    let output: ModelOutput
    let release: (() => void) | undefined
    try {
      metrics.queued.inc()
      try {
        release = await queue.acquire(signal)
      } finally {
        metrics.queued.dec()
      }
      metrics.inFlight.inc()
      try {
        output = await model.run(validated.value, { signal })
      } finally {
        metrics.inFlight.dec()
      }
    } catch (err) {
      release?.()
      detach()
      if (clientGone) {
        metrics.aborted.inc()
        finish(499)
        reply.hijack()
        reply.raw.destroy()
        return reply
      }
      if (err instanceof ModelInputError) { finish(400); return await reply.code(400).send(jsonError(err.message)) }
      if (err instanceof RunnerBusyError) { finish(503); return await reply.code(503).send(jsonError(err.message)) }
      if (stopController.signal.aborted) { finish(503); return await reply.code(503).send(jsonError('The runner is stopping.')) }
      logger.error({ err }, 'pipeline error')
      finish(500)
      return await reply.code(500).send(jsonError('Pipeline error.'))
    }
    if (output.kind === 'json') {
      release?.()
      detach()
      finish(200)
      return await reply.code(200).type('application/json').send(JSON.stringify(output.body))
    }
    reply.hijack()
    try {
      await streamEvents(reply, output.events, signal)
    } finally {
      release?.()
      detach()
      if (clientGone) metrics.aborted.inc()
      finish(clientGone ? 499 : 200)
    }
    return reply
  }

  /** Server-Sent Events as ai-runner streams LLM output: `data: <json>` per chunk, then `data: [DONE]`. */
  async function streamEvents (reply: FastifyReply, events: AsyncIterable<JsonValue>, signal: AbortSignal): Promise<void> {
    const res = reply.raw
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' })
    const write = async (text: string): Promise<void> => {
      if (!res.write(text)) await once(res, 'drain', { signal })
    }
    try {
      for await (const event of events) {
        signal.throwIfAborted()
        await write(`data: ${JSON.stringify(event)}\n\n`)
      }
      await write('data: [DONE]\n\n')
    } catch (err) {
      if (!signal.aborted) {
        logger.error({ err }, 'pipeline error while streaming')
        res.write(`data: ${JSON.stringify({ error: { message: 'Pipeline error.' } })}\n\n`)
      }
    } finally {
      res.end()
    }
  }

  async function load (signal?: AbortSignal): Promise<void> {
    const started = performance.now()
    try {
      await model.load({ signal: signal === undefined ? stopController.signal : anySignal([signal, stopController.signal]) })
      metrics.modelLoadSeconds.set((performance.now() - started) / 1000)
      status = 'OK'
      logger.info({ pipeline, modelId: model.modelId, ms: Math.round(performance.now() - started) }, 'model loaded')
    } catch (err) {
      status = 'ERROR'
      if (stopController.signal.aborted || signal?.aborted === true) logger.info({ pipeline, modelId: model.modelId }, 'model load cancelled')
      else logger.error({ err, pipeline, modelId: model.modelId }, 'model failed to load')
      throw err instanceof ModelFailureError ? err : new ModelFailureError(`model ${model.modelId} failed to load: ${(err as Error).message}`, { cause: err })
    }
  }

  const server: CpuRunnerServer = {
    pipeline,
    modelId: model.modelId,
    get url () {
      if (url === null) throw new Error('the runner is not listening yet')
      return url
    },
    get status () { return status },
    listen: async ({ signal } = {}) => {
      if (url !== null) return url
      signal?.throwIfAborted()
      prepareValidators([pipelineDefinition(pipeline)])
      await app.listen({ host: opts.host, port: opts.port, ...(signal === undefined ? {} : { signal }) })
      // fastify resolves without listening when the signal aborted meanwhile
      signal?.throwIfAborted()
      const address = app.server.address()
      if (address === null || typeof address === 'string') throw new Error('the runner has no TCP address')
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
      url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host}:${address.port}`
      logger.info({ url, pipeline, modelId: model.modelId }, 'runner listening')
      loading = load(signal)
      loading.catch(() => {})
      return url
    },
    ready: async ({ signal } = {}) => {
      if (loading === null) throw new Error('call listen() first')
      if (signal === undefined) { await loading; return }
      signal.throwIfAborted()
      await Promise.race([loading, once(signal, 'abort').then(() => { throw signal.reason })])
    },
    start: async (options = {}) => {
      await server.listen(options)
      await server.ready(options)
    },
    stop: async () => {
      stopping ??= (async () => {
        stopController.abort(new Error('the runner is stopping'))
        await app.close()
        await model.close()
      })()
      await stopping
    }
  }
  return server
}
