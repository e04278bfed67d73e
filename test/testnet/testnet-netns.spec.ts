import { expect } from 'chai'
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { shoalBin } from '../../src/testnet/package-root.js'
import { listLabNamespaces } from '../../src/testnet/netns.js'
import { scenarioSupport } from '../../src/testnet/scenario/run.js'
import { skipUnsupported } from '../helpers/skip.js'

/**
 * `shoal testnet --hosts netns` (no scenario) with payments: the chain runs inside the lab
 * on a host of its own, as in scenarios, not on the host's loopback behind proxies; one
 * paid job goes through, and the lab is gone afterwards. Root with `ip`, `iptables`, `tc`.
 */
describe('testnet: `shoal testnet --hosts netns` runs the chain inside the lab (real processes, root)', function () {
  this.timeout(300_000)
  let dir: string | undefined
  const lines: string[] = []
  let code: number | null = null
  let paid: { status: number, chargedWei: string | null } | undefined

  before(async function () {
    skipUnsupported(this, await scenarioSupport())
    dir = await mkdtemp(join(tmpdir(), 'shoal-testnet-netns-'))
    const child = spawn(process.execPath, [shoalBin(), 'testnet', '--hosts', 'netns', '--orchestrators', '1', '--gateway-port', '0', '--data-dir', dir, '--no-demo'], { stdio: ['ignore', 'pipe', 'pipe'] })
    const exited = new Promise<number | null>(resolve => child.once('exit', resolve))
    let buffered = ''
    let onReady: (url: string) => void = () => {}
    const ready = new Promise<string>(resolve => { onReady = resolve })
    const collect = (c: Buffer): void => {
      buffered += String(c)
      const parts = buffered.split('\n')
      buffered = parts.pop() as string
      lines.push(...parts)
      for (const line of parts) {
        const m = /^ready: gateway (http:\/\/\S+) lists/.exec(line)
        if (m !== null) onReady(m[1])
      }
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    const url = await Promise.race([ready, exited.then(() => undefined)])
    if (url !== undefined) {
      // one paid job: the custom capability (a process, cheap), charged by compute time
      const res = await fetch(`${url}/capability/thumbnail/thumbnail?width=32`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: await readFile(join(dir, 'demo-input.png')), signal: AbortSignal.timeout(120_000) }).catch(() => undefined)
      paid = res === undefined ? { status: 0, chargedWei: null } : { status: res.status, chargedWei: res.headers.get('x-shoal-charged-wei') }
      await res?.arrayBuffer()
      child.kill('SIGTERM')
    }
    code = await exited
    if (buffered !== '') lines.push(buffered)
  })

  after(async () => {
    if (dir !== undefined && process.env.SHOAL_KEEP_TEST_LOGS === undefined) await rm(dir, { recursive: true, force: true })
  })

  it('starts the chain on a host of the lab, serves a paid job, stops on SIGTERM and leaves no namespace of its lab behind', async () => {
    const out = lines.join('\n')
    expect(code, out).to.equal(0)
    const lab = /\blab (sh[0-9a-f]{4}): namespaces .* subnet (10\.\d+\.\d+)\.0\/24/.exec(out)
    expect(lab, out).to.not.equal(null)
    const [, labId, subnet] = lab as RegExpExecArray
    // nodes reach anvil at its lab address; this process through a bridge on its loopback
    const inLab = /chain \(anvil\) in the lab at http:\/\/(10\.\d+\.\d+)\.\d+:8545, reached from here at http:\/\/127\.0\.0\.1:\d+/.exec(out)
    expect(inLab, out).to.not.equal(null)
    expect(inLab?.[1]).to.equal(subnet)
    expect(out).to.match(/local chain in the lab, reached from here at http:\/\/127\.0\.0\.1:\d+ \(anvil, chain id \d+, log chain\.log\), TicketBroker at 0x[0-9a-fA-F]{40}/)
    // not the old way: anvil on the host's loopback bridged into the lab
    expect(out).to.not.match(/reached in the lab at/)
    expect(out).to.match(/^ready: gateway http:\/\/127\.0\.0\.1:\d+ lists 1 orchestrators, payments on$/m)
    expect(paid?.status, out).to.equal(200)
    expect(BigInt(paid?.chargedWei ?? '0') > 0n, 'the job was paid for').to.equal(true)
    expect(await listLabNamespaces(labId)).to.deep.equal([])
  })
})
