import { expect } from 'chai'
import { spawn } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { shoalBin } from '../../src/testnet/package-root.js'

interface Run { code: number | null, stdout: string, stderr: string, ms: number }

/** `shoal <args>` as a real process (bin/shoal.js over dist/: run `npm run build` first). */
async function shoal (args: string[], options: { bin?: string, env?: NodeJS.ProcessEnv, timeoutMs?: number } = {}): Promise<Run> {
  const started = performance.now()
  const child = spawn(process.execPath, [options.bin ?? shoalBin(), ...args], { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, options.timeoutMs ?? 60_000)
  const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
  clearTimeout(timer)
  return { code, stdout, stderr, ms: performance.now() - started }
}

/** The `shoal: ...` lines of stderr (logs are JSON lines). */
const shoalLines = (stderr: string): string[] => stderr.split('\n').filter(l => l.startsWith('shoal: '))
const nonLogLines = (stderr: string): string[] => stderr.split('\n').filter(l => l !== '' && !l.startsWith('{'))

describe('cli: start-up failures are one "shoal: ..." line naming the cause (real processes)', function () {
  this.timeout(120_000)
  let dir: string
  let taken: Server
  let takenPort: number
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shoal-startup-'))
    taken = createServer()
    await new Promise<void>(resolve => taken.listen(0, '127.0.0.1', resolve))
    takenPort = (taken.address() as { port: number }).port
  })
  after(async () => {
    await new Promise(resolve => taken.close(resolve))
    await rm(dir, { recursive: true, force: true })
  })

  it('a flag given without its value is an error, not its default', async () => {
    const cases: Array<[string[], string]> = [
      [['testnet', '--orchestrators'], '--orchestrators'],
      [['testnet', '--orchestrators', '--payments', 'off'], '--orchestrators'],
      [['gateway', '--payments', 'off', '--http-port'], '--http-port']
    ]
    for (const [args, flag] of cases) {
      const run = await shoal(args)
      expect(run.code, args.join(' ')).to.equal(1)
      expect(nonLogLines(run.stderr), args.join(' ')).to.deep.equal([`shoal: ${flag} needs a value (run \`shoal --help\` for usage)`])
      expect(run.stdout).to.equal('')
    }
    // booleans and values after `=` are fine: these fail later, on their own merits
    const ok = await shoal(['testnet', '--orchestrators=0', '--no-demo'])
    expect(nonLogLines(ok.stderr)).to.deep.equal(['shoal: --orchestrators must be an integer in [1, 50]'])
  })

  it('a port in use: the gateway, a --listen address and the testnet name it, the testnet before starting anything', async () => {
    const gateway = await shoal(['gateway', '--payments', 'off', '--data-dir', join(dir, 'gw'), '--listen', '/ip4/127.0.0.1/tcp/0', '--http-port', String(takenPort)])
    expect(gateway.code).to.equal(1)
    expect(shoalLines(gateway.stderr)).to.have.length(1)
    expect(shoalLines(gateway.stderr)[0]).to.match(new RegExp(`^shoal: 127\\.0\\.0\\.1:${takenPort} is already in use`))
    expect(gateway.stderr).to.not.match(/\n\s+at /)
    // libp2p's own listen error, for a --listen address
    const bootstrap = await shoal(['bootstrap', '--data-dir', join(dir, 'bs'), '--listen', `/ip4/127.0.0.1/tcp/${takenPort}`])
    expect(bootstrap.code).to.equal(1)
    expect(nonLogLines(bootstrap.stderr)).to.deep.equal([`shoal: 127.0.0.1:${takenPort} is already in use (another shoal node or testnet?): stop it or choose another port in --listen`])

    const testnet = await shoal(['testnet', '--data-dir', join(dir, 'tn'), '--gateway-port', String(takenPort)])
    expect(testnet.code).to.equal(1)
    expect(nonLogLines(testnet.stderr)).to.deep.equal([`shoal: port ${takenPort} is already in use (another gateway or testnet?): stop it or choose another with --gateway-port`])
    // nothing was started: no chain, no node folders
    expect(testnet.stdout).to.equal('')
  })

  it('a second testnet in the same data directory is refused while the first runs', async () => {
    const tn = join(dir, 'locked')
    await mkdir(tn, { recursive: true })
    // this test process stands for the running testnet
    await writeFile(join(tn, 'testnet.pid'), `${process.pid}\n`)
    const run = await shoal(['testnet', '--data-dir', tn, '--gateway-port', '0'])
    expect(run.code).to.equal(1)
    expect(nonLogLines(run.stderr)).to.deep.equal([`shoal: a testnet is already running in ${tn} (pid ${process.pid}): stop it with Ctrl-C, or give another --data-dir`])
  })

  it('a bad aiModels.json currency, USD without a rate, a bad rate and an unsupported runner model: one line each, no stack', async () => {
    const models = join(dir, 'aiModels.json')
    const args = ['orchestrator', '--payments', 'off', '--data-dir', join(dir, 'orch'), '--listen', '/ip4/127.0.0.1/tcp/0', '--ai-models', models]
    await writeFile(models, JSON.stringify([{ pipeline: 'upscale', model_id: 'upscalerjs/esrgan-slim-x2', price_per_unit: '1', currency: 'USD' }]))
    const usd = await shoal(args)
    expect(usd.code).to.equal(1)
    expect(nonLogLines(usd.stderr)).to.have.length(1)
    expect(nonLogLines(usd.stderr)[0]).to.match(/^shoal: aiModels.json prices some models in USD, which needs an ETH\/USD rate: --price-feed ADDRESS .* or --usd-per-eth N$/)
    const badRate = await shoal([...args, '--usd-per-eth', '0'])
    expect(badRate.code).to.equal(1)
    expect(nonLogLines(badRate.stderr)).to.deep.equal(['shoal: --usd-per-eth: a USD per ETH rate must be a positive decimal number (got "0")'])
    await writeFile(models, JSON.stringify([{ pipeline: 'upscale', model_id: 'upscalerjs/esrgan-slim-x2', price_per_unit: '1', currency: 'EUR' }]))
    const eur = await shoal([...args, '--usd-per-eth', '2500'])
    expect(eur.code).to.equal(1)
    expect(nonLogLines(eur.stderr)).to.have.length(1)
    expect(nonLogLines(eur.stderr)[0]).to.match(/^shoal: .*currency EUR is not supported; price it in WEI or USD/)
    await writeFile(models, JSON.stringify([{ pipeline: 'upscale', model_id: 'acme/none', price_per_unit: '1' }]))
    const unsupported = await shoal(args)
    expect(unsupported.code).to.equal(1)
    expect(nonLogLines(unsupported.stderr)).to.have.length(1)
    expect(nonLogLines(unsupported.stderr)[0]).to.match(/^shoal: the CPU runner cannot run model "acme\/none" for pipeline "upscale"/)
  })

  it('the testnet prints the cause its failing child gave', async () => {
    const run = await shoal(['testnet', '--data-dir', join(dir, 'tn-bad'), '--gateway-port', '0', '--payments', 'off', '--orchestrators', '1', '--model', 'acme/none', '--no-demo'], { timeoutMs: 110_000 })
    expect(run.code).to.equal(1)
    const lines = nonLogLines(run.stderr)
    expect(lines).to.have.length(1)
    expect(lines[0]).to.match(/^shoal: testnet failed: orchestrator-0 exited with code 1 before "listening": the CPU runner cannot run model "acme\/none" for pipeline "upscale".* \(log: .*orchestrator-0\.log\)$/)
  })

  it('--help texts match what commands take: chain status has no --unit, deposit does', async () => {
    const status = await shoal(['chain', 'status', '--help'])
    expect(status.code).to.equal(0)
    expect(status.stdout).to.not.contain('--unit')
    expect(status.stdout).to.contain('--json')
    const deposit = await shoal(['chain', 'deposit', '--help'])
    expect(deposit.stdout).to.contain('--unit')
    const refused = await shoal(['chain', 'status', '--unit', 'wei'])
    expect(nonLogLines(refused.stderr)).to.deep.equal(['shoal: unknown option: --unit (run `shoal --help` for usage)'])
  })

  it('shoal --help lists every command without loading them; bin/shoal.js without dist/ says to build, and builds nothing', async () => {
    const help = await shoal(['--help'])
    expect(help.code).to.equal(0)
    for (const name of ['keys', 'bootstrap', 'orchestrator', 'gateway', 'testnet', 'runner', 'chain', 'worker']) expect(help.stdout).to.contain(`shoal ${name}`)
    const bare = join(dir, 'bare')
    await mkdir(join(bare, 'bin'), { recursive: true })
    await copyFile(shoalBin(), join(bare, 'bin', 'shoal.js'))
    const unbuilt = await shoal(['--help'], { bin: join(bare, 'bin', 'shoal.js') })
    expect(unbuilt.code).to.equal(1)
    expect(unbuilt.stderr).to.equal('shoal: the CLI is not built (dist/ is missing): run `npm run build` in the shoal folder (`npm ci` does it)\n')
  })
})
