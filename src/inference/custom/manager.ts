/**
 * Runs the custom capabilities of an orchestrator and hands out request slots on them,
 * as the other runner managers do for models (pipeline `custom`, model id = capability
 * name). Every capability starts with the manager (all are warm):
 * - `image`: one container through the Docker Engine, its port published on 127.0.0.1
 *   (labelled `shoal.managed=<owner>-custom`, leftovers of a killed orchestrator removed
 *   at start), recreated with backoff when it dies;
 * - `command`: one child process with `HOST=127.0.0.1` and a free `PORT`, restarted with
 *   backoff when it exits, stopped by pid;
 * - `url`: someone else's app, checked only.
 * An app is in service while `healthPath` answers 2xx. A request runs at most the
 * capability's `timeoutMs`; a JSON body is checked against its `request_schema` first
 * (a 400 from the orchestrator, the app never sees it).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { EventEmitter, once } from 'node:events'
import Dockerode from 'dockerode'
import { request } from 'undici'
import { silentLogger, type Logger } from '../../observability/logger.js'
import { wholeInput, type InferenceJob, type RunnerResponse } from '../../kernel/job.js'
import { createJobError } from '../../kernel/job-outcome.js'
import type { PipelineName } from '../../kernel/pipelines.js'
import { CUSTOM_DEFAULT_TIMEOUT_MS } from '../../kernel/pipelines/custom.js'
import { createRunnerClient, type RunnerClient } from '../runner-client/index.js'
import { RunnerStartError } from '../managers/errors.js'
import { capabilitiesOf, pickRunner, takeSlot, type RunnerSlots } from '../managers/slots.js'
import { freePort, imagePresent, listOwnedContainers, pullImage, removeContainer, stopAndRemoveContainer, containerLogTail } from '../managers/docker-engine.js'
import { LABEL_MANAGED, LABEL_MODEL_ID, LABEL_PIPELINE } from '../managers/docker-spec.js'
import type { ModelCapability, RunnerLease, RunnerManager, RunnerManagerEvents } from '../managers/types.js'
import type { CustomCapability } from './config.js'
import { anySignal } from '../../signals/any-signal.js'

export interface CustomRunnerManagerOptions {
  capabilities: readonly CustomCapability[]
  logger?: Logger
  /** the Engine client for `image` runners. @default new Dockerode() (honours DOCKER_HOST) */
  docker?: Dockerode
  /** containers are labelled `shoal.managed=<owner>-custom` (the orchestrator's peer id) */
  owner?: string
  /** @default 5000 */
  healthIntervalMs?: number
  /** @default 2000 */
  healthTimeoutMs?: number
  /** failed checks in a row before an app leaves service. @default 2 */
  failuresBeforeUnhealthy?: number
  /** first delay before restarting a dead app; doubles up to 30 s. @default 1000 */
  restartDelayMs?: number
  /** wait after SIGTERM (process) or `docker stop` before killing. @default 5000 */
  stopTimeoutMs?: number
}

export const defaultCustomRunnerManagerOptions = {
  healthIntervalMs: 5_000,
  healthTimeoutMs: 2_000,
  failuresBeforeUnhealthy: 2,
  restartDelayMs: 1_000,
  stopTimeoutMs: 5_000
} as const

const PIPELINE: PipelineName = 'custom'
const STARTUP_POLL_MS = 100
const MAX_RESTART_DELAY_MS = 30_000
/** JSON bodies checked against a request schema are read whole: bound what is parsed */
const MAX_SCHEMA_BODY_BYTES = 16 * 1024 * 1024

interface CustomRunner extends RunnerSlots {
  readonly capability: CustomCapability
  client: RunnerClient | null
  /** the app's base URL while it runs */
  base: string | null
  failures: number
  restarts: number
  /** stops what `launch` started (kill the process, remove the container) */
  teardown: (() => Promise<void>) | null
}

export function createCustomRunnerManager (options: CustomRunnerManagerOptions): RunnerManager {
  const opts = { ...defaultCustomRunnerManagerOptions, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof defaultCustomRunnerManagerOptions & CustomRunnerManagerOptions
  const logger = opts.logger ?? silentLogger()
  const emitter = new EventEmitter<RunnerManagerEvents>()
  const emitChange = (): void => { emitter.emit('change') }
  const owner = `${opts.owner ?? 'shoal'}-custom`
  let docker: Dockerode | undefined
  const engine = (): Dockerode => (docker ??= opts.docker ?? new Dockerode())
  const runners: CustomRunner[] = opts.capabilities.map(capability => ({
    pipeline: PIPELINE,
    modelId: capability.name,
    capacity: capability.capacity,
    inUse: 0,
    warm: false,
    available: false,
    version: null,
    capability,
    client: null,
    base: null,
    failures: 0,
    restarts: 0,
    teardown: null
  }))
  const lifetime = new AbortController()
  const timers = new Set<NodeJS.Timeout>()
  let started = false

  async function healthy (base: string, path: string, signal: AbortSignal, token?: string): Promise<boolean> {
    try {
      const res = await request(base + path, { signal: anySignal([signal, AbortSignal.timeout(opts.healthTimeoutMs)]), ...(token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } }) })
      await res.body.dump()
      return res.statusCode >= 200 && res.statusCode < 300
    } catch {
      return false
    }
  }

  /** Polls health until 2xx; rejects when `exited` settles first or the start timeout passes. */
  async function waitHealthy (runner: CustomRunner, base: string, exited: Promise<string> | null, signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + runner.capability.startupTimeoutMs
    let gone: string | null = null
    void exited?.then((why) => { gone = why })
    for (;;) {
      signal.throwIfAborted()
      if (gone !== null) throw new RunnerStartError(`custom capability ${runner.modelId}: ${String(gone)} before ${runner.capability.healthPath} answered`, { capability: runner.modelId })
      if (await healthy(base, runner.capability.healthPath, signal)) return
      if (Date.now() > deadline) throw new RunnerStartError(`custom capability ${runner.modelId}: ${runner.capability.healthPath} did not answer 2xx within ${runner.capability.startupTimeoutMs} ms`, { capability: runner.modelId })
      await new Promise(resolve => { const t = setTimeout(resolve, STARTUP_POLL_MS); t.unref() })
    }
  }

  function serve (runner: CustomRunner, base: string): void {
    const how = runner.capability.runner
    runner.base = base
    runner.client = createRunnerClient({ url: base, ...(how.kind === 'url' && how.token !== undefined ? { token: how.token } : {}) })
    runner.available = runner.warm = true
    runner.failures = 0
    runner.version = runner.capability.runner.kind === 'image' ? runner.capability.runner.image : runner.capability.runner.kind
    logger.info({ capability: runner.modelId, url: base }, 'custom capability in service')
    emitChange()
  }

  function outOfService (runner: CustomRunner, reason: string): void {
    runner.client?.close()
    runner.client = null
    runner.base = null
    if (runner.available) {
      runner.available = runner.warm = false
      logger.warn({ capability: runner.modelId, reason }, 'custom capability out of service')
      emitChange()
    }
  }

  /** After an exit: start again with backoff, unless stopping. */
  function restartLater (runner: CustomRunner): void {
    if (lifetime.signal.aborted) return
    const delay = Math.min(MAX_RESTART_DELAY_MS, opts.restartDelayMs * 2 ** Math.min(runner.restarts, 10))
    runner.restarts++
    const timer = setTimeout(() => {
      timers.delete(timer)
      launch(runner, lifetime.signal).catch((err: Error) => {
        logger.warn({ capability: runner.modelId, err: err.message }, 'custom capability restart failed')
        restartLater(runner)
      })
    }, delay)
    timer.unref()
    timers.add(timer)
  }

  async function launchProcess (runner: CustomRunner, command: string[], signal: AbortSignal): Promise<void> {
    const port = await freePort('127.0.0.1')
    const [file = '', ...args] = command
    const child: ChildProcess = spawn(file, args, {
      env: { ...process.env, ...runner.capability.env, HOST: '127.0.0.1', PORT: String(port) },
      stdio: ['ignore', 'ignore', 'pipe']
    })
    let tail = ''
    child.stderr?.on('data', (chunk: Buffer) => { tail = (tail + chunk.toString('utf8')).slice(-2048) })
    const exited = new Promise<string>(resolve => {
      child.once('error', (err) => { resolve(`could not start ${file}: ${err.message}`) })
      child.once('exit', (code, sig) => { resolve(`exited (code ${code ?? '?'}${sig === null ? '' : `, signal ${sig}`})${tail === '' ? '' : `: ${tail.trim().split('\n').slice(-3).join(' | ')}`}`) })
    })
    const kill = async (): Promise<void> => {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => { child.kill('SIGKILL') }, opts.stopTimeoutMs)
      await once(child, 'exit').catch(() => {})
      clearTimeout(timer)
    }
    runner.teardown = kill
    try {
      await waitHealthy(runner, `http://127.0.0.1:${port}`, exited, signal)
    } catch (err) {
      await kill()
      throw err
    }
    serve(runner, `http://127.0.0.1:${port}`)
    void exited.then((why) => {
      if (runner.teardown !== kill) return
      runner.teardown = null
      outOfService(runner, why)
      restartLater(runner)
    })
  }

  async function launchContainer (runner: CustomRunner, image: string, containerPort: number, signal: AbortSignal): Promise<void> {
    const d = engine()
    if (!await imagePresent(d, image)) {
      try {
        await pullImage(d, image, signal)
      } catch (err) {
        throw new RunnerStartError(`custom capability ${runner.modelId}: image ${image} is not on the Docker Engine and cannot be pulled: ${(err as Error).message}`, { capability: runner.modelId, image })
      }
    }
    const port = await freePort('127.0.0.1')
    const container = await d.createContainer({
      name: `shoal-custom-${runner.modelId.replace(/[^a-z0-9.-]/g, '-')}_${port}`,
      Image: image,
      Env: Object.entries({ ...runner.capability.env, PORT: String(containerPort) }).map(([k, v]) => `${k}=${v}`),
      ExposedPorts: { [`${containerPort}/tcp`]: {} },
      Labels: { [LABEL_MANAGED]: owner, [LABEL_PIPELINE]: PIPELINE, [LABEL_MODEL_ID]: runner.modelId },
      HostConfig: { Init: true, PortBindings: { [`${containerPort}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(port) }] } }
    })
    const remove = async (): Promise<void> => { await stopAndRemoveContainer(d, container.id, Math.ceil(opts.stopTimeoutMs / 1000)).catch(() => {}) }
    runner.teardown = remove
    let exited: Promise<string>
    try {
      await container.start()
      // settles when the container stops, whatever stopped it (a crash, `docker kill`, an OOM kill)
      exited = container.wait().then(
        async (r: { StatusCode?: number }) => `container exited (code ${r.StatusCode ?? '?'})${await containerLogTail(d, container.id, 3).then(t => t === '' ? '' : `: ${t.replace(/\n/g, ' | ')}`)}`,
        (err: Error) => `container gone: ${err.message}`
      )
      await waitHealthy(runner, `http://127.0.0.1:${port}`, exited, signal)
    } catch (err) {
      await remove()
      throw err
    }
    serve(runner, `http://127.0.0.1:${port}`)
    void exited.then(async (why) => {
      if (runner.teardown !== remove) return
      runner.teardown = null
      outOfService(runner, why)
      await removeContainer(d, container.id).catch(() => {})
      restartLater(runner)
    })
  }

  async function launch (runner: CustomRunner, signal: AbortSignal): Promise<void> {
    const { runner: how } = runner.capability
    if (how.kind === 'command') await launchProcess(runner, how.command, signal)
    else if (how.kind === 'image') await launchContainer(runner, how.image, how.port, signal)
    else if (await healthy(how.url, runner.capability.healthPath, signal, how.token)) serve(runner, how.url)
    else logger.warn({ capability: runner.modelId, url: how.url }, 'custom capability app not healthy at start')
  }

  async function checkAll (signal: AbortSignal): Promise<void> {
    await Promise.all(runners.map(async (runner) => {
      const how = runner.capability.runner
      const base = runner.base ?? (how.kind === 'url' ? how.url : null)
      if (base === null) return
      if (await healthy(base, runner.capability.healthPath, signal, how.kind === 'url' ? how.token : undefined)) {
        runner.failures = 0
        if (runner.base === null) serve(runner, base)
        else if (!runner.available) { runner.available = runner.warm = true; emitChange() }
      } else if (!signal.aborted && ++runner.failures >= opts.failuresBeforeUnhealthy) {
        // a url app comes back through this check; a process or container also through its restart
        if (how.kind === 'url') outOfService(runner, `${runner.capability.healthPath} failed ${runner.failures} checks`)
        else if (runner.available) { runner.available = runner.warm = false; emitChange() }
      }
    }))
  }

  function schedule (): void {
    const timer = setTimeout(() => {
      timers.delete(timer)
      void checkAll(lifetime.signal).finally(() => { if (!lifetime.signal.aborted) schedule() })
    }, opts.healthIntervalMs)
    timer.unref()
    timers.add(timer)
  }

  /** The lease's client: the capability's own timeout and request schema around the app's client. */
  function leaseClient (runner: CustomRunner, client: RunnerClient): RunnerClient {
    return {
      ...client,
      run: async (job: InferenceJob, { signal } = {}): Promise<RunnerResponse> => {
        const problem = schemaProblem(runner.capability, job)
        if (problem !== undefined) {
          const answer = Buffer.from(JSON.stringify({ error: { message: `request does not match the ${runner.modelId} request schema: ${problem}` } }))
          return { status: 400, contentType: 'application/json', body: (async function * () { yield answer })() }
        }
        const asked = typeof job.params.timeout_ms === 'number' ? job.params.timeout_ms : CUSTOM_DEFAULT_TIMEOUT_MS
        const limitMs = Math.min(asked, runner.capability.timeoutMs)
        const limit = AbortSignal.timeout(limitMs)
        const which = `the request's timeout${asked > runner.capability.timeoutMs ? ', cut to the capability\'s limit' : ''}`
        let response: RunnerResponse
        try {
          response = await client.run(job, { signal: signal === undefined ? limit : anySignal([signal, limit]) })
        } catch (err) {
          if (!limit.aborted || signal?.aborted === true) throw err
          // the request's own time limit, not the app's failure: no other orchestrator would do better in the time left
          const answer = Buffer.from(JSON.stringify({ error: { code: 'CUSTOM_TIMEOUT', message: `capability ${runner.modelId} did not answer within ${limitMs} ms (${which})` } }))
          return { status: 408, contentType: 'application/json', body: (async function * () { yield answer })() }
        }
        // past the head, the limit ends the answer: a DEADLINE_EXCEEDED Final that says so (the gateway ends its stream with it)
        return { ...response, body: timeLimited(response.body, limit, signal, `capability ${runner.modelId} did not finish its answer within ${limitMs} ms (${which})`) }
      }
    }
  }

  return Object.assign(emitter, {
    start: async ({ signal }: { signal?: AbortSignal } = {}) => {
      if (started) return
      started = true
      const own = signal === undefined ? lifetime.signal : anySignal([lifetime.signal, signal])
      if (runners.some(r => r.capability.runner.kind === 'image')) {
        // containers a killed orchestrator left behind
        for (const c of await listOwnedContainers(engine(), owner)) await removeContainer(engine(), c.id)
      }
      await Promise.all(runners.map(async (runner) => { await launch(runner, own) }))
      schedule()
    },
    stop: async () => {
      lifetime.abort()
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      await Promise.all(runners.map(async (runner) => {
        const teardown = runner.teardown
        runner.teardown = null
        outOfService(runner, 'stopping')
        await teardown?.()
      }))
    },
    capabilities: (): ModelCapability[] => capabilitiesOf(runners),
    acquire: async (pipeline: PipelineName, modelId: string, { signal }: { signal?: AbortSignal } = {}): Promise<RunnerLease> => {
      signal?.throwIfAborted()
      const runner = pickRunner(runners, pipeline, modelId)
      const client = runner.client
      if (client === null) throw new RunnerStartError(`custom capability ${modelId} is not running`)
      return { client: leaseClient(runner, client), release: takeSlot(runner, emitChange) }
    }
  })
}

/** The app's answer; cut by the request's time limit (not the caller's abort), a `DeadlineExceededError` saying so. */
async function * timeLimited (body: AsyncIterable<Uint8Array>, limit: AbortSignal, caller: AbortSignal | undefined, message: string): AsyncGenerator<Uint8Array> {
  try {
    yield * body
  } catch (err) {
    if (!limit.aborted || caller?.aborted === true) throw err
    throw createJobError('DEADLINE_EXCEEDED', message, undefined, { cause: err })
  }
}

/** Why a JSON body fails the capability's request schema; undefined when it passes or there is none. */
function schemaProblem (capability: CustomCapability, job: InferenceJob): string | undefined {
  const validate = capability.requestSchema
  const input = job.inputs[0]
  if (validate === undefined) return undefined
  if (input === undefined || !/^application\/(.+\+)?json\b/i.test(input.contentType)) return 'the body must be application/json'
  if (input.data.byteLength > MAX_SCHEMA_BODY_BYTES) return `a JSON body larger than ${MAX_SCHEMA_BODY_BYTES} bytes`
  let value: unknown
  try {
    const data = wholeInput(input.data)
    value = JSON.parse(Buffer.from(data.subarray(0, data.byteLength)).toString('utf8'))
  } catch {
    return 'the body is not valid JSON'
  }
  if (validate(value)) return undefined
  const error = validate.errors?.[0]
  return error === undefined ? 'invalid' : `${error.instancePath === '' ? 'the body' : error.instancePath} ${error.message ?? 'is invalid'}`
}
