/**
 * The link conditions of emulated hosts, measured with real TCP between namespaces:
 * a partition drops the traffic of its members with the rest (and not among them) and
 * heals; the delay proxy behind an iptables REDIRECT delays what a host accepts; tbf and
 * the loss rules are installed and removed. Every probe runs inside a namespace of the lab.
 * Needs root, `ip`, `iptables`, `tc` and a build (the proxy runs from dist/); skipped otherwise.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { expect } from 'chai'
import { createNetnsLab, type NetnsHost, type NetnsLab } from '../../../src/testnet/netns.js'
import { scenarioSupport } from '../../../src/testnet/scenario/run.js'
import { delayProxyScript, redirectInbound, startHelper, type HelperProcess } from '../../../src/testnet/emulation/helper.js'
import { healAll, partition } from '../../../src/testnet/emulation/partition.js'
import { describeLink, shapeLink } from '../../../src/testnet/emulation/shaping.js'
import { skipUnsupported } from '../../helpers/skip.js'

const run = promisify(execFile)
const ECHO = "require('net').createServer(s => s.pipe(s)).listen(Number(process.argv[2]), process.argv[1], () => console.log('up'))"
// connects, sends 1 KiB, prints the round trip in ms, or "fail" when nothing comes back in time
const PROBE = "const t0 = Date.now(); const s = require('net').connect(Number(process.argv[2]), process.argv[1]); let got = 0; s.on('connect', () => s.write(Buffer.alloc(1024))); s.on('data', c => { got += c.length; if (got >= 1024) { console.log(Date.now() - t0); process.exit(0) } }); s.on('error', () => { console.log('fail'); process.exit(0) }); setTimeout(() => { console.log('fail'); process.exit(0) }, 2500)"

async function probe (from: NetnsHost, to: NetnsHost, port: number): Promise<number | 'fail'> {
  const [cmd, ...args] = from.exec([process.execPath, '-e', PROBE, to.address, String(port)])
  const { stdout } = await run(cmd, args, { timeout: 15_000 })
  const out = stdout.trim()
  return out === 'fail' ? 'fail' : Number(out)
}

describe('testnet/emulation: partitions, delay and shaping between namespaces', function () {
  this.timeout(120_000)
  let lab: NetnsLab | undefined
  const children: ChildProcess[] = []
  const helpers: HelperProcess[] = []
  let dir: string | undefined
  let a: NetnsHost, b: NetnsHost, c: NetnsHost

  before(async function () {
    skipUnsupported(this, await scenarioSupport())
    try { delayProxyScript() } catch (err) { console.log(`    skipped: ${(err as Error).message}`); this.skip() }
    dir = await mkdtemp(join(tmpdir(), 'shoal-emulation-'))
    lab = await createNetnsLab({ subnetPrefix: '10.244.0' })
    a = await lab.addHost('a')
    b = await lab.addHost('b')
    c = await lab.addHost('c')
    for (const host of [b, c]) {
      const [cmd, ...args] = host.exec([process.execPath, '-e', ECHO, host.address, '7000'])
      const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] })
      children.push(child)
      await new Promise<void>(resolve => child.stdout?.once('data', () => { resolve() }))
    }
  })

  after(async () => {
    for (const h of helpers) await h.stop().catch(() => {})
    for (const child of children) child.kill('SIGKILL')
    await lab?.remove()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('a partition cuts its members off from the rest, not from each other, until healed', async () => {
    expect(await probe(a, b, 7000)).to.be.a('number')
    await partition(lab as NetnsLab, ['b', 'c'])
    expect(await probe(a, b, 7000), 'a -> b across the partition').to.equal('fail')
    expect(await probe(a, c, 7000), 'a -> c across the partition').to.equal('fail')
    expect(await probe(b, c, 7000), 'b -> c on the same side').to.be.a('number')
    await healAll(lab as NetnsLab)
    expect(await probe(a, b, 7000), 'a -> b after the heal').to.be.a('number')
  })

  it('delays what a host accepts through the proxy behind a REDIRECT, and the delay changes live', async () => {
    if (dir === undefined) throw new Error('no dir')
    const base = await probe(a, c, 7000) as number
    const proxy = await startHelper('delay-c', c, { listen: { host: c.address, port: 17000 }, target: { host: c.address, port: 7000 }, delayMs: 150 }, join(dir, 'delay-c.log'))
    helpers.push(proxy)
    await redirectInbound(c, 7000, 17000)
    const slow = await probe(a, c, 7000)
    // connect (not delayed: the proxy accepts at once) + 1 KiB there and back: two delays
    expect(slow, `round trip with 150 ms each way (baseline ${base} ms)`).to.be.a('number').and.at.least(300)
    proxy.send({ delayMs: 0 })
    await new Promise(resolve => setTimeout(resolve, 200))
    const fast = await probe(a, c, 7000)
    expect(fast).to.be.a('number').and.below(slow as number)
  })

  it('installs tbf on both ends and loss rules, and removes them', async () => {
    await shapeLink(lab as NetnsLab, 'b', { rateKbit: 800, lossPercent: 5 })
    const shaped = await describeLink(lab as NetnsLab, 'b')
    expect(shaped.qdisc).to.match(/tbf .*rate 800Kbit/)
    expect(shaped.lossRules).to.match(/-m statistic --mode random --probability 0\.0(5|49)\d* -j DROP/)
    const { stdout } = await run('ip', ['netns', 'exec', (lab as NetnsLab).hub, 'tc', 'qdisc', 'show', 'dev', b.switchPort])
    expect(stdout, 'the switch side shapes what b receives').to.match(/tbf .*rate 800Kbit/)
    expect(await probe(a, b, 7000), 'a shaped link still carries traffic').to.be.a('number')
    await shapeLink(lab as NetnsLab, 'b', {})
    const cleared = await describeLink(lab as NetnsLab, 'b')
    expect(cleared.qdisc).to.not.match(/tbf/)
    expect(cleared.lossRules).to.not.match(/DROP/)
  })
})
