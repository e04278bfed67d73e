import { Type } from '@sinclair/typebox'
import { definePipeline } from './definition.js'
import { positiveParam } from './measure.js'

/** The longest a custom request may run, and so the most compute time one job is prepaid for. */
export const CUSTOM_MAX_TIMEOUT_MS = 3_600_000
/** An app path with its query: `/`, then printable ASCII, no `..` segment (checked again by the orchestrator: it comes from a peer). */
export const CUSTOM_PATH_PATTERN = '^(?!.*/\\.\\.(?:/|\\?|$))/[\\x21-\\x7e]{0,2047}$'
const CUSTOM_PATH_RE = new RegExp(CUSTOM_PATH_PATTERN)

export function isCustomPath (value: unknown): value is string {
  return typeof value === 'string' && CUSTOM_PATH_RE.test(value)
}

/** A request naming no timeout gets this one. */
export const CUSTOM_DEFAULT_TIMEOUT_MS = 30_000

/**
 * Custom capabilities ("bring your own container"): an operator's own HTTP app, named by
 * the capability (carried as the model id). The request body goes to the app unchanged
 * (`body: 'raw'`, one input named `body`); `path` is the app's path, `timeout_ms` the
 * request's limit. Billed by compute time measured on the orchestrator, in milliseconds:
 * the gateway prepays `timeout_ms`, the orchestrator debits what the runner really took
 * and the gateway's credit keeps the rest. The gateway's HTTP API has its own routes for
 * it (`src/gateway/custom/`), not `POST /custom`.
 */
export default definePipeline({
  name: 'custom',
  operationId: 'processRequest',
  gateway: false,
  body: 'raw',
  modelField: 'model_id',
  request: Type.Object({
    // the app's path, with its query: `/`, then no `..` segment, no fragment, no control or space
    path: Type.String({ pattern: CUSTOM_PATH_PATTERN, default: '/' }),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 1, maximum: CUSTOM_MAX_TIMEOUT_MS, default: CUSTOM_DEFAULT_TIMEOUT_MS })),
    // the `request` member of the reference's Livepeer header, passed to the app as `Livepeer-Request`
    request: Type.Optional(Type.String({ maxLength: 65_536 }))
  }),
  response: Type.Unknown(),
  streaming: 'sse',
  examples: [
    { model_id: 'thumbnail', path: '/thumbnail?width=64', timeout_ms: 10_000 }
  ],
  unit: 'compute-ms',
  measured: true,
  units: job => positiveParam(job.params.timeout_ms, CUSTOM_DEFAULT_TIMEOUT_MS),
  admissionUnits: ({ params }) => positiveParam(params.timeout_ms, CUSTOM_DEFAULT_TIMEOUT_MS),
  work: () => 1,
  // wei per compute-ms: 1e9 wei per second of compute
  testnetPrice: '1000000'
})
