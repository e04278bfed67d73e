import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { expect } from 'chai'
import { Registry } from 'prom-client'
import type { InferenceJob } from '../../src/kernel/job.js'
import { createCompositeRunnerManager, type RunnerManager } from '../../src/inference/managers/index.js'
import { createCpuRunnerServer, type CpuRunnerServer } from '../../src/cpu-runner/index.js'
import { createRunnerClient } from '../../src/inference/runner-client/index.js'
import { silentLogger } from '../../src/observability/logger.js'
import { createJobExecutor } from '../../src/orchestrator/executor.js'
import { createWorkerRunnerManager, type WorkerRunnerManager } from '../../src/orchestrator/workers/index.js'
import { loadOrCreateNodeKeys, type NodeKeys } from '../../src/p2p/keys.js'
import { createShoalNode, type ShoalLibp2p } from '../../src/p2p/node.js'
import { createAiClient, createAiProtocol, type AiClient, type AiProtocol } from '../../src/protocols/ai/index.js'
import { createWorkerMetrics, type WorkerRefusedError, type WorkerSessionEndReason } from '../../src/protocols/worker/index.js'
import { startWorker, type WorkerRole } from '../../src/roles/worker.js'
import { spawnShoal, type ShoalChild } from '../../src/testnet/child.js'
import { entry, makePng } from '../inference/fixtures.js'
import { createNode, dialAddress, readAll, until } from '../protocols/worker/helpers.js'

/** An orchestrator as the role composes it, reduced to what workers touch: node, worker manager, executor, /shoal/ai. */
interface OrchestratorSide {
  node: ShoalLibp2p
  workers: WorkerRunnerManager
  manager: RunnerManager
  ai: AiProtocol
  registry: Registry
  address: string
  ended: WorkerSessionEndReason[]
  stop: () => Promise<void>
}

async function startOrchestratorSide (options: { privateKey: PrivateKey, allow: string[], port?: number }): Promise<OrchestratorSide> {
  const node = await createShoalNode({ role: 'orchestrator', privateKey: options.privateKey, listen: [`/ip4/127.0.0.1/tcp/${options.port ?? 0}`] })
  const registry = new Registry()
  const workers = createWorkerRunnerManager({ registrar: node, allowList: options.allow, metrics: createWorkerMetrics(registry), logger: silentLogger() })
  const ended: WorkerSessionEndReason[] = []
  workers.server.on('ended', (_s, reason) => { ended.push(reason) })
  const manager = createCompositeRunnerManager([workers])
  // the role starts runner managers before the node: the handler registers on a stopped node
  await manager.start()
  await node.start()
  const ai = createAiProtocol({ registrar: node, executor: createJobExecutor({ manager, logger: silentLogger() }) })
  await ai.start()
  return {
    node,
    workers,
    manager,
    ai,
    registry,
    address: dialAddress(node),
    ended,
    stop: async () => {
      await ai.stop()
      await manager.stop()
      await node.stop()
    }
  }
}

/** A runner that answers like ai-runner but holds its jobs until released: for jobs in flight when a worker dies. */
interface SlowRunner { url: string, release: () => void, held: () => number, server: Server }

async function startSlowRunner (): Promise<SlowRunner> {
  const waiting: Array<() => void> = []
  let held = 0
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const json = (value: unknown): void => { res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value)) }
    if (req.method === 'GET' && req.url === '/health') { json({ status: 'OK' }); return }
    if (req.method === 'GET' && req.url === '/version') { json({ pipeline: 'llm', model_id: 'test/slow', version: 'slow-1' }); return }
    let body = ''
    req.on('data', (c: Buffer) => { body += c.toString() })
    req.on('end', () => {
      const params = JSON.parse(body) as { hold?: string }
      const finish = (): void => { res.end('data: {"last":true}\n\ndata: [DONE]\n\n') }
      held++
      const wait = new Promise<void>(resolve => { waiting.push(resolve) }).then(() => { held-- })
      if (params.hold === 'head') {
        void wait.then(() => { res.writeHead(200, { 'content-type': 'text/event-stream' }); finish() })
      } else {
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        res.write('data: {"first":true}\n\n')
        void wait.then(finish)
      }
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return {
    url: `http://127.0.0.1:${port}`,
    release: () => { for (const resolve of waiting.splice(0)) resolve() },
    held: () => held,
    server
  }
}

const llmJob = (params: Record<string, string>): InferenceJob => ({ pipeline: 'llm', modelId: 'test/slow', params, inputs: [] })

describe('orchestrator/workers: remote workers as a runner manager', function () {
  this.timeout(40_000)
  const cleanup: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) {
      try { await step() } catch (err) { console.error('cleanup failed:', err) }
    }
  })

  async function tempDir (): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'shoal-worker-'))
    cleanup.push(async () => { await rm(dir, { recursive: true, force: true }) })
    return dir
  }

  /** A worker's data dir with its keys made, and an orchestrator that lets that worker register. */
  async function workerAllowed (): Promise<{ dataDir: string, workerKeys: NodeKeys, orchestrator: OrchestratorSide }> {
    const dataDir = await tempDir()
    const workerKeys = await loadOrCreateNodeKeys(dataDir)
    const orchestrator = await startOrchestratorSide({ privateKey: await generateKeyPair('Ed25519'), allow: [workerKeys.peerId.toString()] })
    cleanup.push(orchestrator.stop)
    return { dataDir, workerKeys, orchestrator }
  }

  async function slowRunner (): Promise<SlowRunner> {
    const slow = await startSlowRunner()
    cleanup.push(() => { slow.release(); slow.server.closeAllConnections(); slow.server.close() })
    return slow
  }

  async function gatewayTo (orchestrator: OrchestratorSide): Promise<AiClient> {
    const node = await createNode()
    cleanup.push(async () => { await node.stop() })
    await node.dial(multiaddr(orchestrator.address))
    const client = createAiClient({ dialProtocol: node.dialProtocol.bind(node) })
    cleanup.push(async () => { await client.stop() })
    return client
  }

  async function inProcessWorker (options: { orchestrator: string, dataDir: string, models: Array<ReturnType<typeof entry>> }): Promise<WorkerRole> {
    const role = await startWorker({
      node: { dataDir: options.dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], addressScope: 'private' },
      orchestrator: options.orchestrator,
      models: options.models,
      client: { backoff: { initialMs: 100, maxMs: 400, factor: 2, jitter: 0 } },
      drainTimeoutMs: 2_000
    }, silentLogger())
    cleanup.push(async () => { await role.stop() })
    return role
  }

  async function cpuRunner (pipeline: string): Promise<CpuRunnerServer> {
    const runner = createCpuRunnerServer({ pipeline, modelId: 'shoal/noop', port: 0 })
    await runner.start()
    cleanup.push(async () => { await runner.stop() })
    return runner
  }

  it('serves gateway jobs on a registered worker: streamed LLM events and file inputs, slots counted on the orchestrator', async () => {
    const { dataDir, workerKeys, orchestrator } = await workerAllowed()
    const [llm, upscale] = await Promise.all([cpuRunner('llm'), cpuRunner('upscale')])
    const worker = await inProcessWorker({
      orchestrator: orchestrator.address,
      dataDir,
      models: [entry({ pipeline: 'llm', modelId: 'shoal/noop', url: llm.url, capacity: 3 }), entry({ pipeline: 'upscale', modelId: 'shoal/noop', url: upscale.url })]
    })
    expect(worker.peerId).to.equal(workerKeys.peerId.toString())
    await worker.client.waitRegistered({ signal: AbortSignal.timeout(10_000) })
    await until('worker capacity', () => orchestrator.manager.capabilities().length === 2)
    expect(orchestrator.manager.capabilities().find(c => c.pipeline === 'llm')).to.include({ modelId: 'shoal/noop', capacity: 3, inUse: 0, warm: true })
    expect(orchestrator.workers.workers()).to.have.length(1)

    const gateway = await gatewayTo(orchestrator)
    const started = performance.now()
    const res = await gateway.runJob(orchestrator.node.peerId, {
      pipeline: 'llm',
      modelId: 'shoal/noop',
      params: { messages: [{ role: 'user', content: 'hello' }, { role: 'user', content: 'worker' }], stream: true },
      inputs: []
    })
    expect(res.status).to.equal(200)
    expect(res.contentType).to.match(/^text\/event-stream/)
    const text = (await readAll(res.body)).toString()
    expect(text).to.include('"content":"hello"').and.include('"content":"worker"').and.include('[DONE]')
    await until('slot freed', () => orchestrator.manager.capabilities().find(c => c.pipeline === 'llm')?.inUse === 0)
    console.log(`      gateway -> orchestrator -> worker -> runner, LLM SSE: ${(performance.now() - started).toFixed(1)} ms (first job, streams opened)`)

    // a file input crosses both legs byte for byte
    const png = await makePng(24, 24)
    const up = await gateway.runJob(orchestrator.node.peerId, {
      pipeline: 'upscale',
      modelId: 'shoal/noop',
      params: { prompt: 'same' },
      inputs: [{ field: 'image', filename: 'in.png', contentType: 'image/png', data: png }]
    })
    const answer = JSON.parse((await readAll(up.body)).toString()) as { images: Array<{ url: string }> }
    expect(Buffer.from(answer.images[0].url.split(',')[1], 'base64').equals(png)).to.equal(true)

    // the cost of the worker hop: the same job on the runner's HTTP API directly and through the worker, interleaved
    const direct = createRunnerClient({ url: llm.url })
    cleanup.push(() => { direct.close() })
    const job: InferenceJob = { pipeline: 'llm', modelId: 'shoal/noop', params: { messages: [{ role: 'user', content: 'x' }], stream: true }, inputs: [] }
    const directMs: number[] = []
    const workerMs: number[] = []
    for (let i = 0; i < 40; i++) {
      let t = performance.now()
      await readAll((await direct.run(job)).body)
      directMs.push(performance.now() - t)
      t = performance.now()
      const lease = await orchestrator.manager.acquire('llm', 'shoal/noop')
      try {
        await readAll((await lease.client.run(job)).body)
      } finally {
        lease.release()
      }
      workerMs.push(performance.now() - t)
    }
    const p50 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
    console.log(`      LLM noop job, p50 of 40: runner HTTP direct ${p50(directMs).toFixed(2)} ms, through the worker ${p50(workerMs).toFixed(2)} ms (hop adds ${(p50(workerMs) - p50(directMs)).toFixed(2)} ms, x${(p50(workerMs) / p50(directMs)).toFixed(2)})`)
  })

  it('gives a refused worker no capacity: its peer id is not in the allow-list', async () => {
    const dataDir = await tempDir()
    const someoneElse = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const orchestrator = await startOrchestratorSide({ privateKey: await generateKeyPair('Ed25519'), allow: [someoneElse] })
    cleanup.push(orchestrator.stop)
    const llm = await cpuRunner('llm')
    const worker = await inProcessWorker({ orchestrator: orchestrator.address, dataDir, models: [entry({ pipeline: 'llm', modelId: 'shoal/noop', url: llm.url })] })
    const refusal = await new Promise<WorkerRefusedError>(resolve => worker.client.once('refused', resolve))
    expect(refusal).to.include({ name: 'WorkerRefusedError', code: 'WORKER_ERROR_NOT_ALLOWED' })
    expect(refusal.message).to.include(worker.peerId)
    expect(orchestrator.manager.capabilities()).to.deep.equal([])
    const err = await orchestrator.manager.acquire('llm', 'shoal/noop').catch((e: Error) => e)
    expect(err).to.have.property('name', 'UnsupportedModelError')
  })

  it('re-registers after the orchestrator restarts, and serves jobs again', async () => {
    const dataDir = await tempDir()
    const workerKeys = await loadOrCreateNodeKeys(dataDir)
    const privateKey = await generateKeyPair('Ed25519')
    const first = await startOrchestratorSide({ privateKey, allow: [workerKeys.peerId.toString()] })
    const port = Number(/\/tcp\/(\d+)/.exec(first.address)?.[1])
    const llm = await cpuRunner('llm')
    const worker = await inProcessWorker({ orchestrator: first.address, dataDir, models: [entry({ pipeline: 'llm', modelId: 'shoal/noop', url: llm.url })] })
    await worker.client.waitRegistered({ signal: AbortSignal.timeout(10_000) })
    await first.stop()
    await new Promise(resolve => setTimeout(resolve, 600))
    expect(worker.client.registered).to.equal(false)

    const again = await startOrchestratorSide({ privateKey, allow: [workerKeys.peerId.toString()], port })
    cleanup.push(again.stop)
    const back = performance.now()
    await until('capacity back', () => again.manager.capabilities().length === 1, 5_000)
    console.log(`      orchestrator back -> worker capacity back: ${(performance.now() - back).toFixed(0)} ms (backoff 100..400 ms)`)
    const gateway = await gatewayTo(again)
    const res = await gateway.runJob(again.node.peerId, { pipeline: 'llm', modelId: 'shoal/noop', params: { messages: [{ role: 'user', content: 'again' }], stream: true }, inputs: [] })
    expect((await readAll(res.body)).toString()).to.include('"content":"again"')
  })

  describe('a `shoal worker` process (needs `npx tsc -p tsconfig.json` first)', () => {
    let children: ShoalChild[] = []
    afterEach(async () => {
      for (const child of children) await child.kill()
      children = []
    })

    /** The child's event; on failure its log is printed, since the data dir is removed afterwards. */
    async function waitForEvent (child: ShoalChild, event: string): Promise<Record<string, unknown>> {
      try {
        return await child.waitForEvent(event, { timeoutMs: 20_000 })
      } catch (err) {
        console.error(await readFile(child.logFile, 'utf8').catch(() => '(no log)'))
        throw err
      }
    }

    async function spawnWorker (orchestrator: OrchestratorSide, dataDir: string, runnerUrl: string): Promise<ShoalChild> {
      await writeFile(join(dataDir, 'aiModels.json'), JSON.stringify([{ pipeline: 'llm', model_id: 'test/slow', capacity: 2, url: runnerUrl }]))
      const child = spawnShoal('worker', ['worker', '--data-dir', dataDir, '--orchestrator', orchestrator.address, '--listen', '/ip4/127.0.0.1/tcp/0', '--drain-timeout', '10000'], { logFile: join(dataDir, 'worker.log') })
      children.push(child)
      return child
    }

    it('prints registered, and fails jobs over at once with RUNNER_ERROR_UNREACHABLE when killed mid-job', async () => {
      const { dataDir, workerKeys, orchestrator } = await workerAllowed()
      const slow = await slowRunner()
      const child = await spawnWorker(orchestrator, dataDir, slow.url)
      const started = await waitForEvent(child, 'started')
      expect(started).to.include({ peerId: workerKeys.peerId.toString() })
      const registered = await waitForEvent(child, 'registered')
      expect(registered).to.include({ role: 'worker', peerId: workerKeys.peerId.toString(), orchestrator: orchestrator.node.peerId.toString() })
      expect(registered.runners).to.deep.equal([{ pipeline: 'llm', modelId: 'test/slow', capacity: 2, warm: true, runnerVersion: 'slow-1' }])
      await until('capacity', () => orchestrator.manager.capabilities().length === 1)

      // job A: from a gateway, held before its head; job B: straight on a lease, held mid-body
      const gateway = await gatewayTo(orchestrator)
      const jobA = gateway.runJob(orchestrator.node.peerId, llmJob({ hold: 'head' })).then(() => null, (e: Error) => e)
      await until('job A held by the runner', () => slow.held() === 1)
      const lease = await orchestrator.manager.acquire('llm', 'test/slow')
      cleanup.push(lease.release)
      const res = await lease.client.run(llmJob({ hold: 'body' }), { signal: AbortSignal.timeout(20_000) })
      const body = res.body[Symbol.asyncIterator]()
      expect(Buffer.from((await body.next()).value as Uint8Array).toString()).to.include('first')
      await until('both jobs held by the runner', () => slow.held() === 2)
      expect(orchestrator.manager.capabilities()[0]).to.include({ capacity: 2, inUse: 2 })

      let capacityGoneAt = 0
      orchestrator.manager.on('change', () => { if (capacityGoneAt === 0 && orchestrator.manager.capabilities().length === 0) capacityGoneAt = performance.now() })
      const killedAt = performance.now()
      await child.kill()
      const errB = await body.next().then(() => null, (e: Error) => e)
      const bFailedAt = performance.now()
      const errA = await jobA
      const aFailedAt = performance.now()
      expect(errB).to.include({ name: 'RunnerClientError', code: 'RUNNER_ERROR_UNREACHABLE' })
      // the orchestrator answers RUNNER_FAILURE: the gateway's dispatcher retries elsewhere
      expect(errA).to.include({ code: 'JOB_ERROR_RUNNER_FAILURE' })
      expect(capacityGoneAt).to.be.above(0)
      expect(orchestrator.manager.capabilities()).to.deep.equal([])
      expect(orchestrator.ended).to.deep.equal(['closed'])
      console.log(`      SIGKILL -> capacity withdrawn ${(capacityGoneAt - killedAt).toFixed(1)} ms, mid-body job failed ${(bFailedAt - killedAt).toFixed(1)} ms, gateway job failed ${(aFailedAt - killedAt).toFixed(1)} ms (kill() includes waiting for the exit)`)
    })

    it('withdraws its capacity on SIGTERM, lets the running job finish, then exits cleanly', async () => {
      const { dataDir, orchestrator } = await workerAllowed()
      const slow = await slowRunner()
      const child = await spawnWorker(orchestrator, dataDir, slow.url)
      await waitForEvent(child, 'registered')
      await until('capacity', () => orchestrator.manager.capabilities().length === 1)

      const lease = await orchestrator.manager.acquire('llm', 'test/slow')
      cleanup.push(lease.release)
      const res = await lease.client.run(llmJob({ hold: 'body' }), { signal: AbortSignal.timeout(20_000) })
      const reading = readAll(res.body)
      await until('job held', () => slow.held() === 1)
      child.process.kill('SIGTERM')
      await until('capacity withdrawn', () => orchestrator.manager.capabilities().length === 0, 5_000)
      expect(orchestrator.ended).to.deep.equal([])
      slow.release()
      const text = (await reading).toString()
      expect(text).to.include('first').and.include('[DONE]')
      expect(await child.exited).to.equal(0)
      await until('session closed', () => orchestrator.ended.length === 1)
      expect(orchestrator.ended).to.deep.equal(['closed'])
    })
  })
})
