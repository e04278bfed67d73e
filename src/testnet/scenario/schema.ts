/**
 * The scenario file (`shoal testnet --scenario FILE`, YAML or JSON): the nodes of an
 * emulated mesh with their roles, models, prices and links, a request load, and timed
 * events. Checked in two steps, each error naming the file and the field
 * (`nodes[2].models[0].price: must be >= 0`): the shape against a TypeBox schema, then
 * what a schema cannot say (node names that events refer to, an event's fields for its
 * action, times within the run).
 */
import { readFile } from 'node:fs/promises'
import { Type, type Static } from '@sinclair/typebox'
import { parse as parseYaml } from 'yaml'
import { compileSchema } from '../../kernel/schema.js'
import { MODEL_ID_PATTERN, modelIdProblem } from '../../kernel/identifiers.js'
import { isPipelineName, PIPELINES, type PipelineName } from '../../kernel/pipelines.js'
import { MAX_ANNOUNCEMENT_TTL_MS } from '../../discovery/constants.js'
import { DEFAULT_QUOTE_WAIT_MS } from '../../protocols/ai/constants.js'
import { ScenarioError } from './errors.js'

/** pipelines the load generator has a request body for */
export const LOAD_PIPELINES = ['text-to-image', 'image-to-image', 'upscale', 'llm', 'text-to-speech'] as const
export type LoadPipeline = typeof LOAD_PIPELINES[number]

export const EVENT_ACTIONS = ['kill', 'restart', 'partition', 'heal', 'slow-link', 'price'] as const
export type EventAction = typeof EVENT_ACTIONS[number]

const Name = Type.String({ pattern: '^[a-z][a-z0-9-]{0,23}$' })
const Seconds = Type.Number({ minimum: 0 })

const Link = Type.Object({
  delayMs: Type.Optional(Type.Number({ minimum: 0, maximum: 10_000 })),
  rateKbit: Type.Optional(Type.Number({ minimum: 0 })),
  lossPercent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 }))
}, { additionalProperties: false })

const Model = Type.Object({
  pipeline: Type.String(),
  model: Type.String({ pattern: MODEL_ID_PATTERN }),
  /** wei per unit of the pipeline (pixels, characters, ms of audio...) */
  price: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]+$' })])),
  capacity: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
  warm: Type.Optional(Type.Boolean())
}, { additionalProperties: false })

const Node = Type.Object({
  name: Name,
  role: Type.Union([Type.Literal('orchestrator'), Type.Literal('gateway'), Type.Literal('bootstrap')]),
  /** this many nodes named `name-1` .. `name-N` (events may name the group: all of them) */
  count: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  models: Type.Optional(Type.Array(Model, { minItems: 1 })),
  link: Type.Optional(Link)
}, { additionalProperties: false })

const Mix = Type.Object({
  pipeline: Type.String(),
  model: Type.Optional(Type.String({ pattern: MODEL_ID_PATTERN })),
  weight: Type.Optional(Type.Number({ exclusiveMinimum: 0 }))
}, { additionalProperties: false })

const Load = Type.Object({
  /** requests per second, sent at even intervals whatever the answers (open loop) */
  rate: Type.Number({ exclusiveMinimum: 0, maximum: 2_000 }),
  /** seconds of load */
  duration: Type.Number({ exclusiveMinimum: 0, maximum: 86_400 }),
  mix: Type.Array(Mix, { minItems: 1 }),
  /** a request unanswered after this is counted failed. @default 30000 */
  timeoutMs: Type.Optional(Type.Integer({ minimum: 100 })),
  /** requests in flight at most; arrivals beyond it are counted failed (not sent). @default 512 */
  maxInFlight: Type.Optional(Type.Integer({ minimum: 1 }))
}, { additionalProperties: false })

const Event = Type.Object({
  /** seconds after the load starts */
  at: Seconds,
  action: Type.Union(EVENT_ACTIONS.map(a => Type.Literal(a))),
  node: Type.Optional(Name),
  nodes: Type.Optional(Type.Array(Name, { minItems: 1 })),
  delayMs: Type.Optional(Type.Number({ minimum: 0, maximum: 10_000 })),
  rateKbit: Type.Optional(Type.Number({ minimum: 0 })),
  lossPercent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
  pipeline: Type.Optional(Type.String()),
  price: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]+$' })]))
}, { additionalProperties: false })

const Nice = Type.Integer({ minimum: -20, maximum: 19 })

/** Settings of the emulated mesh for large scenarios on a small machine (documented in src/testnet/README.md). */
const Tuning = Type.Object({
  /** orchestrators' announcement TTL, ms; they republish at a third of it. Longer: fewer announcements to verify on every node. @default the node's, 30000 */
  announcementTtl: Type.Optional(Type.Integer({ minimum: 3_000, maximum: MAX_ANNOUNCEMENT_TTL_MS })),
  /** how often orchestrators and the bootstrap ping each connection, ms (the gateway keeps its 5 s, so it notices a lost orchestrator as quickly). @default the node's, 5000 */
  monitorInterval: Type.Optional(Type.Integer({ minimum: 100 })),
  /** gossipsub heartbeat of orchestrators and the bootstrap, ms. @default the node's, 1000 */
  gossipHeartbeat: Type.Optional(Type.Integer({ minimum: 100, maximum: 60_000 })),
  /** how long orchestrators wait for their own quote (prices, ticket parameters) when a gateway opens a stream, ms (`--quote-timeout`). @default the node's, 2000 */
  quoteTimeout: Type.Optional(Type.Integer({ minimum: 100, maximum: DEFAULT_QUOTE_WAIT_MS })),
  /** how long a node waits at start for the chain to answer, ms. @default 180000 */
  chainTimeout: Type.Optional(Type.Integer({ minimum: 1_000 })),
  /** node processes started at once (start-up is CPU-bound). @default 4 */
  startConcurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
  /** seconds to wait for the gateway to list every orchestrator before the load starts anyway. @default 180 */
  readyTimeout: Type.Optional(Type.Number({ minimum: 1 })),
  /**
   * CPU priority (nice, -20..19) per kind of process: emulated hosts share the machine's
   * cores, so background work of many orchestrators can starve the gateway, the shared
   * runners and the chain (`infrastructure`) and the load generator (`client`, this
   * process), which would each have machines of their own. @default 0 for all
   */
  nice: Type.Optional(Type.Object({
    gateway: Type.Optional(Nice),
    orchestrator: Type.Optional(Nice),
    bootstrap: Type.Optional(Nice),
    infrastructure: Type.Optional(Nice),
    client: Type.Optional(Nice),
    /** a node of the mesh's start-up starts at this priority (if lower than its role's) and gets its role's once it listens; restarts during the load start at their role's */
    startup: Type.Optional(Nice)
  }, { additionalProperties: false }))
}, { additionalProperties: false })

export const ScenarioFileSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 80 }),
  description: Type.Optional(Type.String()),
  /** first three octets of the lab's /24 (addresses only inside its namespaces). @default '10.240.0' */
  subnet: Type.Optional(Type.String({ pattern: '^10\\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])$' })),
  payments: Type.Optional(Type.Boolean()),
  /** CPU runners: one per (pipeline, model) shared by all orchestrators, or one per orchestrator. @default shared */
  runners: Type.Optional(Type.Union([Type.Literal('shared'), Type.Literal('per-node')])),
  /** seconds to keep sampling after the load ends (late answers, redemptions). @default 5 */
  drain: Type.Optional(Seconds),
  nodes: Type.Array(Node, { minItems: 1 }),
  load: Load,
  events: Type.Optional(Type.Array(Event)),
  tuning: Type.Optional(Tuning)
}, { additionalProperties: false })

export type ScenarioFile = Static<typeof ScenarioFileSchema>
export type ScenarioLink = Static<typeof Link>

export interface ScenarioModel { pipeline: PipelineName, model: string, price: string, capacity: number, warm: boolean }
export interface ScenarioNode { name: string, role: 'orchestrator' | 'gateway' | 'bootstrap', group: string, models: ScenarioModel[], link: ScenarioLink }

export type ScenarioEvent =
  | { at: number, action: 'kill' | 'restart', nodes: string[] }
  | { at: number, action: 'partition', nodes: string[] }
  | { at: number, action: 'heal' }
  | { at: number, action: 'slow-link', nodes: string[], link: ScenarioLink }
  | { at: number, action: 'price', nodes: string[], pipeline: PipelineName | undefined, price: string }

/** A scenario checked and expanded: node groups become nodes, events name nodes. */
export interface Scenario {
  name: string
  description: string
  subnet: string
  payments: boolean
  runners: 'shared' | 'per-node'
  drainS: number
  nodes: ScenarioNode[]
  load: { rate: number, durationS: number, mix: Array<{ pipeline: LoadPipeline, model: string, weight: number }>, timeoutMs: number, maxInFlight: number }
  events: ScenarioEvent[]
  tuning: ScenarioTuning
}

export interface ScenarioTuning {
  /** undefined: the node's default */
  announcementTtlMs: number | undefined
  /** undefined: the node's default */
  monitorIntervalMs: number | undefined
  /** undefined: the node's default */
  gossipHeartbeatMs: number | undefined
  /** undefined: the node's default */
  quoteTimeoutMs: number | undefined
  chainTimeoutMs: number
  startConcurrency: number
  readyTimeoutS: number
  nice: { gateway: number, orchestrator: number, bootstrap: number, infrastructure: number, client: number, startup: number }
}

const compiled = compileSchema(ScenarioFileSchema)

function fieldPath (path: ReadonlyArray<string | number>): string {
  return path.reduce<string>((out, part) => /^[0-9]+$/.test(String(part)) ? `${out}[${String(part)}]` : out === '' ? String(part) : `${out}.${String(part)}`, '')
}

function fail (file: string, path: ReadonlyArray<string | number>, message: string): never {
  const field = fieldPath(path)
  throw new ScenarioError(field === '' ? 'SCENARIO_ERROR_SCHEMA' : 'SCENARIO_ERROR_REFERENCE', `${file}: ${field === '' ? '' : `${field}: `}${message}`, { field })
}

function valueAt (root: unknown, path: readonly string[]): unknown {
  let value: unknown = root
  for (const part of path) value = (value as Record<string, unknown> | undefined)?.[part]
  return value
}

/** Checks a parsed scenario document and expands it; throws a ScenarioError naming the field. */
export function checkScenario (doc: unknown, file = 'scenario'): Scenario {
  const checked = compiled.check(doc)
  if (!checked.ok) {
    const { path, message } = checked.problem
    const got = valueAt(doc, path)
    const detail = message === 'is an unknown field' || got === undefined || typeof got === 'object' ? '' : ` (got ${JSON.stringify(got)})`
    const field = fieldPath(path)
    throw new ScenarioError('SCENARIO_ERROR_SCHEMA', `${file}: ${field === '' ? 'the document' : field}: ${message}${detail}`, { field })
  }
  const raw = checked.value

  const nodes: ScenarioNode[] = []
  const groups = new Map<string, string[]>()
  raw.nodes.forEach((n, i) => {
    const models: ScenarioModel[] = (n.models ?? []).map((m, j) => {
      if (!isPipelineName(m.pipeline)) fail(file, ['nodes', i, 'models', j, 'pipeline'], `unknown pipeline ${JSON.stringify(m.pipeline)}; pipelines are: ${PIPELINES.join(', ')}`)
      const problem = modelIdProblem(m.model)
      if (problem !== undefined) fail(file, ['nodes', i, 'models', j, 'model'], problem)
      return { pipeline: m.pipeline, model: m.model, price: String(m.price ?? 0), capacity: m.capacity ?? 4, warm: m.warm ?? true }
    })
    if (n.role === 'orchestrator' && models.length === 0) fail(file, ['nodes', i, 'models'], 'an orchestrator needs at least one model')
    if (n.role !== 'orchestrator' && models.length > 0) fail(file, ['nodes', i, 'models'], `only orchestrators serve models (this node is a ${n.role})`)
    if (n.role !== 'orchestrator' && n.count !== undefined && n.count > 1) fail(file, ['nodes', i, 'count'], `there is one ${n.role}`)
    const names = n.count === undefined ? [n.name] : Array.from({ length: n.count }, (_, k) => `${n.name}-${k + 1}`)
    if (groups.has(n.name)) fail(file, ['nodes', i, 'name'], `"${n.name}" is used twice`)
    groups.set(n.name, names)
    for (const name of names) nodes.push({ name, role: n.role, group: n.name, models, link: n.link ?? {} })
  })
  const seen = new Set<string>()
  for (const [i, n] of nodes.entries()) {
    if (seen.has(n.name)) fail(file, ['nodes'], `node name "${n.name}" is used twice (a group of nodes is named NAME-1..NAME-N) (node ${i + 1})`)
    seen.add(n.name)
  }
  for (const role of ['bootstrap', 'gateway'] as const) {
    const count = nodes.filter(n => n.role === role).length
    if (count !== 1) fail(file, ['nodes'], `needs exactly one ${role} (has ${count})`)
  }
  const orchestrators = nodes.filter(n => n.role === 'orchestrator')
  if (orchestrators.length === 0) fail(file, ['nodes'], 'needs at least one orchestrator')
  if (nodes.length > 240) fail(file, ['nodes'], `at most 240 nodes fit one lab (has ${nodes.length})`)

  const mix = raw.load.mix.map((m, i) => {
    if (!(LOAD_PIPELINES as readonly string[]).includes(m.pipeline)) fail(file, ['load', 'mix', i, 'pipeline'], `the load generator sends ${LOAD_PIPELINES.join(', ')} (got ${JSON.stringify(m.pipeline)})`)
    const served = orchestrators.flatMap(o => o.models).filter(x => x.pipeline === m.pipeline)
    if (served.length === 0) fail(file, ['load', 'mix', i, 'pipeline'], `no orchestrator serves ${m.pipeline}`)
    const model = m.model ?? served[0].model
    if (!served.some(x => x.model === model)) fail(file, ['load', 'mix', i, 'model'], `no orchestrator serves ${m.pipeline} with ${model}`)
    return { pipeline: m.pipeline as LoadPipeline, model, weight: m.weight ?? 1 }
  })

  const durationS = raw.load.duration
  const expand = (i: number, field: 'node' | 'nodes', names: string[]): string[] => names.flatMap(name => {
    const members = groups.get(name) ?? (seen.has(name) ? [name] : undefined)
    if (members === undefined) fail(file, ['events', i, field], `no node or group named "${name}"`)
    return members
  })
  const events: ScenarioEvent[] = (raw.events ?? []).map((e, i): ScenarioEvent => {
    if (e.at > durationS) fail(file, ['events', i, 'at'], `is after the load ends (load.duration is ${durationS} s)`)
    const targets = (): string[] => {
      if (e.node !== undefined && e.nodes !== undefined) fail(file, ['events', i, 'nodes'], 'give node or nodes, not both')
      const given = e.node !== undefined ? expand(i, 'node', [e.node]) : e.nodes !== undefined ? expand(i, 'nodes', e.nodes) : fail(file, ['events', i, 'node'], `is required for ${e.action}`)
      return given
    }
    const refuse = (fields: Array<keyof typeof e>): void => {
      for (const f of fields) if (e[f] !== undefined) fail(file, ['events', i, f], `is not a field of ${e.action}`)
    }
    switch (e.action) {
      case 'kill':
      case 'restart': {
        refuse(['delayMs', 'rateKbit', 'lossPercent', 'pipeline', 'price'])
        const names = targets()
        for (const name of names) {
          const role = nodes.find(n => n.name === name)?.role
          if (role !== 'orchestrator') fail(file, ['events', i, e.node !== undefined ? 'node' : 'nodes'], `${e.action} takes orchestrators ("${name}" is the ${String(role)})`)
        }
        return { at: e.at, action: e.action, nodes: names }
      }
      case 'partition': {
        refuse(['delayMs', 'rateKbit', 'lossPercent', 'pipeline', 'price'])
        const names = targets()
        if (names.length >= nodes.length) fail(file, ['events', i, 'nodes'], 'a partition leaves some nodes on the other side')
        return { at: e.at, action: 'partition', nodes: names }
      }
      case 'heal':
        refuse(['node', 'nodes', 'delayMs', 'rateKbit', 'lossPercent', 'pipeline', 'price'])
        return { at: e.at, action: 'heal' }
      case 'slow-link': {
        refuse(['pipeline', 'price'])
        if (e.delayMs === undefined && e.rateKbit === undefined && e.lossPercent === undefined) fail(file, ['events', i], 'slow-link needs delayMs, rateKbit or lossPercent (0 restores)')
        const link: ScenarioLink = {
          ...(e.delayMs === undefined ? {} : { delayMs: e.delayMs }),
          ...(e.rateKbit === undefined ? {} : { rateKbit: e.rateKbit }),
          ...(e.lossPercent === undefined ? {} : { lossPercent: e.lossPercent })
        }
        return { at: e.at, action: 'slow-link', nodes: targets(), link }
      }
      case 'price': {
        refuse(['delayMs', 'rateKbit', 'lossPercent'])
        if (e.price === undefined) fail(file, ['events', i, 'price'], 'is required for price')
        if (e.pipeline !== undefined && !isPipelineName(e.pipeline)) fail(file, ['events', i, 'pipeline'], `unknown pipeline ${JSON.stringify(e.pipeline)}`)
        const names = targets()
        for (const name of names) {
          if (nodes.find(n => n.name === name)?.role !== 'orchestrator') fail(file, ['events', i, e.node !== undefined ? 'node' : 'nodes'], `price takes orchestrators ("${name}" is not one)`)
        }
        return { at: e.at, action: 'price', nodes: names, pipeline: e.pipeline as PipelineName | undefined, price: String(e.price) }
      }
      default:
        return fail(file, ['events', i, 'action'], `must be one of ${EVENT_ACTIONS.join(', ')}`)
    }
  }).sort((a, b) => a.at - b.at)

  return {
    name: raw.name,
    description: raw.description ?? '',
    subnet: raw.subnet ?? '10.240.0',
    payments: raw.payments ?? false,
    runners: raw.runners ?? 'shared',
    drainS: raw.drain ?? 5,
    nodes,
    load: { rate: raw.load.rate, durationS, mix, timeoutMs: raw.load.timeoutMs ?? 30_000, maxInFlight: raw.load.maxInFlight ?? 512 },
    events,
    tuning: {
      announcementTtlMs: raw.tuning?.announcementTtl,
      monitorIntervalMs: raw.tuning?.monitorInterval,
      gossipHeartbeatMs: raw.tuning?.gossipHeartbeat,
      quoteTimeoutMs: raw.tuning?.quoteTimeout,
      chainTimeoutMs: raw.tuning?.chainTimeout ?? 180_000,
      startConcurrency: raw.tuning?.startConcurrency ?? 4,
      readyTimeoutS: raw.tuning?.readyTimeout ?? 180,
      nice: { gateway: 0, orchestrator: 0, bootstrap: 0, infrastructure: 0, client: 0, startup: 0, ...raw.tuning?.nice }
    }
  }
}

/** Parses YAML or JSON text (YAML is a superset) and checks it. */
export function parseScenario (text: string, file = 'scenario'): Scenario {
  let doc: unknown
  try {
    doc = parseYaml(text, { prettyErrors: true })
  } catch (err) {
    throw new ScenarioError('SCENARIO_ERROR_FILE', `${file}: not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`)
  }
  return checkScenario(doc, file)
}

export async function loadScenario (path: string): Promise<Scenario> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new ScenarioError('SCENARIO_ERROR_FILE', `cannot read scenario ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  return parseScenario(text, path)
}
