import { expect } from 'chai'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import Dockerode from 'dockerode'
import sharp from 'sharp'
import { createDockerRunnerManager, type DockerRunnerManagerOptions } from '../../../src/inference/managers/docker.js'
import type { RunnerManager } from '../../../src/inference/managers/index.js'
import type { InferenceJob } from '../../../src/kernel/job.js'
import { createRunnerClient } from '../../../src/inference/runner-client/index.js'
import { dataUrlBytes, entry, makePng, until } from '../fixtures.js'

/**
 * Against a real Docker Engine (DOCKER_HOST; `eval "$(scripts/ci/start-dockerd.sh)"`
 * starts one) and a CPU runner image built from this checkout by
 * docker/build-cpu-runner-image.sh (needs `dist/`: npm run build). Skipped, saying
 * why, when no engine answers.
 */
const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const IMAGE = process.env.SHOAL_CPU_RUNNER_IMAGE ?? 'shoal/cpu-runner:test'
const ESRGAN = 'upscalerjs/esrgan-slim-x2'

async function buildImage (): Promise<string> {
  return await new Promise((resolve, reject) => {
    execFile('bash', [`${ROOT}docker/build-cpu-runner-image.sh`, IMAGE], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`docker/build-cpu-runner-image.sh failed: ${stderr.trim().split('\n').slice(-5).join('\n')}`))
      else resolve(stderr)
    })
  })
}

async function json (res: { body: AsyncIterable<Uint8Array> }): Promise<any> {
  const parts: Buffer[] = []
  for await (const chunk of res.body) parts.push(Buffer.from(chunk))
  return JSON.parse(Buffer.concat(parts).toString('utf8'))
}

describe('inference/managers/docker: runner containers on a real Docker Engine', function () {
  this.timeout(60_000)
  const docker = new Dockerode()
  const managers: RunnerManager[] = []
  const measured: string[] = []
  let png: Buffer
  let seq = 0
  let owner = ''

  before(async function () {
    this.timeout(300_000)
    try {
      await docker.ping()
    } catch (err) {
      console.log(`      skipped: no Docker Engine answers at ${process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock'} (${(err as Error).message}); ` +
        'start one with: eval "$(scripts/ci/start-dockerd.sh)"')
      this.skip()
    }
    const began = Date.now()
    const log = await buildImage()
    measured.push(`image ${IMAGE}: ${/up to date/.test(log) ? 'up to date' : 'built'} in ${Date.now() - began} ms`)
    png = await makePng(48, 32)
  })

  beforeEach(() => { owner = `shoal-test-${process.pid}-${++seq}` })

  afterEach(async () => {
    for (const m of managers.splice(0)) await m.stop()
    // nothing of this test may outlive it, whatever failed
    const left = await docker.listContainers({ all: true, filters: { label: [`shoal.managed=${owner}`] } })
    await Promise.all(left.map(async (c) => { await docker.getContainer(c.Id).remove({ force: true }) }))
    expect(left.map((c) => c.Names[0])).to.deep.equal([])
  })

  after(() => { for (const line of measured) console.log(`      measured: ${line}`) })

  function make (options: Partial<DockerRunnerManagerOptions> & Pick<DockerRunnerManagerOptions, 'entries'>): RunnerManager {
    const manager = createDockerRunnerManager({
      docker,
      owner,
      images: { upscale: IMAGE, 'image-to-image': IMAGE, 'text-to-image': IMAGE },
      pull: false,
      startupTimeoutMs: 30_000,
      startupPollMs: 100,
      healthIntervalMs: 250,
      healthTimeoutMs: 1_000,
      restartDelayMs: 100,
      stopTimeoutMs: 3_000,
      ...options
    })
    managers.push(manager)
    return manager
  }

  async function owned (): Promise<Dockerode.ContainerInfo[]> {
    return await docker.listContainers({ all: true, filters: { label: [`shoal.managed=${owner}`] } })
  }

  const upscaleJob = (modelId: string): InferenceJob => ({ pipeline: 'upscale', modelId, params: { prompt: 'p' }, inputs: [{ field: 'image', filename: 'a.png', contentType: 'image/png', data: png }] })

  it('starts warm entries at start(): one labelled container on 127.0.0.1, token-protected, running a real upscale', async () => {
    const manager = make({
      entries: [
        entry({ pipeline: 'upscale', modelId: ESRGAN, warm: true, optimizationFlags: { SHOAL_TEST_FLAG: 'on' } }),
        entry({ pipeline: 'image-to-image', modelId: 'shoal/noop' })
      ],
      namePrefix: 'shoaltest',
      containersPerGpu: 2 // two CPU slots: the cold entry can start beside the warm one
    })
    const began = Date.now()
    await manager.start()
    measured.push(`warm start of ${ESRGAN} (create, start, model loaded, /health OK): ${Date.now() - began} ms`)

    const list = await owned()
    expect(list).to.have.length(1)
    const info = await docker.getContainer(list[0].Id).inspect()
    expect(info.State.Running).to.equal(true)
    expect(info.Name).to.match(/^\/shoaltest-upscale_upscalerjs-esrgan-slim-x2_\d+$/)
    const hostPort = info.Name.split('_').at(-1) as string
    expect(info.HostConfig.PortBindings).to.deep.equal({ '8000/tcp': [{ HostIp: '127.0.0.1', HostPort: hostPort }] })
    expect(info.HostConfig.Init).to.equal(true)
    expect(info.Config.Labels).to.include({ 'shoal.managed': owner, 'shoal.pipeline': 'upscale', 'shoal.model-id': ESRGAN, 'shoal.slot': '0' })
    expect(info.Config.Env).to.include.members(['PIPELINE=upscale', `MODEL_ID=${ESRGAN}`, 'SHOAL_TEST_FLAG=on'])
    const token = info.Config.Env.find((e) => e.startsWith('AUTH_TOKEN='))?.slice('AUTH_TOKEN='.length) ?? ''
    expect(token).to.have.length.greaterThan(20)

    const caps = manager.capabilities()
    expect(caps).to.have.length(2)
    expect(caps[0]).to.include({ pipeline: 'upscale', modelId: ESRGAN, warm: true, capacity: 1, inUse: 0 })
    expect(caps[0].runnerVersion).to.be.a('string')
    expect(caps[1]).to.include({ pipeline: 'image-to-image', modelId: 'shoal/noop', warm: false, inUse: 0 })

    const lease = await manager.acquire('upscale', ESRGAN)
    try {
      expect(lease.client.url).to.equal(`http://127.0.0.1:${hostPort}`)
      const res = await lease.client.run(upscaleJob(ESRGAN))
      expect(res.status).to.equal(200)
      const meta = await sharp(dataUrlBytes((await json(res)).images[0].url)).metadata()
      expect([meta.width, meta.height]).to.deep.equal([96, 64])
    } finally {
      lease.release()
    }
    // the container takes jobs only with its token
    const stranger = createRunnerClient({ url: `http://127.0.0.1:${hostPort}` })
    const refused = await stranger.run(upscaleJob(ESRGAN))
    expect(refused.status).to.equal(401)
    await json(refused)
    stranger.close()

    const stopBegan = Date.now()
    await manager.stop()
    measured.push(`stop (docker stop + rm of 1 container): ${Date.now() - stopBegan} ms`)
    expect(await owned()).to.deep.equal([])
    expect(manager.capabilities()).to.deep.equal([])
  })

  it('starts cold entries on demand, evicts an idle cold container when no slot is free, else refuses with insufficient capacity', async () => {
    const manager = make({
      entries: [entry({ pipeline: 'upscale', modelId: 'shoal/noop' }), entry({ pipeline: 'image-to-image', modelId: 'shoal/noop' })],
      containersPerGpu: 1
    })
    await manager.start()
    let changes = 0
    manager.on('change', () => { changes++ })
    expect(await owned()).to.deep.equal([])
    expect(manager.capabilities().map((c) => [c.pipeline, c.warm])).to.deep.equal([['upscale', false], ['image-to-image', false]])

    const began = Date.now()
    const lease = await manager.acquire('upscale', 'shoal/noop')
    measured.push(`cold start on acquire (shoal/noop): ${Date.now() - began} ms`)
    const first = await owned()
    expect(first.map((c) => c.Labels['shoal.pipeline'])).to.deep.equal(['upscale'])
    // the only slot is busy and nothing can be evicted: the other model is not offered, and refused
    expect(manager.capabilities()).to.have.length(1)
    expect(manager.capabilities()[0]).to.include({ pipeline: 'upscale', warm: true, inUse: 1 })
    const refused = await manager.acquire('image-to-image', 'shoal/noop').then(() => null, (e) => e)
    expect(refused).to.have.property('name', 'InsufficientCapacityError')
    expect(refused).to.have.property('code', 'RUNNER_ERROR_INSUFFICIENT_CAPACITY')
    const res = await lease.client.run(upscaleJob('shoal/noop'))
    expect(res.status).to.equal(200)
    await json(res)
    lease.release()
    // idle and cold: evictable, so the other model is offered again (cold)
    expect(manager.capabilities().map((c) => [c.pipeline, c.warm, c.inUse])).to.deep.equal([['upscale', true, 0], ['image-to-image', false, 0]])
    expect(changes).to.be.at.least(4)

    const evictBegan = Date.now()
    const other = await manager.acquire('image-to-image', 'shoal/noop')
    measured.push(`evict + cold start (shoal/noop): ${Date.now() - evictBegan} ms`)
    const second = await owned()
    expect(second.map((c) => c.Labels['shoal.pipeline'])).to.deep.equal(['image-to-image'])
    expect(second[0].Id).to.not.equal(first[0].Id)
    expect(manager.capabilities()).to.have.length(1)
    expect(manager.capabilities()[0]).to.include({ pipeline: 'image-to-image', warm: true, inUse: 1 })
    other.release()
    await manager.stop()
    expect(await owned()).to.deep.equal([])
  })

  it('replaces a warm container killed from outside (docker kill), announcing the gap', async () => {
    const manager = make({ entries: [entry({ pipeline: 'upscale', modelId: 'shoal/noop', warm: true })] })
    await manager.start()
    const [before] = await owned()
    const seen: boolean[] = []
    manager.on('change', () => { seen.push(manager.capabilities().some((c) => c.warm)) })
    const killedAt = Date.now()
    await docker.getContainer(before.Id).kill()
    await until('a new warm container', async () => {
      const now = await owned()
      return manager.capabilities().some((c) => c.warm) && now.length === 1 && now[0].Id !== before.Id
    }, 20_000)
    measured.push(`warm container replaced after docker kill: ${Date.now() - killedAt} ms`)
    expect(seen[0]).to.equal(false) // out of the announcement at once
    expect(seen.at(-1)).to.equal(true)
    const lease = await manager.acquire('upscale', 'shoal/noop')
    const res = await lease.client.run(upscaleJob('shoal/noop'))
    expect(res.status).to.equal(200)
    await json(res)
    lease.release()
  })

  it('removes a container that stops answering (docker pause) after two failed checks, and recreates it', async () => {
    const manager = make({ entries: [entry({ pipeline: 'upscale', modelId: 'shoal/noop', warm: true })], healthTimeoutMs: 300 })
    await manager.start()
    const [before] = await owned()
    await docker.getContainer(before.Id).pause()
    await until('the hung container replaced', async () => {
      const now = await owned()
      return manager.capabilities().some((c) => c.warm) && now.length === 1 && now[0].Id !== before.Id
    }, 20_000)
    const gone = await docker.getContainer(before.Id).inspect().then(() => false, (e) => e.statusCode === 404)
    expect(gone).to.equal(true)
  })

  it('stop() during a cold start cancels it and removes the container being started', async () => {
    const manager = make({ entries: [entry({ pipeline: 'upscale', modelId: ESRGAN })] })
    await manager.start()
    const pending = manager.acquire('upscale', ESRGAN).then(() => null, (e) => e)
    await until('the container created', async () => (await owned()).length === 1, 10_000)
    await manager.stop()
    const err = await pending
    expect(err).to.have.property('code', 'RUNNER_ERROR_START_FAILED')
    expect(err.message).to.include('cancelled')
    expect(await owned()).to.deep.equal([])
  })

  it('removes its leftovers at start, and leaves containers of other owners alone', async () => {
    const create = async (who: string): Promise<Dockerode.Container> => {
      const c = await docker.createContainer({
        Image: IMAGE,
        Env: ['PIPELINE=upscale', 'MODEL_ID=shoal/noop'],
        Labels: { 'shoal.managed': who },
        HostConfig: { Init: true }
      })
      await c.start()
      return c
    }
    const leftover = await create(owner)
    const foreign = await create(`${owner}-other`)
    try {
      const manager = make({ entries: [entry({ pipeline: 'upscale', modelId: 'shoal/noop' })] })
      await manager.start()
      expect(await docker.getContainer(leftover.id).inspect().then(() => 'there', (e) => e.statusCode)).to.equal(404)
      expect((await foreign.inspect()).State.Running).to.equal(true)
    } finally {
      await foreign.remove({ force: true })
    }
  })

  it('fails a cold start with the runner\'s own words when the container exits, leaving nothing behind', async () => {
    const manager = make({ entries: [entry({ pipeline: 'upscale', modelId: 'nobody/no-such-model' })] })
    await manager.start()
    const err = await manager.acquire('upscale', 'nobody/no-such-model').then(() => null, (e) => e)
    expect(err).to.have.property('name', 'RunnerStartError')
    expect(err).to.have.property('code', 'RUNNER_ERROR_START_FAILED')
    expect(err.message).to.match(/exited \(code \d+\)/).and.include('cannot run model')
    expect(await owned()).to.deep.equal([])
    // the slot is free again and the model still offered (cold)
    expect(manager.capabilities()).to.have.length(1)
  })

  it('serves nothing from an image the engine lacks and cannot pull: cold entries unannounced, warm ones fail start', async () => {
    const missing = `shoal/no-such-image:${owner}`
    const cold = make({ entries: [entry({ pipeline: 'upscale', modelId: 'shoal/noop' })], images: { upscale: missing }, pull: true })
    await cold.start()
    expect(cold.capabilities()).to.deep.equal([])
    const err = await cold.acquire('upscale', 'shoal/noop').then(() => null, (e) => e)
    expect(err).to.have.property('code', 'RUNNER_ERROR_UNAVAILABLE')
    const warm = make({ entries: [entry({ pipeline: 'upscale', modelId: 'shoal/noop', warm: true })], images: { upscale: missing } })
    const startErr = await warm.start().then(() => null, (e) => e)
    expect(startErr).to.have.property('code', 'RUNNER_ERROR_START_FAILED')
    expect(startErr.message).to.include(missing)
  })

  it('asks the engine for the slot\'s GPU; without an NVIDIA runtime the start fails cleanly', async function () {
    const info = await docker.info()
    if (info.Runtimes?.nvidia !== undefined) this.skip() // a GPU host: the request would succeed
    const manager = make({ entries: [entry({ pipeline: 'upscale', modelId: 'shoal/noop', warm: true })], gpus: ['0'] })
    const err = await manager.start().then(() => null, (e) => e)
    expect(err).to.have.property('code', 'RUNNER_ERROR_START_FAILED')
    expect(err.message).to.match(/could not be started.*(gpu|device driver)/i)
    measured.push(`GPU request on this engine: ${err.message.replace(/^.*could not be started /, '')}`)
    expect(await owned()).to.deep.equal([])
  })
})
