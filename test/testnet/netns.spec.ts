import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { promisify } from 'node:util'
import { expect } from 'chai'
import { createNetnsLab, listLabNamespaces, netnsSupport, type NetnsLab } from '../../src/testnet/netns.js'
import { skipUnsupported } from '../helpers/skip.js'

const run = promisify(execFile)

/** One TCP connect from inside `from` to `address:port`; resolves 'ok', 'timeout' or an error code. */
async function connectFrom (lab: NetnsLab, from: string, address: string, port: number, timeoutMs = 1_500): Promise<string> {
  const script = `const s=require('net').connect(${port},'${address}');s.setTimeout(${timeoutMs},()=>{console.log('timeout');process.exit(0)});` +
    's.on(\'connect\',()=>{console.log(\'ok\');s.destroy()});s.on(\'error\',e=>console.log(e.code))'
  const [cmd, ...args] = lab.hosts.get(from)!.exec([process.execPath, '-e', script])
  const { stdout } = await run(cmd, args, { timeout: 15_000 })
  return stdout.trim()
}

describe('testnet/netns', function () {
  this.timeout(60_000)
  let lab: NetnsLab | undefined
  let server: ChildProcess | undefined

  before(async function () {
    skipUnsupported(this, await netnsSupport())
  })

  afterEach(async () => {
    server?.kill('SIGKILL')
    server = undefined
    await lab?.remove()
  })

  it('joins hosts on a bridge, addresses only inside the namespaces; cut drops traffic, heal restores it; remove deletes everything', async () => {
    lab = await createNetnsLab({ subnetPrefix: '10.231.7' })
    const a = await lab.addHost('a')
    await lab.addHost('b')
    expect(a.address).to.equal('10.231.7.2')

    // nothing in the host's own namespace knows the subnet
    const { stdout: hostAddrs } = await run('ip', ['-o', 'addr'])
    expect(hostAddrs).to.not.include('10.231.7.')
    const { stdout: hostLinks } = await run('ip', ['-o', 'link'])
    expect(hostLinks).to.not.include(lab.id)

    const [cmd, ...args] = a.exec([process.execPath, '-e', `require('net').createServer(s=>s.end()).listen(4100,'${a.address}',()=>console.log('listening'))`])
    const started = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] })
    server = started
    await new Promise<void>((resolve, reject) => {
      started.stdout?.on('data', (d: Buffer) => { if (d.toString().includes('listening')) resolve() })
      started.once('exit', (code) => { reject(new Error(`server exited ${String(code)}`)) })
    })

    expect(await connectFrom(lab, 'b', a.address, 4100)).to.equal('ok')
    expect(await lab.isUp('a')).to.equal(true)
    await lab.cut('a')
    expect(await lab.isUp('a')).to.equal(false)
    expect(await connectFrom(lab, 'b', a.address, 4100)).to.not.equal('ok')
    await lab.heal('a')
    expect(await lab.isUp('a')).to.equal(true)
    // the bridge port may take a moment to forward again
    let result = ''
    for (let i = 0; i < 10 && result !== 'ok'; i++) result = await connectFrom(lab, 'b', a.address, 4100)
    expect(result).to.equal('ok')

    const id = lab.id
    expect(await listLabNamespaces(id)).to.have.length(3)
    started.kill('SIGKILL')
    server = undefined
    await lab.remove()
    expect(await listLabNamespaces(id)).to.deep.equal([])
    lab = undefined
  })

  it('labs are isolated: the same subnet in two labs does not meet', async () => {
    lab = await createNetnsLab({ subnetPrefix: '10.231.8' })
    const other = await createNetnsLab({ subnetPrefix: '10.231.8' })
    try {
      expect(other.id).to.not.equal(lab.id)
      const a = await lab.addHost('a')
      await other.addHost('x')
      await other.addHost('y')
      // 10.231.8.2 exists in both labs; from lab 2 it is lab 2's own host, never lab 1's
      const [cmd, ...args] = a.exec([process.execPath, '-e', `require('net').createServer(s=>s.end()).listen(4101,'${a.address}',()=>console.log('listening'))`])
      const started = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] })
      server = started
      await new Promise<void>((resolve) => { started.stdout?.on('data', () => { resolve() }) })
      expect(await connectFrom(other, 'y', a.address, 4101)).to.equal('ECONNREFUSED')
    } finally {
      await other.remove()
    }
  })
})
