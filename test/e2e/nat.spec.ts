/**
 * Issue 16, item 4: an orchestrator behind NAT serves paid jobs through a circuit relay.
 * Namespaces: a bootstrap (also the relay), a gateway and a second orchestrator on one
 * bridge; the NATed orchestrator in a home namespace behind a router that masquerades its
 * connections and drops every connection started from outside. The orchestrator listens
 * on its private address and through the bootstrap's relay; the gateway hears of it by
 * gossip, cannot reach its private address, and sends it paid jobs through the relay.
 * Then the NATed orchestrator stops and a directly reachable one takes its place: the same
 * measurements, relayed against direct, are printed (not asserted: bench numbers).
 * The local chain runs on the host's loopback; each namespace reaches it through a Unix
 * socket (fixtures/unix-forward.mjs), so no packet leaves the namespaces created here.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect, createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { expect } from 'chai'
import { parseEther } from 'ethers'
import sharp from 'sharp'
import { loadOrCreateNodeKeys } from '../../src/p2p/keys.js'
import { spawnShoal, type ShoalChild } from '../../src/testnet/child.js'
import { startTestnetChain, type TestnetChain } from '../../src/testnet/local-chain.js'
import { createNetnsLab, netnsSupport, type NetnsHost, type NetnsLab } from '../../src/testnet/netns.js'
import { addNatHome, type NatHome } from './nat-lab.js'
import { skipUnsupported } from '../helpers/skip.js'

const MODEL = 'shoal/noop'
const RPC_PORT = 8545
const HTTP_PORT = 8935
const FORWARD = fileURLToPath(new URL('./fixtures/unix-forward.mjs', import.meta.url))
const PROBE = fileURLToPath(new URL('./fixtures/nat-probe.mjs', import.meta.url))

interface ProbeResult {
  first: { status: number, orchestrator: string | null, tried: string | null, text: string }
  statuses: number[]
  orchestrators: Array<string | null>
  p50: number
  p90: number
  throughput: number
  failed: number
  bigMs: number[]
  bigBytes: number[]
  ticketsSent: number
  relayConnections: number
  failures: unknown[]
}

/** Runs argv to completion; resolves with stdout, or rejects with stderr. */
async function runIn (argv: string[], timeoutMs: number): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return await new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => { child.kill('SIGKILL') }, timeoutMs)
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
}

/** Inside `exec`'s namespace: whether a TCP connection to host:port opens within 3 s. */
async function canConnect (exec: (argv: string[]) => string[], host: string, port: number): Promise<boolean> {
  const script = `const s=require('net').connect(${port},'${host}');s.setTimeout(3000);s.on('connect',()=>{console.log('open');process.exit(0)});s.on('error',e=>{console.log(e.code);process.exit(0)});s.on('timeout',()=>{console.log('timeout');process.exit(0)})`
  const { stdout } = await runIn(exec([process.execPath, '-e', script]), 15_000)
  return stdout.trim() === 'open'
}

describe('e2e: an orchestrator behind NAT serves paid jobs through a relay (network namespaces)', function () {
  this.timeout(180_000)
  let lab: NetnsLab | undefined
  let home: NatHome | undefined
  let chain: TestnetChain | undefined
  let bridge: Server | undefined
  let dataDir: string | undefined
  const children: ShoalChild[] = []
  const forwarders: ChildProcess[] = []

  before(async function () {
    skipUnsupported(this, await netnsSupport())
  })

  after(async () => {
    for (const child of [...children].reverse()) await child.stop(5_000).catch(() => {})
    for (const f of forwarders) f.stdin?.end()
    await Promise.all(forwarders.map(async f => await new Promise(resolve => { if (f.exitCode !== null) resolve(null); else f.once('exit', resolve) })))
    bridge?.close()
    await chain?.stop()
    await home?.remove()
    await lab?.remove()
    if (dataDir !== undefined && process.env.SHOAL_KEEP_TEST_LOGS === undefined) await rm(dataDir, { recursive: true, force: true })
  })

  it('is not dialable directly; the gateway reaches it through the relay and its paid jobs succeed', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'shoal-nat-'))
    const dir = dataDir
    chain = await startTestnetChain({ blockTimeSec: 1 })
    const rpcPort = Number(new URL(chain.rpcUrl).port)
    const socketPath = join(dir, 'rpc.sock')
    bridge = createServer((c) => { const u = connect(rpcPort, '127.0.0.1'); c.pipe(u).pipe(c); c.on('error', () => u.destroy()); u.on('error', () => c.destroy()) })
    await new Promise<void>(resolve => bridge!.listen(socketPath, resolve))
    const paymentArgs = ['--rpc-url', `http://127.0.0.1:${RPC_PORT}`, '--broker', chain.brokerAddress]

    lab = await createNetnsLab({ subnetPrefix: '10.233.0' })
    home = await addNatHome(lab, 'home', '10.234.0')
    const bootstrapHost = await lab.addHost('bootstrap')
    const gatewayHost = await lab.addHost('gateway')
    const directHost = await lab.addHost('direct')
    const homeExec = home.exec
    const forwardIn = async (exec: (argv: string[]) => string[]): Promise<void> => {
      const argv = exec([process.execPath, FORWARD, String(RPC_PORT), socketPath])
      const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] })
      forwarders.push(child)
      await new Promise<void>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once('line', () => { resolve() })
        child.once('exit', () => { reject(new Error('the RPC forwarder exited')) })
      })
    }
    await Promise.all([forwardIn(gatewayHost.exec), forwardIn(homeExec), forwardIn(directHost.exec)])

    const start = async (name: string, exec: (argv: string[]) => string[], args: string[]): Promise<ShoalChild & { peerId: string }> => {
      const child = spawnShoal(name, [...args, '--log-level', 'info', '--address-scope', 'private'], { logFile: join(dir, `${name}.log`), prefix: exec([]) })
      children.push(child)
      const event = await child.waitForEvent('listening', { timeoutMs: 120_000 })
      return Object.assign(child, { peerId: String(event.peerId) })
    }
    const models = JSON.stringify(['text-to-image', 'upscale'].map(pipeline => ({ pipeline, model_id: MODEL, warm: true, capacity: 8, price_per_unit: '1', pixels_per_unit: '1' })))
    const orchestratorArgs = async (name: string): Promise<string[]> => {
      const d = join(dir, name)
      await mkdir(d, { recursive: true })
      await writeFile(join(d, 'aiModels.json'), models)
      await chain!.sendEth((await loadOrCreateNodeKeys(d)).ethereum.address, parseEther('10'))
      return ['orchestrator', '--data-dir', d, '--ai-models', join(d, 'aiModels.json'), ...paymentArgs]
    }

    const bootstrap = await start('bootstrap', bootstrapHost.exec, ['bootstrap', '--data-dir', join(dir, 'bootstrap'), '--listen', `/ip4/${bootstrapHost.address}/tcp/4001`, '--relay-server'])
    const bootstrapAddr = `/ip4/${bootstrapHost.address}/tcp/4001/p2p/${bootstrap.peerId}`
    const natted = await start('natted', homeExec, [...await orchestratorArgs('natted'), '--bootstrap', bootstrapAddr,
      '--listen', `/ip4/${home.address}/tcp/4001`, '--listen', `${bootstrapAddr}/p2p-circuit`])
    const gatewayDir = join(dir, 'gateway')
    await chain.fundSender((await loadOrCreateNodeKeys(gatewayDir)).ethereum.privateKey, 10n ** 19n, 10n ** 19n, 4)
    await start('gateway', gatewayHost.exec, ['gateway', '--data-dir', gatewayDir, '--bootstrap', bootstrapAddr, '--listen', `/ip4/${gatewayHost.address}/tcp/4001`,
      '--http-host', '127.0.0.1', '--http-port', String(HTTP_PORT), ...paymentArgs])

    // the NATed orchestrator reaches the public side; nobody there reaches it
    expect(await canConnect(homeExec, bootstrapHost.address, 4001), 'home -> bootstrap').to.equal(true)
    expect(await canConnect(gatewayHost.exec, home.address, 4001), 'gateway -> NATed orchestrator').to.equal(false)
    expect(await canConnect(gatewayHost.exec, home.router.address, 4001), 'gateway -> the router\'s public address').to.equal(false)
    expect(await home.masqueraded(), 'packets masqueraded by the router').to.be.greaterThan(0)

    const image = join(dir, 'big.png')
    await writeFile(image, await sharp(randomBytes(768 * 768 * 3), { raw: { width: 768, height: 768, channels: 3 } }).png().toBuffer())
    const probe = async (host: NetnsHost, peerId: string): Promise<ProbeResult> => {
      const { code, stdout, stderr } = await runIn(host.exec([process.execPath, PROBE, `http://127.0.0.1:${HTTP_PORT}`, peerId, MODEL, '30', '4', '5', image]), 150_000)
      expect(code, stderr).to.equal(0)
      return JSON.parse(stdout) as ProbeResult
    }

    const relayed = await probe(gatewayHost, natted.peerId)
    expect(relayed.first.status, relayed.first.text).to.equal(200)
    expect(relayed.statuses).to.deep.equal([200])
    expect(relayed.orchestrators).to.deep.equal([natted.peerId])
    expect(relayed.ticketsSent, 'tickets sent for the relayed jobs').to.be.greaterThan(0)
    expect(relayed.relayConnections, 'the gateway\'s connections through a relay').to.be.greaterThan(0)

    // the same jobs to an orchestrator the gateway dials directly
    await natted.stop(10_000)
    const direct = await start('direct', directHost.exec, [...await orchestratorArgs('direct'), '--bootstrap', bootstrapAddr, '--listen', `/ip4/${directHost.address}/tcp/4001`])
    const straight = await probe(gatewayHost, direct.peerId)
    expect(straight.statuses).to.deep.equal([200])
    expect(straight.orchestrators).to.deep.equal([direct.peerId])

    const mib = (r: ProbeResult): string => (r.bigBytes[0] / 2 ** 20).toFixed(1)
    console.log(`      relayed: p50 ${relayed.p50.toFixed(1)} ms, p90 ${relayed.p90.toFixed(1)} ms, ${relayed.throughput.toFixed(0)} jobs/s at 4, ${mib(relayed)} MiB echo ${relayed.bigMs.map(m => m.toFixed(0)).join('/')} ms`)
    console.log(`      direct:  p50 ${straight.p50.toFixed(1)} ms, p90 ${straight.p90.toFixed(1)} ms, ${straight.throughput.toFixed(0)} jobs/s at 4, ${mib(straight)} MiB echo ${straight.bigMs.map(m => m.toFixed(0)).join('/')} ms`)
  })
})
