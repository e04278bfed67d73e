import { expect } from 'chai'
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Dockerode from 'dockerode'
import { Contract } from 'ethers'
import sharp from 'sharp'
import { demuxLogs } from '../../src/inference/managers/docker-engine.js'
import { TICKET_BROKER_ABI } from '../../src/payments/chain/index.js'
import { startTestnetChain, type TestnetChain } from '../../src/testnet/local-chain.js'
import { startProcessMesh, type ProcessMesh } from '../../src/testnet/process-mesh.js'
import { pngOf, waitFor } from './helpers.js'
import { post } from '../helpers/custom-http.js'

/**
 * A custom capability in a container built here from docker/custom-example (no registry),
 * run by two paid orchestrators through a real Docker Engine (DOCKER_HOST;
 * `eval "$(scripts/ci/start-dockerd.sh)"` starts one), called through the gateway, billed
 * by compute time with tickets that settle on the local chain. Skipped, saying why, when
 * no engine answers.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const IMAGE = 'shoal/custom-example:test'
const NAME = 'thumbnail'
/** face value = 150k redemption gas x 1 gwei x 100; every ticket wins (EV = face value) */
const FACE_VALUE = 150_000n * 1_000_000_000n * 100n
const PRICE_PER_SECOND = FACE_VALUE / 10n

async function buildImage (): Promise<string> {
  return await new Promise((resolve, reject) => {
    execFile('bash', [`${ROOT}docker/custom-example/build.sh`, IMAGE], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }, (err, _stdout, stderr) => {
      if (err !== null) reject(new Error(`docker/custom-example/build.sh failed: ${stderr.trim().split('\n').slice(-5).join('\n')}`))
      else resolve(stderr)
    })
  })
}

async function scrape (url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text()
  return text.split('\n').filter(l => l.startsWith(`${name} `) || l.startsWith(`${name}{`)).reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0)
}

describe('e2e: a custom capability in a Docker container, paid by compute time', function () {
  this.timeout(90_000)
  const docker = new Dockerode()
  let chain: TestnetChain
  let mesh: ProcessMesh
  let url: string

  before(async function () {
    this.timeout(600_000)
    try {
      await docker.ping()
    } catch (err) {
      console.log(`      skipped: no Docker Engine answers at ${process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock'} (${(err as Error).message}); start one with: eval "$(scripts/ci/start-dockerd.sh)"`)
      this.skip()
    }
    const began = Date.now()
    await buildImage()
    console.log(`      image ${IMAGE} ready in ${Date.now() - began} ms`)
    chain = await startTestnetChain({ blockTimeSec: 1 })
    const dataDir = await mkdtemp(join(tmpdir(), 'shoal-custom-docker-'))
    const file = join(dataDir, 'capabilities.json')
    await writeFile(file, JSON.stringify([{
      name: NAME,
      description: 'image thumbnails with sharp',
      image: IMAGE,
      capacity: 2,
      price_per_second: PRICE_PER_SECOND.toString(),
      timeout_seconds: 30
    }]))
    mesh = await startProcessMesh({
      dataDir,
      orchestrators: 2,
      models: () => [],
      gatewayPort: 0,
      payments: { chain, depositWei: 10n ** 19n, reserveWei: 10n ** 19n },
      extraArgs: {
        gateway: ['--max-ticket-ev', FACE_VALUE.toString()],
        orchestrator: () => ['--custom-capabilities', file, '--ticket-ev', FACE_VALUE.toString(), '--gas-price', '1000000000', '--metrics-port', '0']
      }
    })
    url = mesh.gateway.url
  })
  after(async function () {
    this.timeout(60_000)
    await mesh?.stop()
    await chain?.stop()
  })

  it('makes a real thumbnail in the container', async () => {
    const image = await pngOf(64, 48)
    const res = await post(`${url}/capability/${NAME}/thumbnail?width=16`, image, { 'content-type': 'image/png' })
    expect(res.status, res.body.toString()).to.equal(200)
    expect(res.headers['content-type']).to.equal('image/png')
    const meta = await sharp(res.body).metadata()
    expect([meta.width, meta.height]).to.deep.equal([16, 12])
  })

  it('charges the compute time it measured, and the tickets settle on-chain', async () => {
    let charged = 0n
    for (let i = 0; i < 4; i++) {
      const res = await post(`${url}/capability/${NAME}/sleep?ms=400`, '', { 'x-shoal-timeout': '5' })
      expect(res.status, res.body.toString()).to.equal(200)
      const ms = Number(res.headers['x-shoal-compute-ms'])
      expect(ms).to.be.at.least(400).and.below(5_000)
      // price per second over 1000 ms, rounded up
      const wei = BigInt(String(res.headers['x-shoal-charged-wei']))
      expect(wei).to.equal((BigInt(ms) * PRICE_PER_SECOND + 999n) / 1000n)
      charged += wei
    }
    const metrics = mesh.orchestrators.map(o => o.metricsUrl!)
    const debited = (await Promise.all(metrics.map(async m => await scrape(m, 'shoal_payments_debited_wei_total')))).reduce((a, b) => a + b, 0)
    // the thumbnail of the test before is charged too
    expect(BigInt(debited) >= charged, `debited ${debited} >= charged ${charged}`).to.equal(true)
    expect(BigInt(debited) - charged < PRICE_PER_SECOND * 5n, 'only the thumbnail is charged besides').to.equal(true)
    const winners = (await Promise.all(metrics.map(async m => await scrape(m, 'shoal_payments_winning_tickets_total')))).reduce((a, b) => a + b, 0)
    expect(winners).to.be.at.least(1)
    const broker = new Contract(chain.brokerAddress, TICKET_BROKER_ABI, chain.provider)
    const recipients = new Set(mesh.orchestrators.map(o => o.ethAddress.toLowerCase()))
    const redeemed = await waitFor(async () => {
      const events = (await broker.queryFilter(broker.filters.WinningTicketRedeemed(), 0, 'latest'))
        .map(e => (e as unknown as { args: { recipient: string, faceValue: bigint } }).args)
        .filter(a => recipients.has(a.recipient.toLowerCase()))
      return events.length >= winners ? events : undefined
    }, 60_000, `${winners} redemptions on-chain`)
    const earned = redeemed.reduce((sum, e) => sum + e.faceValue, 0n)
    expect(earned).to.equal(FACE_VALUE * BigInt(winners))
    expect(earned >= BigInt(debited), `earned ${earned} >= debited ${debited}`).to.equal(true)
    console.log(`      ${charged} wei charged for 4 x 400 ms; ${winners} winning tickets redeemed, ${earned} wei on-chain`)
  })

  it('fails over to the other orchestrator when the container dies mid-request', async () => {
    const id = randomUUID()
    const answer = post(`${url}/capability/${NAME}/sleep?ms=4000&id=${id}`, '', { 'x-shoal-timeout': '20' })
    const holder = await waitFor(async () => {
      const containers = await docker.listContainers({ filters: { label: ['shoal.pipeline=custom'] } })
      for (const c of containers) {
        const logs = await docker.getContainer(c.Id).logs({ stdout: true, stderr: true, follow: false })
        if (demuxLogs(Buffer.isBuffer(logs) ? logs : Buffer.from(String(logs))).includes(`sleep ${id}`)) return c
      }
      return undefined
    }, 10_000, 'the container holding the request')
    await docker.getContainer(holder.Id).kill()
    const res = await answer
    expect(res.status, res.body.toString()).to.equal(200)
    expect(Number(res.headers['x-shoal-attempts'])).to.be.at.least(2)
    const tried = String(res.headers['x-shoal-tried']).split(', ').map(t => t.split(';'))
    expect(tried[0][1]).to.equal('failure')
    expect(res.headers['x-shoal-orchestrator']).to.not.equal(tried[0][0])
    // the dead container is replaced
    await waitFor(async () => (await docker.listContainers({ filters: { label: ['shoal.pipeline=custom'] } })).length === 2 ? true : undefined, 30_000, 'the container to be recreated')
  })
})
