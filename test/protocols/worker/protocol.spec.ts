import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { expect } from 'chai'
import * as pb from '../../../src/protocols/worker/pb/worker.js'
import { WORKER_WIRE_VERSION } from '../../../src/protocols/worker/constants.js'
import { Registry } from 'prom-client'
import {
  createWorkerClient,
  createWorkerJobClient,
  createWorkerJobServer,
  createWorkerMetrics,
  createWorkerServer,
  decodeWorkerMessage,
  encodeWorkerMessage,
  WORKER_JOB_PROTOCOL,
  WORKER_PEER_TAG,
  WORKER_PROTOCOL,
  type WorkerClient,
  type WorkerRefusedError,
  type WorkerRunner,
  type WorkerServer,
  type WorkerServerInit,
  type WorkerSession,
  type WorkerSessionEndReason
} from '../../../src/protocols/worker/index.js'
import { createNode, dialAddress, readAll, until } from './helpers.js'

const noop: WorkerRunner = { pipeline: 'llm', modelId: 'shoal/noop', capacity: 2, warm: true, runnerVersion: '0.1.0' }

interface Setup {
  orchestrator: Libp2p
  orchestratorKey: PrivateKey
  worker: Libp2p
  server: WorkerServer
  registry: Registry
  ended: Array<{ session: WorkerSession, reason: WorkerSessionEndReason }>
}

describe('protocols/worker: registration, heartbeats, reconnects', function () {
  this.timeout(20_000)
  const cleanup: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step()
  })

  async function setup (init: Partial<WorkerServerInit> & { allow?: 'worker' | 'nobody' } = {}): Promise<Setup> {
    const orchestratorKey = await generateKeyPair('Ed25519')
    const [orchestrator, worker] = await Promise.all([createNode({ privateKey: orchestratorKey }), createNode()])
    cleanup.push(async () => { await worker.stop() }, async () => { await orchestrator.stop() })
    const registry = new Registry()
    const server = createWorkerServer({
      registrar: orchestrator,
      allowList: init.allow === 'nobody' ? [orchestrator.peerId.toString()] : [worker.peerId.toString()],
      metrics: createWorkerMetrics(registry),
      ...init
    })
    const ended: Setup['ended'] = []
    server.on('ended', (session, reason) => { ended.push({ session, reason }) })
    await server.start()
    cleanup.push(async () => { await server.stop() })
    return { orchestrator, orchestratorKey, worker, server, registry, ended }
  }

  function client (worker: Libp2p, orchestrator: string, runners: () => WorkerRunner[], extra: Partial<Parameters<typeof createWorkerClient>[0]> = {}): WorkerClient {
    const c = createWorkerClient({
      orchestrator,
      runners,
      dialProtocol: worker.dialProtocol.bind(worker),
      hangUp: worker.hangUp.bind(worker),
      backoff: { initialMs: 100, maxMs: 400, factor: 2, jitter: 0 },
      ...extra
    })
    cleanup.push(async () => { await c.stop() })
    return c
  }

  async function metric (registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
    const found = (await registry.getMetricsAsJSON()).find(m => m.name === name)
    const value = (found?.values as Array<{ labels: Record<string, string>, value: number }> | undefined)
      ?.find(v => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    return value?.value ?? 0
  }

  it('registers an allowed worker with its runners', async () => {
    const { orchestrator, worker, server, registry } = await setup()
    const registered: WorkerSession[] = []
    server.on('registered', s => registered.push(s))
    const c = client(worker, dialAddress(orchestrator), () => [noop])
    await c.start()
    const registration = await c.waitRegistered({ signal: AbortSignal.timeout(5_000) })
    expect(registration).to.include({ orchestrator: orchestrator.peerId.toString(), attempts: 1 })
    await until('server session', () => registered.length === 1)
    expect(registered[0].peerId.equals(worker.peerId)).to.equal(true)
    expect(registered[0].runners).to.deep.equal([noop])
    expect(server.session(worker.peerId.toString())).to.equal(registered[0])
    expect(await metric(registry, 'shoal_worker_registrations_total', { result: 'accepted' })).to.equal(1)
    expect(await metric(registry, 'shoal_worker_sessions')).to.equal(1)
    // tagged so that the connection manager prunes it last; untagged once it is gone
    expect((await orchestrator.peerStore.get(worker.peerId)).tags.has(WORKER_PEER_TAG)).to.equal(true)
    await c.stop()
    await until('session gone', () => server.sessions().length === 0)
    await new Promise(resolve => setTimeout(resolve, 50))
    expect((await orchestrator.peerStore.get(worker.peerId)).tags.has(WORKER_PEER_TAG)).to.equal(false)
  })

  it('refuses a peer that is not in the allow-list, and the worker keeps retrying with backoff', async () => {
    const { orchestrator, worker, server, registry } = await setup({ allow: 'nobody' })
    const refusals: Array<{ err: WorkerRefusedError, retryInMs: number }> = []
    const c = client(worker, dialAddress(orchestrator), () => [noop])
    c.on('refused', (err, retryInMs) => refusals.push({ err, retryInMs }))
    await c.start()
    await until('two refusals', () => refusals.length >= 2)
    expect(refusals[0].err).to.include({ name: 'WorkerRefusedError', code: 'WORKER_ERROR_NOT_ALLOWED', refusal: 'NOT_ALLOWED' })
    expect(refusals.map(r => r.retryInMs).slice(0, 2)).to.deep.equal([100, 200])
    expect(c.registered).to.equal(false)
    expect(server.sessions()).to.have.length(0)
    expect(await metric(registry, 'shoal_worker_registrations_total', { result: 'not_allowed' })).to.be.at.least(2)
  })

  it('refuses an allow-list entry that is not a peer id at construction', async () => {
    const node = await createNode()
    cleanup.push(async () => { await node.stop() })
    expect(() => createWorkerServer({ registrar: node, allowList: ['not-a-peer-id'] }))
      .to.throw().with.property('code', 'WORKER_CONFIG_ERROR_ALLOW_LIST')
  })

  it('passes capacity updates on, and a withdrawal as an empty runner list', async () => {
    const { orchestrator, worker, server } = await setup()
    let runners = [noop]
    const c = client(worker, dialAddress(orchestrator), () => runners)
    await c.start()
    await c.waitRegistered({ signal: AbortSignal.timeout(5_000) })
    const updates: Array<readonly WorkerRunner[]> = []
    server.on('updated', s => updates.push(s.runners))
    runners = [{ ...noop, capacity: 5, warm: false }, { ...noop, pipeline: 'upscale', modelId: 'upscalerjs/esrgan-slim-x2', runnerVersion: null }]
    c.update()
    c.update()
    await until('update', () => updates.length === 1)
    expect(updates[0]).to.deep.equal(runners)
    // pipelines this orchestrator does not know are left out, the rest kept
    runners = [noop, { ...noop, pipeline: 'future-pipeline' }]
    c.update()
    await until('second update', () => updates.length === 2)
    expect(updates[1]).to.deep.equal([noop])
    await c.withdraw({ signal: AbortSignal.timeout(2_000) })
    await until('withdrawal', () => updates.length === 3)
    expect(updates[2]).to.deep.equal([])
  })

  it('answers heartbeats, and drops a worker that goes silent past the heartbeat timeout', async () => {
    const { orchestrator, worker, server, ended, registry } = await setup({ heartbeatIntervalMs: 100, heartbeatTimeoutMs: 600 })
    // a live client: pings every 100 ms, stays registered well past the timeout
    const c = client(worker, dialAddress(orchestrator), () => [noop])
    await c.start()
    await c.waitRegistered({ signal: AbortSignal.timeout(5_000) })
    await new Promise(resolve => setTimeout(resolve, 1_200))
    expect(ended).to.have.length(0)
    await c.stop()
    await until('graceful end', () => ended.length === 1)
    expect(ended[0].reason).to.equal('closed')

    // a silent one: registers by hand, then never pings
    const stream = await worker.dialProtocol(multiaddr(dialAddress(orchestrator)), WORKER_PROTOCOL)
    const lp = lpStream(stream)
    await lp.write(encodeWorkerMessage({ type: 'register', version: WORKER_WIRE_VERSION, runners: [noop] }))
    expect(decodeWorkerMessage((await lp.read()).subarray())).to.include({ type: 'registered', heartbeatIntervalMs: 100, heartbeatTimeoutMs: 600 })
    const registeredAt = Date.now()
    await until('heartbeat timeout', () => ended.length === 2, 4_000)
    const waited = Date.now() - registeredAt
    expect(ended[1].reason).to.equal('heartbeat_timeout')
    expect(waited).to.be.within(550, 2_500)
    // the silent connection is dropped too, so its job streams fail at once
    await until('connection closed', () => worker.getConnections(orchestrator.peerId).length === 0, 2_000)
    expect(server.sessions()).to.have.length(0)
    expect(await metric(registry, 'shoal_worker_session_ends_total', { reason: 'heartbeat_timeout' })).to.equal(1)
  })

  it('hangs up and redials when the orchestrator stops answering heartbeats', async () => {
    const [orchestrator, worker] = await Promise.all([createNode(), createNode()])
    cleanup.push(async () => { await worker.stop() }, async () => { await orchestrator.stop() })
    // an orchestrator that accepts, then never answers a ping
    let opened = 0
    await orchestrator.handle(WORKER_PROTOCOL, (stream) => {
      opened++
      const lp = lpStream(stream)
      void (async () => {
        await lp.read()
        await lp.write(encodeWorkerMessage({ type: 'registered', version: WORKER_WIRE_VERSION, heartbeatIntervalMs: 100, heartbeatTimeoutMs: 400 }))
      })().catch(() => {})
    })
    const c = client(worker, dialAddress(orchestrator), () => [noop])
    const disconnects: Error[] = []
    c.on('disconnected', err => disconnects.push(err))
    await c.start()
    await c.waitRegistered({ signal: AbortSignal.timeout(5_000) })
    const registeredAt = Date.now()
    const firstConnection = worker.getConnections(orchestrator.peerId)[0].id
    await until('heartbeat timeout on the worker', () => disconnects.length === 1, 3_000)
    expect(Date.now() - registeredAt).to.be.within(350, 2_000)
    expect(disconnects[0]).to.include({ code: 'WORKER_PROTOCOL_ERROR_TIMEOUT' })
    // it hung up the silent connection and registers again on a fresh one
    await until('redial', () => opened >= 2 && c.registered, 3_000)
    expect(worker.getConnections(orchestrator.peerId).map(conn => conn.id)).to.not.include(firstConnection)
  })

  it('ends the session of a worker that breaks the control protocol', async () => {
    const { orchestrator, worker, ended } = await setup()
    const stream = await worker.dialProtocol(multiaddr(dialAddress(orchestrator)), WORKER_PROTOCOL)
    const lp = lpStream(stream)
    await lp.write(encodeWorkerMessage({ type: 'register', version: WORKER_WIRE_VERSION, runners: [noop] }))
    await lp.read()
    await lp.write(encodeWorkerMessage({ type: 'register', version: WORKER_WIRE_VERSION, runners: [] }))
    await until('protocol error', () => ended.length === 1)
    expect(ended[0].reason).to.equal('protocol_error')
    expect((ended[0].session.signal.reason as Error)).to.include({ code: 'WORKER_PROTOCOL_ERROR_UNEXPECTED_MESSAGE' })
  })

  it('refuses an unknown wire version, and an invalid registration with the reason', async () => {
    const { orchestrator, worker, server } = await setup()
    const stream = await worker.dialProtocol(multiaddr(dialAddress(orchestrator)), WORKER_PROTOCOL)
    const lp = lpStream(stream)
    await lp.write(encodeWorkerMessage({ type: 'register', version: WORKER_WIRE_VERSION + 1, runners: [noop] }))
    expect(decodeWorkerMessage((await lp.read()).subarray())).to.include({ type: 'refused', code: 'VERSION' })

    const again = lpStream(await worker.dialProtocol(multiaddr(dialAddress(orchestrator)), WORKER_PROTOCOL))
    await again.write(pb.WorkerMessage.encode({ register: { version: WORKER_WIRE_VERSION, runners: [{ ...noop, runnerVersion: undefined }, { ...noop, runnerVersion: undefined }] } }))
    const refusal = decodeWorkerMessage((await again.read()).subarray())
    expect(refusal).to.include({ type: 'refused', code: 'INVALID' })
    expect((refusal as { message: string }).message).to.include('twice')
    expect(server.sessions()).to.have.length(0)
  })

  it('reconnects with capped exponential backoff after the orchestrator restarts', async () => {
    const first = await setup()
    const address = dialAddress(first.orchestrator)
    const port = /\/tcp\/(\d+)/.exec(address)?.[1]
    const c = client(first.worker, address, () => [noop])
    const retries: number[] = []
    const disconnects: Error[] = []
    c.on('failed', (_err, retryInMs) => retries.push(retryInMs))
    c.on('disconnected', err => disconnects.push(err))
    await c.start()
    await c.waitRegistered({ signal: AbortSignal.timeout(5_000) })

    // the orchestrator goes down: the worker notices at once and retries 100, 200, 400, 400 ms apart
    await first.server.stop()
    await first.orchestrator.stop()
    await until('disconnect', () => disconnects.length === 1, 2_000)
    expect(c.registered).to.equal(false)
    await until('four failed attempts', () => retries.length >= 4, 5_000)
    expect(retries.slice(0, 4)).to.deep.equal([100, 200, 400, 400])

    // it comes back with the same identity on the same port
    const again = await createNode({ privateKey: first.orchestratorKey, listen: `/ip4/127.0.0.1/tcp/${port ?? '0'}` })
    cleanup.push(async () => { await again.stop() })
    const server = createWorkerServer({ registrar: again, allowList: [first.worker.peerId.toString()] })
    const registered: WorkerSession[] = []
    server.on('registered', s => registered.push(s))
    await server.start()
    cleanup.push(async () => { await server.stop() })
    const back = Date.now()
    const registration = await new Promise<{ attempts: number }>(resolve => c.once('registered', resolve))
    expect(Date.now() - back).to.be.below(1_500)
    expect(registration.attempts).to.be.above(1)
    expect(registered).to.have.length(1)
    expect(registered[0].runners).to.deep.equal([noop])
  })

  it('serves worker-job streams to the orchestrator only, over the connection the worker dialled', async () => {
    const { orchestrator, worker, server } = await setup()
    const jobs = createWorkerJobServer({
      registrar: worker,
      orchestrator: orchestrator.peerId,
      executor: {
        execute: async (job) => ({
          status: 200,
          contentType: 'text/plain',
          body: (async function * () { yield new TextEncoder().encode('echo '); yield new TextEncoder().encode(String(job.params.prompt)) })()
        })
      }
    })
    await jobs.start()
    cleanup.push(async () => { await jobs.stop() })
    // the worker does not even listen for the orchestrator: it dials out
    const c = client(worker, dialAddress(orchestrator), () => [noop])
    await c.start()
    await c.waitRegistered({ signal: AbortSignal.timeout(5_000) })
    await until('session', () => server.session(worker.peerId.toString()) !== undefined)

    const jobClient = createWorkerJobClient({ session: peer => server.session(peer) })
    cleanup.push(async () => { await jobClient.stop() })
    const res = await jobClient.runJob(worker.peerId, { pipeline: 'llm', modelId: 'shoal/noop', params: { prompt: 'hi' }, inputs: [] })
    expect(res.status).to.equal(200)
    expect((await readAll(res.body)).toString()).to.equal('echo hi')

    // any other peer that reaches the worker gets its stream reset
    const stranger = await createNode()
    cleanup.push(async () => { await stranger.stop() })
    const stream = await stranger.dialProtocol(worker.getMultiaddrs()[0], WORKER_JOB_PROTOCOL)
    await until('reset', () => stream.status !== 'open', 2_000)
    expect(stream.status).to.be.oneOf(['reset', 'aborted', 'closed'])
  })
})
