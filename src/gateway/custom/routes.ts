/**
 * The gateway's routes for custom capabilities (operators' own apps, pipeline `custom`
 * on the wire, the capability name as model id):
 * - `POST /process/request/<path>` with the reference's base64 JSON `Livepeer` header
 *   (`capability`, `request`, `timeout_seconds`), as BYOC clients call it;
 * - `POST /capability/<name>/<path>`, Shoal's own, needing no header (`X-Shoal-Timeout`:
 *   seconds, optional);
 * - `GET /capabilities`: what the mesh serves, by name.
 * The body goes to the app unchanged, whatever its content type, and the app's answer
 * comes back unchanged, streamed as it arrives (SSE and chunked included). A body up to
 * `replayBytes` (or a chunked one, within the body limit) is read whole first; a longer
 * one is sent to the orchestrator as it arrives, its first `replayBytes` kept
 * (`BodySpool`). A failed attempt is sent again to another orchestrator, with the
 * selection, retries and payment of the pipelines, while the body can be read from its
 * start again. The request's timeout is each attempt's deadline. The orchestrator measures the compute
 * time and charges for it: `X-Shoal-Compute-Ms` and `X-Shoal-Charged-Wei` say so, as
 * headers on an answer that fits in a few chunks, else as trailers.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Uint8ArrayList } from 'uint8arraylist'
import type { InferenceJob, RunnerResponse } from '../../kernel/job.js'
import { CUSTOM_DEFAULT_TIMEOUT_MS } from '../../kernel/pipelines/custom.js'
import { decodeReceipt } from '../../payments/job-payment.js'
import type { DispatchOptions, DispatchResult } from '../dispatch/dispatcher.js'
import { BodySpool } from './body-spool.js'
import { NotFoundError, PayloadTooLargeError } from '../http/errors.js'
import { relay } from '../http/relay.js'
import type { AddRoute } from '../http/server.js'
import type { CapabilityListing } from './listing.js'
import { parseLivepeerHeader, timeoutMsOf } from './livepeer-header.js'

/** What a custom answer says of its cost. */
export const CUSTOM_HEADERS = {
  /** milliseconds the orchestrator measured the app working on the request */
  computeMs: 'x-shoal-compute-ms',
  /** wei the orchestrator charged for it (absent when not paid) */
  chargedWei: 'x-shoal-charged-wei',
  /** seconds the request may take (Shoal's route; the Livepeer header has `timeout_seconds`) */
  timeout: 'x-shoal-timeout',
  /** trailer of a streamed answer that ended early: `timeout: <message>` when the request's timeout passed (empty otherwise) */
  error: 'x-shoal-error'
} as const

/** Added to the request's own timeout for the attempt's deadline, so the orchestrator's answer to a timeout arrives first. */
const DEADLINE_GRACE_MS = 2_000
/** How long a small answer waits for its Final (compute time, receipt) before its headers go out without them. */
const FINAL_WAIT_MS = 1_000

export interface CustomRoutesInit {
  add: AddRoute
  /** dispatches the job as the pipeline routes do; aborted when the client leaves */
  dispatch: (job: InferenceJob, own: Pick<DispatchOptions, 'deadlineMs' | 'replayable'>, request: FastifyRequest, reply: FastifyReply) => Promise<DispatchResult>
  /** the capabilities the mesh serves now */
  capabilities: () => CapabilityListing[]
  bodyLimitBytes: number
  /** a body longer than this (by Content-Length) is streamed; this much is kept for another attempt */
  replayBytes: number
}

interface Cost { computeMs?: number, chargedWei?: bigint }

/** The cost a finished job reports in its Final: units are compute ms; the receipt, when paid, the charge. */
async function costOf (response: RunnerResponse): Promise<Cost> {
  const final = (response as RunnerResponse & { final?: Promise<{ units?: number, receipt?: Uint8Array }> }).final
  if (final === undefined) return {}
  const { units, receipt } = await final
  const cost: Cost = {}
  if (units !== undefined) cost.computeMs = units
  if (receipt !== undefined) {
    try {
      cost.chargedWei = decodeReceipt(receipt).charged
    } catch { /* a malformed receipt: the payer already counted nothing charged */ }
  }
  return cost
}

function costHeaders (cost: Cost): Record<string, string> {
  const headers: Record<string, string> = {}
  if (cost.computeMs !== undefined) headers[CUSTOM_HEADERS.computeMs] = String(cost.computeMs)
  if (cost.chargedWei !== undefined) headers[CUSTOM_HEADERS.chargedWei] = cost.chargedWei.toString()
  return headers
}

export function registerCustomRoutes (init: CustomRoutesInit): void {
  const { add, dispatch, bodyLimitBytes } = init

  /** The request body, whole, within the limit (a content-length over it was refused before). */
  async function readBody (request: FastifyRequest): Promise<Uint8ArrayList> {
    const body = new Uint8ArrayList()
    // leaving the loop must not destroy the request (and its socket): the 413 goes out on it
    for await (const chunk of request.raw.iterator({ destroyOnReturn: false })) {
      body.append(chunk as Buffer)
      if (body.byteLength > bodyLimitBytes) throw new PayloadTooLargeError(bodyLimitBytes)
    }
    return body
  }

  async function serve (name: string, path: string, timeoutMs: number, livepeerRequest: string | undefined, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const served = init.capabilities()
    if (!served.some(c => c.name === name)) {
      throw new NotFoundError(`unknown capability ${JSON.stringify(name)}; the mesh serves ${served.length === 0 ? 'none' : served.map(c => c.name).join(', ')} (GET /capabilities)`)
    }
    // a long body with a declared length goes out as it arrives (its length is the input's
    // declared size); a chunked one is read whole first, within the limit
    const declared = Number(request.headers['content-length'])
    const data = request.headers['transfer-encoding'] === undefined && Number.isSafeInteger(declared) && declared > init.replayBytes
      ? new BodySpool(request.raw, declared, init.replayBytes)
      : await readBody(request)
    const query = request.url.indexOf('?')
    const job: InferenceJob = {
      pipeline: 'custom',
      modelId: name,
      params: {
        path: (path.startsWith('/') ? path : `/${path}`) + (query === -1 ? '' : request.url.slice(query)),
        timeout_ms: timeoutMs,
        ...(livepeerRequest === undefined ? {} : { request: livepeerRequest })
      },
      inputs: data.byteLength === 0 && request.headers['content-type'] === undefined
        ? []
        : [{ field: 'body', filename: 'body', contentType: request.headers['content-type'] ?? 'application/octet-stream', data }]
    }
    const result = await dispatch(job, {
      deadlineMs: timeoutMs + DEADLINE_GRACE_MS,
      ...(data instanceof BodySpool ? { replayable: () => data.replayable } : {})
    }, request, reply)
    void reply.header('x-shoal-capability', name)
    const response = result.response
    return await relay(response, request, reply, {
      late: { names: [CUSTOM_HEADERS.computeMs, CUSTOM_HEADERS.chargedWei], facts: async () => costHeaders(await costOf(response)), waitMs: FINAL_WAIT_MS },
      errorTrailer: CUSTOM_HEADERS.error,
      holdForReceipt: false
    })
  }

  add('POST', '/process/request/*', { operationId: 'processRequest', pipeline: 'custom', auth: true }, async (request, reply) => {
    const header = parseLivepeerHeader(request.headers.livepeer)
    const path = (request.params as { '*': string })['*'] ?? ''
    return await serve(header.capability, `/${path}`, header.timeoutMs ?? CUSTOM_DEFAULT_TIMEOUT_MS, header.request, request, reply)
  })

  add('POST', '/capability/:name/*', { operationId: 'capabilityRequest', pipeline: 'custom', auth: true }, async (request, reply) => {
    const { name, '*': path = '' } = request.params as { name: string, '*'?: string }
    const timeout = request.headers[CUSTOM_HEADERS.timeout]
    const timeoutMs = timeout === undefined ? CUSTOM_DEFAULT_TIMEOUT_MS : timeoutMsOf(Array.isArray(timeout) ? timeout[0] : timeout, CUSTOM_HEADERS.timeout)
    return await serve(name, `/${path}`, timeoutMs, undefined, request, reply)
  })

  add('GET', '/capabilities', { operationId: 'capabilities', auth: false }, async () => ({ capabilities: init.capabilities() }))
}
