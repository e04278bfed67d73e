/**
 * What defines a pipeline: one `PipelineDefinition` per module of this folder, read by
 * every layer that needs to know about pipelines (the gateway's HTTP API, the runner
 * client, the CPU runner, billing, selection, announcements, the testnet's prices).
 */
import { Type, type TObject, type TProperties, type TSchema, type TUnsafe } from '@sinclair/typebox'
import type { InferenceJob } from '../job.js'

/**
 * The unit a price is quoted in. Prices in announcements are `pricePerUnit` wei for
 * `pixelsPerUnit` of these units.
 */
export type BillingUnit = 'pixel' | 'audio-ms' | 'token' | 'character' | 'second' | 'compute-ms'

/** Dimensions of a job's input image, when it has one (the gateway reads them while validating). */
export interface InputMedia {
  width: number
  height: number
}

/** What an orchestrator knows of a job before its input is uploaded: its params and declared input sizes. */
export interface DeclaredJob {
  params: InferenceJob['params']
  /** total declared bytes of the job's file inputs */
  inputBytes: number
}

/** Marks a request property as an uploaded file (multipart) of this kind of media. */
export const FILE_MEDIA = 'x-shoal-file'
/** Marks a string property that carries JSON of this kind (`loras`, `point_coords`, ...): it stays a string but must parse. */
export const JSON_STRING = 'x-shoal-json'

export type FileMedia = 'image' | 'audio'

/** An uploaded file field; `job.inputs` carries it, never `job.params`. */
export function FileField (media: FileMedia): TUnsafe<Uint8Array> {
  return Type.Unsafe<Uint8Array>({ [FILE_MEDIA]: media })
}

/** A string field carrying a JSON object or array. */
export function JsonStringField (kind: 'object' | 'array', options: { default?: string } = {}): TUnsafe<string> {
  return Type.Unsafe<string>({ type: 'string', [JSON_STRING]: kind, ...options })
}

/** A string field restricted to a few values (FastAPI's `Literal`). */
export function LiteralField<const V extends readonly string[]> (values: V, options: { default?: V[number] } = {}): TUnsafe<V[number]> {
  return Type.Unsafe<V[number]>({ type: 'string', enum: [...values], ...options })
}

/** The media kind of a file property, or undefined for other properties. */
export function fileMedia (schema: TSchema): FileMedia | undefined {
  return (schema as Record<string, unknown>)[FILE_MEDIA] as FileMedia | undefined
}

export interface PipelineDefinition<Name extends string = string, Request extends TProperties = TProperties, Gateway extends boolean = boolean> {
  /** the ai-runner's name for it, also its route (`POST /<name>`) and the wire's pipeline field */
  readonly name: Name
  /** path of the route on the ai-runner and on the gateway (also under `/api/generate`) */
  readonly route: `/${Name}`
  /** the reference gateway's OpenAPI operation id */
  readonly operationId: string
  /** whether the gateway's HTTP API serves it (live video has its own flow) */
  readonly gateway: Gateway
  /** how the runner expects the request body (`raw`: the one input as is, a custom capability's) */
  readonly body: 'json' | 'multipart' | 'raw'
  /** the request field naming the model (the runner checks it against the model it serves) */
  readonly modelField: 'model_id' | 'model'
  /**
   * Every request field but the model field, in the order errors are reported: types,
   * defaults (applied when absent), required-ness, bounds; file fields are `FileField`.
   * Lower bounds are Shoal's own: a zero or negative size or count cannot be priced or run.
   */
  readonly request: TObject<Request>
  /** the body of a successful JSON answer (an LLM may stream Server-Sent Events instead) */
  readonly response: TSchema
  /** `sse`: the answer is a Server-Sent Events stream when the request sets `stream: true` */
  readonly streaming: 'none' | 'sse'
  /** the model a request naming none gets, as the reference gateway defaults */
  readonly defaultModel?: string
  /** reference example requests (fields, files named by media kind), checked by the tests */
  readonly examples: ReadonlyArray<Record<string, unknown>>

  readonly unit: BillingUnit
  /**
   * Billable units of a job, as the reference network counts them. Both sides compute
   * it from the job itself: the gateway to pay, the orchestrator to charge.
   */
  readonly units: (job: InferenceJob) => bigint
  /** a lower bound of `units` from what is known before the input is uploaded */
  readonly admissionUnits: (declared: DeclaredJob) => bigint
  /**
   * Units really delivered, from the runner's answer, where they can differ from the
   * estimate (an LLM's tokens produced, not max_tokens); undefined keeps `units`.
   * Pipelines without it are not metered.
   */
  readonly deliveredUnits?: (contentType: string, body: Uint8Array) => bigint | undefined
  /**
   * The amount of work in a job, the denominator of selection's latency score (seconds
   * per unit). Only ratios between orchestrators serving the same (pipeline, model) matter.
   */
  readonly work: (job: InferenceJob, media?: InputMedia) => number
  /**
   * Units measured by the orchestrator while the runner worked (`compute-ms`: the
   * milliseconds from sending the request to the last byte of the answer), charged
   * instead of `units`, which the gateway prepaid as an upper bound.
   */
  readonly measured?: true
  /** wei per unit the local testnet charges, chosen so a typical job costs about one ticket; none: not priced there */
  readonly testnetPrice?: string
}

/** Identity with the literal types kept: each module's `export default definePipeline({...})`. */
export function definePipeline<const Name extends string, Request extends TProperties, const Gateway extends boolean> (
  definition: Omit<PipelineDefinition<Name, Request, Gateway>, 'route'>
): PipelineDefinition<Name, Request, Gateway> {
  return { ...definition, route: `/${definition.name}` }
}
