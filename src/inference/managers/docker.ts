/**
 * Runner containers managed through the Docker Engine API, the way go-livepeer manages
 * `livepeer/ai-runner`: one container per `aiModels.json` entry (without `url`), each
 * in one of `gpus.length x containersPerGpu` slots (or `containersPerGpu` slots on CPU).
 *
 * - Containers are named `<prefix>-<pipeline>_<model>_<hostPort>` and labelled
 *   `shoal.managed=<owner>`; `start()` first removes every container with that label
 *   (the leftovers of an orchestrator that died), `stop()` removes every one it made.
 * - Port 8000 is published on 127.0.0.1 only, the model directory is bind-mounted at
 *   `/models`, a slot's GPU is passed as a device request, and each container gets
 *   `PIPELINE`, `MODEL_ID`, a fresh random `AUTH_TOKEN` (which only this manager's
 *   client sends) and the entry's optimization flags as environment; `Init: true`.
 * - Warm entries start with the manager. Cold ones start on their first `acquire`, in a
 *   free slot or else in the slot of the least recently used idle cold container, which
 *   is removed; with neither, `InsufficientCapacityError`.
 * - A start waits for `/health` OK (and `/version` naming the model) up to
 *   `startupTimeoutMs`. Afterwards `/health` is polled every `healthIntervalMs`: ERROR,
 *   `failuresBeforeRestart` failures in a row, or the container dying (Docker `die`
 *   event) remove the container; warm entries are then recreated with backoff. LOADING
 *   takes the runner out of rotation until it answers OK again. All of this is the
 *   runner supervisor's (supervisor.ts), shared with the process manager.
 * - `capabilities()` is what can take a job now: running runners (warm), and cold
 *   entries only while a slot is free or can be freed; 'change' is emitted whenever it
 *   changes, and only then.
 */
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { mkdir } from 'node:fs/promises'
import { isAbsolute } from 'node:path'
import Dockerode from 'dockerode'
import { silentLogger, type Logger } from '../../observability/logger.js'
import { raceSignal } from '../../signals/race-signal.js'
import type { ModelEntry } from '../models-config.js'
import type { PipelineName } from '../../kernel/pipelines.js'
import { createRunnerClient, type RunnerClientOptions } from '../runner-client/index.js'
import {
  containerLogTail, engineStatus, freePort, imagePresent, isPortConflict, listOwnedContainers,
  pullImage, removeContainer, stopAndRemoveContainer
} from './docker-engine.js'
import {
  CONTAINER_NAME_PREFIX, DEFAULT_RUNNER_IMAGE, LABEL_MANAGED, RUNNER_CONTAINER_PORT,
  containerName, containerSpec, runnerImage
} from './docker-spec.js'
import { InsufficientCapacityError, RunnerStartError, RunnerUnavailableError, UnsupportedModelError } from './errors.js'
import { capabilitiesOf, type RunnerSlots } from './slots.js'
import { createRunnerSupervisor, type InstanceExit, type RemovalReason, type RunnerInstance, type RunnerSupervisor } from './supervisor.js'
import type { ModelCapability, RunnerLease, RunnerManager, RunnerManagerEvents } from './types.js'
import { anySignal } from '../../signals/any-signal.js'

export interface DockerRunnerManagerOptions {
  /** entries without `url`; one container each */
  entries: readonly ModelEntry[]
  /**
   * Who owns the containers, e.g. the orchestrator's peer id: the value of the
   * `shoal.managed` label. Containers with this label are removed at `start()`.
   */
  owner: string
  /** the Engine client. @default new Dockerode() (honours DOCKER_HOST, DOCKER_CERT_PATH, DOCKER_TLS_VERIFY) */
  docker?: Dockerode
  /** image per pipeline, over the defaults (`livepeer/ai-runner:<pipeline>` for some, else `defaultImage`) */
  images?: Partial<Record<PipelineName, string>>
  /** @default 'livepeer/ai-runner:latest' */
  defaultImage?: string
  /** GPU device ids (`nvidia-smi` indexes or UUIDs), one device request per container; [] runs on CPU. @default [] */
  gpus?: readonly string[]
  /** containers per GPU, or in all when `gpus` is empty. @default 1 */
  containersPerGpu?: number
  /** host directory (on the Docker host) bind-mounted at /models; created if missing. @default none */
  modelsDir?: string
  /** container name prefix. @default 'shoal' */
  namePrefix?: string
  /** host address the runner port is published on and reached at. @default '127.0.0.1' */
  hostIp?: string
  /**
   * Attach containers to this Docker network and reach them at `http://<name>:8000`
   * instead of publishing a host port: for an orchestrator that itself runs in a
   * container on that network (docker/compose.yaml). @default none
   */
  network?: string
  /** pull images missing on the engine at start. @default true */
  pull?: boolean
  /** extra environment for every container (e.g. HUGGINGFACE_TOKEN); entry flags and runner variables win */
  env?: Record<string, string>
  /** longest wait for /health OK after a container starts. @default 180000 (go-livepeer's 3 min) */
  startupTimeoutMs?: number
  /** /health polling while a container starts. @default 500 */
  startupPollMs?: number
  /** /health polling of running containers. @default 5000 */
  healthIntervalMs?: number
  /** @default 2000 */
  healthTimeoutMs?: number
  /** failed checks in a row before a container is removed (and recreated if warm). @default 2 */
  failuresBeforeRestart?: number
  /** `docker stop` grace period at `stop()`, before SIGKILL. @default 10000 */
  stopTimeoutMs?: number
  /** first delay before recreating a lost warm container; doubles up to 30 s. @default 1000 */
  restartDelayMs?: number
  logger?: Logger
  /** passed to each runner's client */
  client?: Omit<RunnerClientOptions, 'url' | 'token'>
}

export const defaultDockerRunnerManagerOptions = {
  defaultImage: DEFAULT_RUNNER_IMAGE,
  gpus: [] as readonly string[],
  containersPerGpu: 1,
  namePrefix: 'shoal',
  hostIp: '127.0.0.1',
  pull: true,
  startupTimeoutMs: 180_000,
  startupPollMs: 500,
  healthIntervalMs: 5_000,
  healthTimeoutMs: 2_000,
  failuresBeforeRestart: 2,
  stopTimeoutMs: 10_000,
  restartDelayMs: 1_000
}

const PORT_TRIES = 3
const EVENTS_RETRY_MS = 1_000
const PING_TIMEOUT_MS = 10_000

interface Slot {
  readonly index: number
  readonly gpu: string | null
  holder: DockerRunner | null
  /** the removal of the previous holder's container: a new one waits for it (GPU memory) */
  freed: Promise<void>
}

interface ContainerInstance extends RunnerInstance {
  readonly id: string
  readonly name: string
  readonly url: string
  readonly slot: Slot
}

interface DockerRunner {
  readonly entry: ModelEntry
  readonly image: string
  readonly supervisor: RunnerSupervisor<ContainerInstance>
  /** the slot held (reserved for a start, or the container's) */
  slot: Slot | null
  inUse: number
  lastUsed: number
  imageMissing: boolean
}

export function createDockerRunnerManager (options: DockerRunnerManagerOptions): RunnerManager {
  const opts = { ...defaultDockerRunnerManagerOptions, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof defaultDockerRunnerManagerOptions & DockerRunnerManagerOptions
  if (typeof opts.owner !== 'string' || opts.owner === '') throw new TypeError('owner must be a non-empty string (e.g. the orchestrator peer id)')
  if (!CONTAINER_NAME_PREFIX.test(opts.namePrefix)) throw new TypeError(`namePrefix "${opts.namePrefix}" must match ${String(CONTAINER_NAME_PREFIX)}`)
  if (!Number.isInteger(opts.containersPerGpu) || opts.containersPerGpu < 1) throw new TypeError('containersPerGpu must be a positive integer')
  if (opts.modelsDir !== undefined && !isAbsolute(opts.modelsDir)) throw new TypeError(`modelsDir must be an absolute path (got "${opts.modelsDir}")`)
  const logger = opts.logger ?? silentLogger()
  const docker = opts.docker ?? new Dockerode()
  const images = opts.images ?? {}
  const network = opts.network ?? null
  const modelsDir = opts.modelsDir ?? null

  const slots: Slot[] = opts.gpus.length === 0
    ? Array.from({ length: opts.containersPerGpu }, (_, index) => ({ index, gpu: null, holder: null, freed: Promise.resolve() }))
    : opts.gpus.flatMap((gpu, g) => Array.from({ length: opts.containersPerGpu }, (_, k) => ({ index: g * opts.containersPerGpu + k, gpu, holder: null, freed: Promise.resolve() })))

  const emitter = new EventEmitter<RunnerManagerEvents>()
  const lifetime = new AbortController()
  let started = false
  let stopping: Promise<void> | null = null
  let events: NodeJS.ReadableStream | null = null
  let eventsTimer: NodeJS.Timeout | null = null
  let nameSeq = 0
  /** ids of containers created and not yet known removed */
  const created = new Set<string>()
  const removals = new Set<Promise<void>>()
  /** resolves a container's `exited` when the engine reports it died */
  const dieNotices = new Map<string, (exit: InstanceExit) => void>()
  let lastSnapshot = JSON.stringify([])

  const runners: DockerRunner[] = opts.entries.map((entry, index) => {
    if (entry.url !== undefined) throw new TypeError(`entry ${index} (${entry.pipeline} ${entry.modelId}) has a url; it is an external runner`)
    const runner: DockerRunner = {
      entry,
      image: runnerImage(entry.pipeline, images, opts.defaultImage),
      slot: null,
      inUse: 0,
      lastUsed: 0,
      imageMissing: false,
      supervisor: undefined as unknown as RunnerSupervisor<ContainerInstance>
    }
    ;(runner as { supervisor: RunnerSupervisor<ContainerInstance> }).supervisor = createRunnerSupervisor<ContainerInstance>({
      launch: async (signal) => await launch(runner, signal),
      dispose: async (instance, reason) => { await disposeContainer(runner, instance, reason) }
    }, {
      pipeline: entry.pipeline,
      modelId: entry.modelId,
      restart: entry.warm,
      startupTimeoutMs: opts.startupTimeoutMs,
      startupPollMs: opts.startupPollMs,
      healthIntervalMs: opts.healthIntervalMs,
      healthTimeoutMs: opts.healthTimeoutMs,
      failuresBeforeRestart: opts.failuresBeforeRestart,
      restartDelayMs: opts.restartDelayMs,
      logger,
      onChange: emitChange
    })
    return runner
  })
  const warmCount = runners.filter((r) => r.entry.warm).length
  if (warmCount > slots.length) {
    throw new TypeError(`${warmCount} warm entries but only ${slots.length} container slots (${opts.gpus.length === 0 ? 'CPU' : `${opts.gpus.length} GPUs`} x ${opts.containersPerGpu})`)
  }

  const describe = (r: DockerRunner): Record<string, unknown> => ({
    pipeline: r.entry.pipeline, modelId: r.entry.modelId, container: r.supervisor.instance?.name ?? null, slot: r.slot?.index ?? null, gpu: r.slot?.gpu ?? null
  })

  /** Emits 'change' when what `capabilities()` returns differs from the last emission. */
  function emitChange (): void {
    const snapshot = JSON.stringify(capabilities())
    if (snapshot === lastSnapshot) return
    lastSnapshot = snapshot
    emitter.emit('change')
  }

  function evictable (r: DockerRunner): boolean {
    return r.supervisor.state === 'ready' && r.inUse === 0 && !r.entry.warm && r.supervisor.starting === null
  }

  /** A slot for `r` could be had now: a free one, or one an idle cold container holds. */
  function slotObtainable (r: DockerRunner): boolean {
    return slots.some((s) => s.holder === null) || runners.some((o) => o !== r && evictable(o))
  }

  function view (r: DockerRunner): RunnerSlots {
    const state = r.supervisor.state
    const running = state === 'ready' || state === 'starting'
    const available = started && stopping === null && !r.imageMissing &&
      (running || (state === 'idle' && !r.entry.warm && r.inUse < r.entry.capacity && slotObtainable(r)))
    return { pipeline: r.entry.pipeline, modelId: r.entry.modelId, capacity: r.entry.capacity, inUse: r.inUse, warm: state === 'ready', available, version: r.supervisor.version }
  }

  function capabilities (): ModelCapability[] {
    return capabilitiesOf(runners.map(view))
  }

  /** Takes a free slot for `r`, else evicts the least recently used idle cold container; null when neither. */
  function allocateSlot (r: DockerRunner): Slot | null {
    if (r.slot !== null) return r.slot
    const free = slots.find((s) => s.holder === null)
    if (free !== undefined) {
      free.holder = r
      r.slot = free
      return free
    }
    const victim = runners.filter((o) => o !== r && evictable(o)).sort((a, b) => a.lastUsed - b.lastUsed)[0]
    if (victim === undefined) return null
    const slot = victim.slot as Slot
    logger.info({ ...describe(victim), for: `${r.entry.pipeline} ${r.entry.modelId}` }, 'evicting idle cold runner container')
    // frees the slot synchronously (disposeContainer), its removal becomes slot.freed
    victim.supervisor.remove({ kind: 'evicted' })
    slot.holder = r
    r.slot = slot
    return slot
  }

  function releaseSlot (r: DockerRunner, slot: Slot): void {
    if (slot.holder === r) slot.holder = null
    if (r.slot === slot) r.slot = null
  }

  function trackRemoval (id: string, removal: Promise<void>): Promise<void> {
    const done = removal.then(() => { created.delete(id) }, (err: unknown) => {
      logger.error({ err, id }, 'could not remove runner container')
    })
    removals.add(done)
    void done.finally(() => removals.delete(done))
    return done
  }

  /** Frees the container's slot at once (before any await) and removes the container. */
  async function disposeContainer (r: DockerRunner, instance: ContainerInstance, reason: RemovalReason): Promise<void> {
    releaseSlot(r, instance.slot)
    dieNotices.delete(instance.id)
    instance.client.close()
    const removal = reason.kind === 'stopped'
      ? stopAndRemoveContainer(docker, instance.id, Math.max(0, Math.ceil(opts.stopTimeoutMs / 1000)))
      : removeContainer(docker, instance.id)
    const done = trackRemoval(instance.id, removal)
    instance.slot.freed = done
    await done
  }

  /** Creates and starts a container for `r` in its slot (allocating one for a restart); resolves once it runs. */
  async function launch (r: DockerRunner, signal: AbortSignal): Promise<ContainerInstance> {
    const { pipeline, modelId } = r.entry
    const fail = (message: string, cause?: unknown): RunnerStartError =>
      new RunnerStartError(`runner container for ${pipeline} ${modelId} (${r.image}) ${message}`, describe(r), { cause })
    const slot = allocateSlot(r)
    if (slot === null) throw fail('has no container slot free')
    r.lastUsed = Date.now()
    let id: string | null = null
    try {
      await slot.freed
      if (signal.aborted) throw fail(lifetime.signal.aborted ? 'start cancelled' : 'timed out waiting for its slot')
      for (let attempt = 1; ; attempt++) {
        const hostPort = network === null ? await freePort(opts.hostIp) : null
        const name = containerName(opts.namePrefix, pipeline, modelId, hostPort ?? `${slot.index}-${++nameSeq}`)
        const token = randomBytes(24).toString('base64url')
        const spec = containerSpec({ entry: r.entry, image: r.image, name, owner: opts.owner, slot: slot.index, gpu: slot.gpu, token, modelsDir, hostIp: opts.hostIp, hostPort, network, env: opts.env ?? {} })
        let handle: Dockerode.Container
        try {
          handle = await docker.createContainer(spec)
        } catch (err) {
          throw fail(`could not be created (${(err as Error).message})`, err)
        }
        id = handle.id
        created.add(id)
        const exited = new Promise<InstanceExit>((resolve) => { dieNotices.set(handle.id, resolve) })
        try {
          await handle.start()
        } catch (err) {
          dieNotices.delete(id)
          await trackRemoval(id, removeContainer(docker, id))
          id = null
          // the kernel's free port was taken before Docker bound it: another one
          if (attempt < PORT_TRIES && isPortConflict(err)) continue
          throw fail(`could not be started (${(err as Error).message})`, err)
        }
        const host = opts.hostIp.includes(':') ? `[${opts.hostIp}]` : opts.hostIp
        const url = network === null ? `http://${host}:${hostPort}` : `http://${name}:${RUNNER_CONTAINER_PORT}`
        const containerId = id
        logger.info({ ...describe(r), id, url, image: r.image }, 'runner container started')
        return {
          id: containerId,
          name,
          url,
          slot,
          client: createRunnerClient({ ...opts.client, url, token }),
          exited,
          probe: async () => {
            const info = await docker.getContainer(containerId).inspect().catch((err: unknown) => engineStatus(err) === 404 ? null : undefined)
            if (info === null) return { code: null, signal: null } // removed from outside
            if (info === undefined || info.State.Running) return null
            return { code: info.State.ExitCode, signal: null }
          },
          tail: async () => await containerLogTail(docker, containerId, 5),
          describe: () => ({ container: name, slot: slot.index, gpu: slot.gpu })
        }
      }
    } catch (err) {
      if (id !== null) {
        dieNotices.delete(id)
        await trackRemoval(id, removeContainer(docker, id))
      }
      releaseSlot(r, slot)
      throw err instanceof RunnerStartError ? err : fail((err as Error).message, err)
    }
  }

  /** A container of ours died (killed, crashed, OOM): out of service at once, not after two failed checks. */
  function onDie (id: string, exitCode: string | undefined): void {
    const code = exitCode === undefined ? null : Number(exitCode)
    dieNotices.get(id)?.({ code: Number.isInteger(code) ? code : null, signal: null })
  }

  async function watchEvents (): Promise<void> {
    if (lifetime.signal.aborted) return
    const stream = await docker.getEvents({ abortSignal: lifetime.signal, filters: { type: ['container'], event: ['die'], label: [`${LABEL_MANAGED}=${opts.owner}`] } })
    if (lifetime.signal.aborted) {
      (stream as unknown as { destroy: () => void }).destroy()
      return
    }
    events = stream
    let buffered = ''
    stream.on('data', (chunk: Buffer | string) => {
      buffered += chunk.toString()
      let newline
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim()
        buffered = buffered.slice(newline + 1)
        if (line === '') continue
        try {
          const event = JSON.parse(line) as { id?: string, Actor?: { ID?: string, Attributes?: Record<string, string> } }
          const id = event.Actor?.ID ?? event.id
          if (typeof id === 'string') onDie(id, event.Actor?.Attributes?.exitCode)
        } catch {}
      }
    })
    const resubscribe = (): void => {
      if (events !== stream || lifetime.signal.aborted) return
      events = null
      logger.warn('Docker event stream ended; resubscribing')
      eventsTimer = setTimeout(() => { watchEvents().catch((err: unknown) => { logger.warn({ err }, 'Docker event stream unavailable; relying on health checks'); resubscribe() }) }, EVENTS_RETRY_MS)
      eventsTimer.unref()
    }
    stream.on('end', resubscribe)
    stream.on('error', resubscribe)
  }

  async function removeLeftovers (): Promise<void> {
    const leftovers = await listOwnedContainers(docker, opts.owner)
    for (const c of leftovers) logger.info({ container: c.name, id: c.id }, 'removing leftover runner container')
    await Promise.all(leftovers.map(async (c) => { await removeContainer(docker, c.id) }))
  }

  /** Makes sure each image is on the engine (pulling when allowed); entries whose image is not are out. */
  async function ensureImages (signal: AbortSignal): Promise<void> {
    for (const image of new Set(runners.map((r) => r.image))) {
      let present = await imagePresent(docker, image)
      if (!present && opts.pull) {
        logger.info({ image }, 'pulling runner image')
        try {
          await pullImage(docker, image, signal)
          present = true
        } catch (err) {
          logger.error({ image, err: (err as Error).message }, 'could not pull runner image')
        }
      }
      for (const r of runners) if (r.image === image) r.imageMissing = !present
    }
    const missingWarm = runners.filter((r) => r.imageMissing && r.entry.warm)
    if (missingWarm.length > 0) {
      throw new RunnerStartError(`runner image ${missingWarm[0].image} for warm ${missingWarm[0].entry.pipeline} ${missingWarm[0].entry.modelId} is not on the Docker engine${opts.pull ? ' and could not be pulled' : ' (pull disabled)'}`, { image: missingWarm[0].image })
    }
    for (const r of runners) if (r.imageMissing) logger.error({ image: r.image, pipeline: r.entry.pipeline, modelId: r.entry.modelId }, 'runner image missing: model not served')
  }

  async function start ({ signal }: { signal?: AbortSignal } = {}): Promise<void> {
    if (started) return
    if (stopping !== null) throw new RunnerUnavailableError('*', '*')
    started = true
    const both = signal === undefined ? lifetime.signal : anySignal([lifetime.signal, signal])
    try {
      // typed without options, but dockerode 4 takes {abortSignal}
      await (docker.ping as (opts: { abortSignal: AbortSignal }) => Promise<unknown>).call(docker, { abortSignal: anySignal([both, AbortSignal.timeout(PING_TIMEOUT_MS)]) })
    } catch (err) {
      throw new RunnerStartError(`the Docker Engine does not answer (${(err as Error).message}); set DOCKER_HOST or start dockerd`, { dockerHost: process.env.DOCKER_HOST ?? null }, { cause: err })
    }
    await removeLeftovers()
    if (modelsDir !== null) await mkdir(modelsDir, { recursive: true }).catch(() => {}) // on a remote engine the path is the engine's
    await ensureImages(both)
    await watchEvents().catch((err: unknown) => { logger.warn({ err }, 'Docker event stream unavailable; relying on health checks') })
    const warm = runners.filter((r) => r.entry.warm)
    for (const r of warm) allocateSlot(r)
    const starts = warm.map(async (r) => await r.supervisor.ensureStarted())
    emitChange()
    await raceSignal(Promise.all(starts), signal)
  }

  async function stop (): Promise<void> {
    stopping ??= (async () => {
      lifetime.abort()
      if (eventsTimer !== null) clearTimeout(eventsTimer)
      if (events !== null) (events as unknown as { destroy: () => void }).destroy()
      events = null
      await Promise.all(runners.map(async (r) => { await r.supervisor.stop() }))
      await Promise.all([...removals])
      // anything else of ours (a create whose answer was lost, say)
      try {
        await Promise.all([...created].map(async (id) => { await removeContainer(docker, id) }))
        if (started) await removeLeftovers()
      } catch (err) {
        logger.error({ err }, 'could not remove every runner container at stop')
      }
      created.clear()
      emitChange()
    })()
    await stopping
  }

  async function acquire (pipeline: PipelineName, modelId: string, { signal }: { signal?: AbortSignal } = {}): Promise<RunnerLease> {
    signal?.throwIfAborted()
    const r = runners.find((x) => x.entry.pipeline === pipeline && x.entry.modelId === modelId)
    if (r === undefined) throw new UnsupportedModelError(pipeline, modelId)
    const state = r.supervisor.state
    if (!started || stopping !== null || r.imageMissing || state === 'loading') throw new RunnerUnavailableError(pipeline, modelId)
    if (r.inUse >= r.entry.capacity) throw new InsufficientCapacityError(pipeline, modelId, r.entry.capacity)
    if (state === 'idle') {
      // a warm runner without a container is being recreated
      if (r.entry.warm) throw new RunnerUnavailableError(pipeline, modelId)
      if (allocateSlot(r) === null) throw new InsufficientCapacityError(pipeline, modelId, r.entry.capacity)
    }
    const ready = r.supervisor.ensureStarted()
    r.inUse++
    r.lastUsed = Date.now()
    emitChange()
    let released = false
    const release = (): void => {
      if (released) return
      released = true
      r.inUse--
      r.lastUsed = Date.now()
      emitChange()
    }
    try {
      const client = await raceSignal(ready, signal)
      return { client, release }
    } catch (err) {
      release()
      throw err
    }
  }

  return Object.assign(emitter, { start, stop, capabilities, acquire })
}
