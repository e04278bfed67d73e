import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { StringDecoder } from 'node:string_decoder'
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import multipart from '@fastify/multipart'
import type { Registry } from 'prom-client'
import type { Logger } from '../../observability/logger.js'
import { createAsyncJobStore, outcomeFailed, type AsyncJob, type AsyncJobOutcome, type AsyncJobStore, type StoredResult } from '../async/store.js'
import { DispatchAbortedError, DispatchError, NoOrchestratorError } from '../dispatch/errors.js'
import { resolveModelAlias } from '../aliases.js'
import { ModelNotServedApiError } from './not-served.js'
import type { Dispatcher, DispatchOptions, DispatchResult } from '../dispatch/dispatcher.js'
import { statusClass, type GatewayMetrics } from '../metrics.js'
import { createApiKeyCheck } from './auth.js'
import {
  ApiError, BadRequestError, InternalApiError, NotFoundError, PayloadTooLargeError, RequestTimeoutError, ServiceStoppingError,
  UnauthorizedError, ValidationError
} from './errors.js'
import { answerAndClose, createClientErrorHandler, watchBodyRate } from './connection-guard.js'
import { dispatchHeaders, SHOAL_HEADERS } from './headers.js'
import { resolveGatewayHttpOptions, type GatewayHttpOptions } from './options.js'
import { mediaType, readJobRequest } from './read-request.js'
import { parseJsonJob, parseMultipartJob, type ParseContext, type ParsedForm, type ParsedJob } from './schemas/parse.js'
import { GATEWAY_PIPELINES, pipelineDefinition, type GatewayPipeline } from '../../kernel/pipelines.js'
import { prepareValidators } from '../../kernel/pipelines/validate.js'
import { toApiError } from './to-api-error.js'
import { openAiNotFound, registerOpenAiRoutes } from '../openai/index.js'
import { registerDashboardRoutes, type DashboardSource } from '../dashboard/index.js'
import { relay } from './relay.js'
import { registerCustomRoutes } from '../custom/routes.js'
import type { CapabilityListing } from '../custom/listing.js'

/** What the server needs of the directory: a JSON-serialisable list (bigints become strings). */
export interface DirectoryView {
  list: () => unknown[]
  /** the model ids orchestrators announce for a pipeline, named in 503s */
  servedModels?: (pipeline: string) => string[]
  /** the custom capabilities the mesh serves (`GET /capabilities`); none without it */
  customCapabilities?: () => CapabilityListing[]
}

export interface GatewayHttpServerInit {
  dispatcher: Pick<Dispatcher, 'dispatch'>
  directory: DirectoryView
  options?: Partial<GatewayHttpOptions>
  logger: Logger
  metrics: GatewayMetrics | null
  /** what `GET /metrics` serves; defaults to `metrics.register` */
  registry?: Registry
  /** what `GET /dashboard` shows; no dashboard without it */
  dashboard?: DashboardSource
  /** the signed receipts `GET /receipts/:requestId` serves (src/gateway/verification); no route without it */
  receipts?: { get: (requestId: string) => unknown[] }
  /** more route groups (live video), registered with the same auth, metrics and error handling */
  extraRoutes?: Array<(add: AddRoute, app: FastifyInstance) => void>
}

export interface GatewayHttpServer {
  /** listens on `options.host:options.port` */
  start: () => Promise<void>
  /** aborts dispatches in flight (sync and async) and closes the server */
  stop: () => Promise<void>
  /** where it listens, once started */
  readonly address: { host: string, port: number, url: string } | undefined
  /** the fastify instance (for `inject` in tests) */
  readonly app: FastifyInstance
}

export interface RouteInfo {
  operationId: string
  /** the pipeline its metrics count under (`custom`: the custom capability routes) */
  pipeline?: GatewayPipeline | 'custom'
  auth: boolean
  /** the route's own error body (the OpenAI-compatible routes answer in OpenAI's shape) */
  errorShape?: (error: ApiError) => ApiError
}

/** A request already in a pipeline's own fields, as the pipeline routes take it (JSON body or multipart form). */
export type PipelineInput = { json: unknown } | { form: ParsedForm }

/** Adds a route; `info` says whether it needs the API key and which pipeline its metrics count under. */
export type AddRoute = (method: 'GET' | 'POST' | 'DELETE' | 'PATCH', url: string, info: RouteInfo, handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>) => void

/**
 * The pipeline routes' path for a request translated to a pipeline's fields (the
 * OpenAI-compatible routes): validated as `/<pipeline>` validates, dispatched and paid
 * the same way, aborted when the client leaves; the answer's Shoal headers are set.
 */
export type SubmitJob = (pipeline: GatewayPipeline, input: PipelineInput, request: FastifyRequest, reply: FastifyReply) => Promise<DispatchResult>

/** A parsed job after alias resolution: `alias` is the model id the client asked for, when replaced. */
type ServedJob = ParsedJob & { alias?: string }

/** `Prefer: respond-async` (RFC 7240), among other preferences */
function prefersAsync (header: string | string[] | undefined): boolean {
  const values = Array.isArray(header) ? header : header === undefined ? [] : [header]
  return values.some(v => v.split(',').some(p => p.split(';')[0]?.trim().toLowerCase() === 'respond-async'))
}

/** JSON that tolerates bigints (prices) by writing them as decimal strings. */
function toJson (value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => typeof v === 'bigint' ? v.toString() : v)
}

/** An error's JSON body as a stored result (kept in memory: it is small). */
function errorResult (error: ApiError): StoredResult {
  const memory = Buffer.from(JSON.stringify(error.toBody()))
  return { size: memory.byteLength, memory, json: true }
}

/**
 * An async job's result written inside a JSON document, chunk by chunk: a JSON object or
 * array as is, text as `{"content_type","text"}`, anything else as `{"content_type","base64"}`.
 */
async function * resultJsonChunks (contentType: string, result: StoredResult, bytes: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const type = mediaType(contentType)
  if (result.json) {
    yield * bytes
    return
  }
  const textual = type.startsWith('text/') || type === 'application/json' || type.endsWith('+json')
  yield Buffer.from(`{"content_type":${JSON.stringify(contentType)},"${textual ? 'text' : 'base64'}":"`)
  if (textual) {
    const decoder = new StringDecoder('utf8')
    for await (const chunk of bytes) {
      const text = decoder.write(chunk)
      if (text !== '') yield Buffer.from(JSON.stringify(text).slice(1, -1))
    }
    const rest = decoder.end()
    if (rest !== '') yield Buffer.from(JSON.stringify(rest).slice(1, -1))
  } else {
    // base64 in whole groups of 3 bytes, so the pieces join into one valid string
    let carry = Buffer.alloc(0)
    for await (const chunk of bytes) {
      const all = carry.byteLength === 0 ? chunk : Buffer.concat([carry, chunk])
      const whole = all.byteLength - (all.byteLength % 3)
      if (whole > 0) yield Buffer.from(all.subarray(0, whole).toString('base64'))
      carry = Buffer.from(all.subarray(whole))
    }
    if (carry.byteLength > 0) yield Buffer.from(carry.toString('base64'))
  }
  yield Buffer.from('"}')
}

/** `head` (a JSON object's members, without braces), then `"result":` and the streamed result, closed. */
async function * jsonEnvelope (head: Record<string, unknown>, contentType: string, result: StoredResult, bytes: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const members = JSON.stringify(head).slice(1, -1)
  yield Buffer.from(`{${members}${members === '' ? '' : ','}"result":`)
  yield * resultJsonChunks(contentType, result, bytes)
  yield Buffer.from('}')
}

/**
 * The gateway's HTTP API, wire-compatible with the Livepeer AI gateway.
 *
 * Routes: POST `/<pipeline>` and `/api/generate/<pipeline>` for every pipeline of
 * `GATEWAY_PIPELINES`; POST `/<pipeline>/result` (and under `/api/generate`) to poll an
 * asynchronous job as the reference does; GET `/jobs/:requestId` (status as JSON) and
 * GET `/jobs/:requestId/result` (the raw result); GET `/health`; GET
 * `/network/orchestrators`; GET `/metrics`.
 *
 * Every answer carries `X-Shoal-Request-Id` and `X-Shoal-Duration-Ms`; pipeline answers
 * also `X-Shoal-Attempts`, `X-Shoal-Tried` and `X-Shoal-Orchestrator` (see
 * `SHOAL_HEADERS`). Errors have one JSON body per status (see `ApiError`).
 */
export function createGatewayHttpServer (init: GatewayHttpServerInit): GatewayHttpServer {
  const options = resolveGatewayHttpOptions(init.options)
  const { dispatcher, directory, logger, metrics } = init
  const registry = init.registry ?? metrics?.register
  const checkKey = options.apiKeys.length > 0 ? createApiKeyCheck(options.apiKeys) : undefined
  const parseContext: ParseContext = { defaultModels: options.defaultModels, maxImagePixels: options.maxImagePixels }
  const limits = { bodyLimitBytes: options.bodyLimitBytes, maxFieldBytes: options.maxFieldBytes }
  /** one controller per synchronous dispatch in flight, aborted by `stop()` */
  const active = new Set<AbortController>()
  let stopping = false
  const store: AsyncJobStore = createAsyncJobStore({
    options: {
      ttlMs: options.asyncResultTtlMs,
      maxJobs: options.maxAsyncJobs,
      maxDispatches: options.maxAsyncDispatches,
      maxResultBytes: options.maxAsyncResultBytes,
      memoryResultBytes: options.asyncMemoryResultBytes,
      memoryBudgetBytes: options.asyncMemoryBudgetBytes,
      storeBudgetBytes: options.asyncStoreBudgetBytes,
      ...(options.asyncSpillDir !== undefined ? { spillDir: options.asyncSpillDir } : {})
    },
    metrics,
    ...(registry !== undefined ? { register: registry } : {}),
    logger
  })
  const routes = new Map<string, RouteInfo>()
  let address: GatewayHttpServer['address']
  const countError = (pipeline: string, code: string): void => { metrics?.errors.inc({ pipeline, code }) }

  const app = Fastify({
    loggerInstance: logger.child({ component: 'gateway-http' }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes,
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    forceCloseConnections: true,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    http: {
      headersTimeout: options.headersTimeoutMs,
      maxHeaderSize: options.maxHeaderBytes,
      // Node answers a missing Host itself, in plain text; the routes do not need it
      requireHostHeader: false,
      // Node checks the headers and request timeouts on this period (its default, 30 s, would add up to 30 s to them)
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(Math.min(options.headersTimeoutMs, options.requestTimeoutMs) / 4)))
    },
    clientErrorHandler: createClientErrorHandler(options.maxHeaderBytes, logger, (status) => { countError('none', `HTTP_${status}`) }),
    // fastify's own refusals (a URL that does not decode) in the API's error shape
    frameworkErrors: (err, _request, reply) => {
      const apiError = new BadRequestError(err.message)
      countError('none', apiError.code)
      void (reply as unknown as FastifyReply).code(400).type('application/json; charset=utf-8').send(apiError.toBody())
    }
  })
  app.server.maxConnections = options.maxConnections
  // Node answers an Expect other than 100-continue with a plain-text 417
  app.server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const apiError = new ApiError(417, 'GATEWAY_ERROR_BAD_REQUEST', `unsupported Expect: ${String(req.headers.expect)}`)
    const body = JSON.stringify(apiError.toBody())
    res.writeHead(417, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), connection: 'close' }).end(body)
  })

  void app.register(multipart, {
    limits: { fileSize: options.bodyLimitBytes, fieldSize: options.maxFieldBytes }
  })

  const routeOf = (request: FastifyRequest): RouteInfo | undefined => {
    const url = request.routeOptions.url
    // fastify answers HEAD with the GET route: same auth
    return url === undefined ? undefined : routes.get(`${request.method === 'HEAD' ? 'GET' : request.method} ${url}`)
  }

  app.addHook('onRequest', async (request, reply) => {
    reply.header(SHOAL_HEADERS.requestId, request.id)
    const route = routeOf(request)
    if (metrics !== null) {
      // 'close' fires for every response, finished or cut (fastify's onResponse misses cut ones)
      const pipeline = route?.pipeline ?? 'none'
      if (route?.pipeline !== undefined) metrics.inflight.inc()
      reply.raw.once('close', () => {
        if (route?.pipeline !== undefined) metrics.inflight.dec()
        metrics.requests.inc({ pipeline, status_class: reply.raw.writableFinished ? statusClass(reply.statusCode) : 'aborted' })
        metrics.requestDuration.observe({ pipeline }, reply.elapsedTime / 1000)
      })
    }
    if (route?.auth === true && checkKey !== undefined && !checkKey(request.headers.authorization)) {
      throw new UnauthorizedError()
    }
    const length = Number(request.headers['content-length'] ?? 0)
    // decided by the header: answered now, the body never read (the connection closes after)
    if (Number.isFinite(length) && length > options.bodyLimitBytes) throw new PayloadTooLargeError(options.bodyLimitBytes, 'bodyLimitBytes')
    if (length > 0 || request.headers['transfer-encoding'] !== undefined) {
      watchBodyRate(request.raw, options, (reason) => {
        const apiError = new RequestTimeoutError(reason)
        countError(route?.pipeline ?? 'none', apiError.code)
        request.log.debug({ status: 408 }, reason)
        if (reply.raw.headersSent) { request.raw.socket.destroy(); return }
        // the handler is still waiting for the body: the answer goes out past it
        reply.hijack()
        answerAndClose(request.raw, apiError, {
          [SHOAL_HEADERS.requestId]: request.id,
          ...(route?.pipeline !== undefined ? { [SHOAL_HEADERS.attempts]: '0' } : {})
        })
      })
    }
  })

  // callback style: an async hook costs every reply a promise and a microtask hop
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header(SHOAL_HEADERS.durationMs, reply.elapsedTime.toFixed(1))
    done(null, payload)
  })

  app.setErrorHandler(async (err, request, reply) => {
    // already answered (a cut slow body): what the handler meets afterwards has no one to go to
    if (reply.sent) return reply
    const route = routeOf(request)
    const shared = stopping && err instanceof DispatchAbortedError ? new ServiceStoppingError() : toApiError(err, options.bodyLimitBytes)
    const apiError = route?.errorShape?.(shared) ?? shared
    if (apiError instanceof InternalApiError) request.log.error({ err }, 'unexpected error')
    else request.log.debug({ code: apiError.code, status: apiError.statusCode }, apiError.message)
    if (err instanceof DispatchError) {
      void reply.headers(dispatchHeaders(err.attempts, err.orchestrator))
    } else if (route?.pipeline !== undefined && !reply.hasHeader(SHOAL_HEADERS.attempts)) {
      void reply.header(SHOAL_HEADERS.attempts, '0')
    }
    if (apiError instanceof UnauthorizedError) void reply.header('www-authenticate', 'Bearer')
    const retryAfter = (apiError as { retryAfterS?: unknown }).retryAfterS
    if (typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter))
    countError(route?.pipeline ?? 'none', apiError.code)
    // a body left unread (refused by its length, or part way) is not drained: the answer goes
    // out at once and the connection closes shortly after, whatever the client still sends
    if (!request.raw.complete) {
      const headers: Record<string, string> = { [SHOAL_HEADERS.durationMs]: reply.elapsedTime.toFixed(1) }
      for (const [name, value] of Object.entries(reply.getHeaders())) {
        if (value !== undefined && name !== 'content-type' && name !== 'content-length' && name !== 'connection') headers[name] = Array.isArray(value) ? value.join(', ') : String(value)
      }
      reply.hijack()
      answerAndClose(request.raw, apiError, headers)
      return reply
    }
    return await reply.code(apiError.statusCode).type('application/json; charset=utf-8').send(apiError.toBody())
  })

  app.setNotFoundHandler(async (request) => {
    const path = (request.url.split('?')[0] ?? '').replace(/^\/api\/generate/, '')
    if (path.startsWith('/v1/')) throw openAiNotFound(request.method, path)
    const name = path.replace(/^\//, '').split('/')[0] ?? ''
    throw new NotFoundError(request.method === 'POST' && name !== '' && !name.includes('.')
      ? `unknown pipeline ${JSON.stringify(name)}; this gateway serves ${GATEWAY_PIPELINES.join(', ')}`
      : `no route ${request.method} ${path}`)
  })

  /** A NoOrchestratorError as a 503 that names the pipeline, the model and what the mesh serves instead. */
  function explain (err: unknown, parsed: ServedJob): unknown {
    if (!(err instanceof NoOrchestratorError)) return err
    return new ModelNotServedApiError(err, { ...parsed.job, ...(parsed.alias !== undefined ? { alias: parsed.alias } : {}) }, directory.servedModels?.(parsed.job.pipeline) ?? [])
  }

  async function runAsync (job: AsyncJob, parsed: ServedJob): Promise<void> {
    let outcome: AsyncJobOutcome
    try {
      const result = await dispatcher.dispatch(parsed.job, {
        signal: job.controller.signal,
        requestId: job.requestId,
        workUnits: parsed.workUnits
      })
      // streamed into the store (to disk past a size): never held whole here
      const stored = await store.keep(job.requestId, result.response.contentType, result.response.body)
      outcome = {
        status: result.response.status,
        contentType: result.response.contentType,
        result: stored,
        orchestrator: result.orchestrator,
        attempts: result.attempts,
        model: parsed.job.modelId
      }
    } catch (err) {
      const apiError = toApiError(explain(err, parsed), options.bodyLimitBytes)
      if (apiError instanceof InternalApiError) logger.error({ err, requestId: job.requestId }, 'asynchronous job failed unexpectedly')
      const retryAfter = (apiError as { retryAfterS?: unknown }).retryAfterS
      outcome = {
        ...(typeof retryAfter === 'number' ? { retryAfterS: retryAfter } : {}),
        model: parsed.job.modelId,
        status: apiError.statusCode,
        contentType: 'application/json',
        result: errorResult(apiError),
        ...(err instanceof DispatchError && err.orchestrator !== undefined ? { orchestrator: err.orchestrator } : {}),
        attempts: err instanceof DispatchError ? err.attempts : []
      }
    }
    store.complete(job.requestId, outcome)
  }

  /** The headers a finished job's answer carries on every route: what the synchronous answer had. */
  function outcomeHeaders (reply: FastifyReply, outcome: AsyncJobOutcome): void {
    void reply.headers(dispatchHeaders(outcome.attempts, outcome.orchestrator))
    if (outcome.retryAfterS !== undefined) void reply.header('retry-after', String(outcome.retryAfterS))
    if (outcome.model !== undefined) void reply.header(SHOAL_HEADERS.model, outcome.model)
  }

  /** Sends a finished job's result inside a JSON document, streamed from the store. */
  async function sendJobJson (reply: FastifyReply, status: number, head: Record<string, unknown>, outcome: AsyncJobOutcome): Promise<FastifyReply> {
    const bytes = await store.read(outcome.result)
    return await reply.code(status).type('application/json; charset=utf-8')
      .send(Readable.from(jsonEnvelope(head, outcome.contentType, outcome.result, bytes), { objectMode: false }))
  }

  async function servePipeline (pipeline: GatewayPipeline, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const parsed = withAlias(await readJobRequest(request, pipeline, parseContext, limits))
    modelHeaders(reply, parsed)
    if (prefersAsync(request.headers.prefer)) {
      if (stopping) throw new ServiceStoppingError()
      // queued when `maxAsyncDispatches` run already; refused (503, Retry-After) when the store is full
      store.submit(request.id, pipeline, async (job) => { await runAsync(job, parsed) })
      void reply.code(202)
        .header('preference-applied', 'respond-async')
        .header('location', `/jobs/${request.id}`)
        .header(SHOAL_HEADERS.attempts, '0')
      return { request_id: request.id }
    }
    return await relay((await dispatchFor(parsed, request, reply)).response, request, reply)
  }

  /** Dispatches a validated job for a synchronous answer: aborted when the client goes away or on stop(). */
  async function dispatchFor (parsed: ServedJob, request: FastifyRequest, reply: FastifyReply, own: Pick<DispatchOptions, 'deadlineMs' | 'replayable'> = {}): Promise<DispatchResult> {
    if (stopping) throw new ServiceStoppingError()
    // aborted when the client goes away (the response closes unfinished) or on stop()
    const controller = new AbortController()
    active.add(controller)
    reply.raw.once('close', () => {
      active.delete(controller)
      if (!reply.raw.writableFinished) controller.abort(new Error('client disconnected'))
    })
    let result
    try {
      result = await dispatcher.dispatch(parsed.job, {
        signal: controller.signal,
        requestId: request.id,
        workUnits: parsed.workUnits,
        ...own
      })
    } catch (err) {
      if (err instanceof NoOrchestratorError) void reply.headers(dispatchHeaders(err.attempts, err.orchestrator))
      throw explain(err, parsed)
    }
    void reply.headers(dispatchHeaders(result.attempts, result.orchestrator))
    return result
  }

  const submit: SubmitJob = async (pipeline, input, request, reply) => {
    const parsed = withAlias('json' in input ? parseJsonJob(pipeline, input.json, parseContext) : await parseMultipartJob(pipeline, input.form, parseContext))
    modelHeaders(reply, parsed)
    return await dispatchFor(parsed, request, reply)
  }

  /** Which model runs (and which was asked for, when an alias replaced it). */
  function modelHeaders (reply: FastifyReply, parsed: ServedJob): void {
    void reply.header(SHOAL_HEADERS.model, parsed.job.modelId)
    if (parsed.alias !== undefined) void reply.header(SHOAL_HEADERS.requestedModel, parsed.alias)
  }

  /** The job for the model that serves the one asked for (`modelAliases`). */
  function withAlias (parsed: ParsedJob): ServedJob {
    const resolved = resolveModelAlias(options.modelAliases, parsed.job.pipeline, parsed.job.modelId)
    if (resolved.alias === undefined) return parsed
    return { ...parsed, job: { ...parsed.job, modelId: resolved.modelId }, alias: resolved.alias }
  }

  function jobOf (requestId: unknown, pipeline?: GatewayPipeline): AsyncJob | undefined {
    if (typeof requestId !== 'string') return undefined
    const job = store.get(requestId)
    return job === undefined || (pipeline !== undefined && job.pipeline !== pipeline) ? undefined : job
  }

  const add: AddRoute = (method, url, info, handler) => {
    routes.set(`${method} ${url}`, info)
    app.route({ method, url, handler })
  }

  for (const pipeline of GATEWAY_PIPELINES) {
    const { operationId, route } = pipelineDefinition(pipeline)
    for (const prefix of ['', '/api/generate']) {
      add('POST', `${prefix}${route}`, { operationId, pipeline, auth: true }, async (request, reply) => await servePipeline(pipeline, request, reply))

      // the reference's polling endpoint: 202 {status: processing} or 200 {status: complete, result}
      add('POST', `${prefix}${route}/result`, { operationId: `${operationId}Result`, auth: true }, async (request, reply) => {
        if (mediaType(request.headers['content-type']) !== 'application/json') {
          throw new ValidationError([{ loc: ['body'], msg: 'Expected an application/json body {"request_id": "..."}', type: 'model_attributes_type' }])
        }
        const body = request.body as Record<string, unknown> | null | undefined
        const requestId = body !== null && typeof body === 'object' ? body.request_id : undefined
        if (typeof requestId !== 'string') {
          throw new ValidationError([{ loc: ['body', 'request_id'], msg: requestId === undefined ? 'Field required' : 'Input should be a valid string', type: requestId === undefined ? 'missing' : 'string_type' }])
        }
        const job = jobOf(requestId, pipeline)
        if (job === undefined) throw new BadRequestError('invalid request ID')
        const outcome = job.outcome
        if (job.state !== 'complete' || outcome === undefined) {
          return await reply.code(202).send({ status: 'processing' })
        }
        outcomeHeaders(reply, outcome)
        // a failed job answers with its own status, as the synchronous request would have
        if (outcomeFailed(outcome)) {
          return await sendJobJson(reply, outcome.status, { status: 'failed', http_status: outcome.status }, outcome)
        }
        return await sendJobJson(reply, 200, { status: 'complete' }, outcome)
      })
    }
  }

  add('GET', '/jobs/:requestId', { operationId: 'getJob', auth: true }, async (request, reply) => {
    const { requestId } = request.params as { requestId: string }
    const job = jobOf(requestId)
    if (job === undefined) throw new NotFoundError(`no job ${JSON.stringify(requestId)} (unknown, or its result expired)`)
    const outcome = job.outcome
    const base = { request_id: job.requestId, pipeline: job.pipeline, created_at: new Date(job.createdAt).toISOString() }
    if (job.state !== 'complete' || outcome === undefined) {
      return await reply.code(202).send({ ...base, status: 'processing', ...(job.state === 'queued' ? { queued: true } : {}) })
    }
    outcomeHeaders(reply, outcome)
    // a failed job answers with its own status here too, never 200
    const failed = outcomeFailed(outcome)
    return await sendJobJson(reply, failed ? outcome.status : 200, {
      ...base,
      status: failed ? 'failed' : 'complete',
      completed_at: new Date(job.completedAt ?? Date.now()).toISOString(),
      http_status: outcome.status,
      ...(outcome.orchestrator !== undefined ? { orchestrator: outcome.orchestrator } : {}),
      attempts: outcome.attempts.map(a => ({ peer_id: a.peerId, outcome: a.outcome, ms: Math.round(a.ms), ...(a.errorCode !== undefined ? { error_code: a.errorCode } : {}) }))
    }, outcome)
  })

  add('GET', '/jobs/:requestId/result', { operationId: 'getJobResult', auth: true }, async (request, reply) => {
    const { requestId } = request.params as { requestId: string }
    const job = jobOf(requestId)
    if (job === undefined) throw new NotFoundError(`no job ${JSON.stringify(requestId)} (unknown, or its result expired)`)
    const outcome = job.outcome
    if (job.state !== 'complete' || outcome === undefined) return await reply.code(202).send({ request_id: job.requestId, status: 'processing' })
    outcomeHeaders(reply, outcome)
    void reply.code(outcome.status).header('content-type', outcome.contentType).header('content-length', String(outcome.result.size))
    // HEAD: the headers say it all; the file is not read (an empty stream keeps fastify from writing content-length: 0)
    if (request.method === 'HEAD') return await reply.send(Readable.from([]))
    return await reply.send(Readable.from(await store.read(outcome.result), { objectMode: false }))
  })

  registerOpenAiRoutes({ add, submit, directory, limits, logger })
  // custom capabilities take any body as it is: no parser reads it, the route does
  void app.register(async (child) => {
    child.removeAllContentTypeParsers()
    child.addContentTypeParser('*', (_request, _payload, done) => { done(null) })
    registerCustomRoutes({
      add: (method, url, info, handler) => {
        routes.set(`${method} ${url}`, info)
        child.route({ method, url, handler })
      },
      dispatch: async (job, own, request, reply) => await dispatchFor({ job, workUnits: 1 }, request, reply, own),
      capabilities: () => directory.customCapabilities?.() ?? [],
      bodyLimitBytes: options.bodyLimitBytes,
      replayBytes: options.customReplayBytes
    })
  })
  if (init.dashboard !== undefined) registerDashboardRoutes(add, init.dashboard)
  for (const register of init.extraRoutes ?? []) register(add, app as unknown as FastifyInstance)

  add('GET', '/health', { operationId: 'health', auth: false }, async () => ({ status: 'OK' }))

  add('GET', '/network/orchestrators', { operationId: 'networkOrchestrators', auth: false }, async (_request, reply) => {
    return await reply.type('application/json; charset=utf-8').send(toJson(directory.list()))
  })

  if (init.receipts !== undefined) {
    const source = init.receipts
    add('GET', '/receipts/:requestId', { operationId: 'getReceipts', auth: true }, async (request) => {
      const { requestId } = request.params as { requestId: string }
      const found = source.get(requestId)
      if (found.length === 0) throw new NotFoundError(`no receipt for ${JSON.stringify(requestId)} (unknown, or no longer kept)`)
      return { request_id: requestId, receipts: found }
    })
  }

  add('GET', '/metrics', { operationId: 'metrics', auth: false }, async (_request, reply) => {
    if (registry === undefined) throw new NotFoundError('metrics are not enabled')
    return await reply.type(registry.contentType).send(await registry.metrics())
  })

  return {
    app: app as unknown as FastifyInstance,
    get address () { return address },
    async start (): Promise<void> {
      prepareValidators(GATEWAY_PIPELINES.map(pipelineDefinition))
      await app.listen({ host: options.host, port: options.port })
      const info = app.server.address() as AddressInfo
      const host = info.family === 'IPv6' ? `[${info.address}]` : info.address
      address = { host: info.address, port: info.port, url: `http://${host}:${info.port}` }
      logger.info({ url: address.url }, 'gateway HTTP API listening')
    },
    async stop (): Promise<void> {
      stopping = true
      for (const controller of active) controller.abort(new Error('gateway stopping'))
      active.clear()
      // async jobs are aborted at once; their files removed once the server is closed
      const storeClosed = store.close()
      await app.close()
      await storeClosed
      address = undefined
    }
  }
}
