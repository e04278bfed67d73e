/**
 * Issue 16, item 3: docker/compose.local.yaml starts a paid mesh (chain, setup,
 * bootstrap + relay, two orchestrators, gateway) from an image built from this checkout
 * with no registry (docker/build-cpu-runner-image.sh), and a paid job goes through it.
 * Needs a Docker Engine (DOCKER_HOST; `eval "$(scripts/ci/start-dockerd.sh)"`), Debian's
 * docker-compose or the compose plugin, and dist/ (npm run build); skipped, saying why,
 * without them. Talks only to the gateway's port published on the host's loopback.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect } from 'chai'
import Dockerode from 'dockerode'
import { waitForValue } from '../helpers/wait-for.js'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const IMAGE = process.env.SHOAL_NODE_IMAGE ?? 'shoal/node:local'
const COMPOSE_FILE = `${ROOT}docker/compose.local.yaml`

/** `docker-compose` (Debian, v1) or `docker compose` (the v2 plugin), whichever answers. */
async function composeCommand (): Promise<string[] | undefined> {
  for (const argv of [['docker-compose'], ['docker', 'compose']]) {
    try {
      await run(argv[0], [...argv.slice(1), 'version'], { timeout: 20_000 })
      return argv
    } catch {}
  }
  return undefined
}

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise(resolve => server.close(resolve))
  return port
}

describe('docker/compose.local.yaml: a paid mesh in containers built from this checkout', function () {
  // about 40 s on an idle 2-core machine; `up` waits for the setup service, which took
  // 2.5 min at a load average of 68 (a 50-host testnet beside it)
  this.timeout(300_000)
  let compose: string[] | undefined
  const project = `shoalci${randomBytes(3).toString('hex')}`
  let port = 0
  let started = false

  const composeRun = async (args: string[], timeout = 120_000): Promise<string> => {
    const { stdout } = await run(compose![0], [...compose!.slice(1), '-p', project, '-f', COMPOSE_FILE, ...args], {
      cwd: ROOT, timeout, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, SHOAL_IMAGE: IMAGE, SHOAL_GATEWAY_PORT: String(port) }
    })
    return stdout
  }

  before(async function () {
    this.timeout(300_000)
    try {
      await new Dockerode().ping()
    } catch (err) {
      console.log(`      skipped: no Docker Engine answers at ${process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock'} (${(err as Error).message})`)
      this.skip()
    }
    compose = await composeCommand()
    if (compose === undefined) {
      console.log('      skipped: neither docker-compose nor the docker compose plugin is installed (apt-get install docker-compose)')
      this.skip()
    }
    const began = Date.now()
    await run('bash', [`${ROOT}docker/build-cpu-runner-image.sh`, IMAGE], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 })
    console.log(`      image ${IMAGE} ready in ${Date.now() - began} ms`)
    port = await freePort()
  })

  after(async function () {
    this.timeout(120_000)
    if (!started) return
    if (process.env.SHOAL_KEEP_TEST_LOGS !== undefined) console.log(await composeRun(['logs', '--no-color', '--tail', '40']).catch(err => String(err)))
    await composeRun(['down', '-v', '--remove-orphans', '-t', '10']).catch((err: Error) => { console.log(`      compose down failed: ${err.message}`) })
  })

  it('starts chain, bootstrap, two orchestrators and a gateway, and a paid job succeeds through it', async () => {
    const began = Date.now()
    started = true
    await composeRun(['up', '-d'], 240_000)
    const url = `http://127.0.0.1:${port}`
    const listed = await waitForValue(async () => {
      const rows = await fetch(`${url}/network/orchestrators`, { signal: AbortSignal.timeout(5_000) }).then(async r => await r.json() as Array<{ peerId: string }>).catch(() => [])
      return rows.length >= 2 ? rows : undefined
    }, 90_000, 'the gateway to list both orchestrators', 500)
    const upMs = Date.now() - began
    const res = await fetch(`${url}/text-to-image`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'compose', model_id: 'shoal/noop', width: 64, height: 64 }),
      signal: AbortSignal.timeout(60_000)
    })
    const body = await res.text()
    expect(res.status, body).to.equal(200)
    expect(listed.map(r => r.peerId)).to.include(res.headers.get('x-shoal-orchestrator'))
    const metrics = await (await fetch(`${url}/metrics`)).text()
    const tickets = metrics.split('\n').filter(l => l.startsWith('shoal_payments_tickets_sent_total')).reduce((n, l) => n + Number(l.split(' ').at(-1)), 0)
    expect(tickets, 'tickets the gateway sent').to.be.greaterThan(0)
    console.log(`      mesh up and listing both orchestrators in ${upMs} ms; paid job in ${res.headers.get('x-shoal-duration-ms') ?? '?'} ms`)
  })
})
