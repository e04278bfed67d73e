import { expect } from 'chai'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { defaultGatewayHttpOptions } from '../../src/gateway/http/options.js'
import { pipelineRequests, type DemoInputs } from '../../src/testnet/demo.js'
import { shoalBin } from '../../src/testnet/package-root.js'
import { waitForValue as waitFor } from '../helpers/wait-for.js'

/** The pids of a process's children (Linux /proc), with their command lines. */
function children (pid: number): Array<{ pid: number, cmd: string }> {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(p => p !== '').map(Number).map(p => ({ pid: p, cmd: (() => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ') } catch { return '' } })() }))
  } catch {
    return []
  }
}
const alive = (pid: number): boolean => existsSync(`/proc/${pid}`) && !/^\S+ \S+ Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^\d+ \(.*\) /, '0 x '))

/**
 * `shoal testnet` as the README starts it (payments on, a local chain), through bin/shoal.js:
 * every pipeline it says it serves answers a Livepeer-style request with the client's
 * default model id, the answer names the model that ran, and a Ctrl-C to the terminal's
 * process group stops the nodes before the chain.
 */
describe('testnet: every CPU pipeline through `shoal testnet`, and its shutdown (real processes)', function () {
  this.timeout(600_000)
  let dir: string
  let testnet: ChildProcess
  let url: string
  const out: string[] = []
  let exited: Promise<number | null>

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shoal-testnet-cli-'))
    // its own process group, as a terminal's foreground job is: the Ctrl-C below goes to the group
    testnet = spawn(process.execPath, [shoalBin(), 'testnet', '--data-dir', dir, '--gateway-port', '0', '--orchestrators', '1', '--no-demo'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    exited = new Promise(resolve => testnet.once('exit', resolve))
    let stderr = ''
    testnet.stderr?.on('data', (c: Buffer) => { stderr += c.toString() })
    url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: testnet.stdout! }).on('line', (line) => {
        out.push(line)
        const m = /^ready: gateway (http:\/\/\S+) lists 1 orchestrators, payments on$/.exec(line)
        if (m !== null) resolve(m[1] as string)
      })
      void exited.then(code => { reject(new Error(`testnet exited with ${String(code)}: ${stderr}\n${out.join('\n')}`)) })
    })
  })

  after(async () => {
    if (testnet?.exitCode === null) { process.kill(-(testnet.pid as number), 'SIGKILL'); await exited }
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('says what it serves, with the Livepeer default each model stands for, and what it cannot serve here and why', () => {
    const section = out.slice(out.findIndex(l => l.startsWith('pipelines on CPU')) + 1, out.findIndex(l => l.startsWith('ready:')))
    const served = section.filter(l => /^ {2}[a-z0-9-]+ +\S+ +for \S+$/.test(l)).map(l => l.trim().split(/\s+/)[0])
    expect(served).to.include('upscale')
    const notServed = section.slice(section.indexOf('not served here:') + 1).map(l => l.trim().split(/\s+/)[0])
    // every gateway pipeline is one or the other
    expect([...served, ...notServed].sort()).to.deep.equal(Object.keys(defaultGatewayHttpOptions.defaultModels).sort())
    for (const line of section.filter(l => /^ {2}(text-to-image|image-to-image|audio-to-text) /.test(l))) expect(line).to.contain('needs a GPU')
  })

  it('every served pipeline answers a request with no model id (the Livepeer default, aliased), naming the model that ran', async () => {
    const rows = await (await fetch(`${url}/network/orchestrators`)).json() as Array<{ models: Array<{ pipeline: string, modelId: string }> }>
    // the custom capability and live video have their own tests (below; test/e2e/live.spec.ts)
    const models = new Map((rows[0]?.models ?? []).filter(m => m.pipeline !== 'custom' && m.pipeline !== 'live-video-to-video').map(m => [m.pipeline, m.modelId]))
    const inputs: DemoInputs = { card: join(dir, 'demo-input.png'), portrait: existsSync(join(dir, 'demo-portrait.png')) ? join(dir, 'demo-portrait.png') : join(dir, 'demo-input.png') }
    expect((await stat(inputs.card)).size).to.be.greaterThan(0)
    const requests = pipelineRequests(url, inputs)
    const results = await Promise.all([...models].map(async ([pipeline]) => {
      const request = requests[pipeline]
      if (request === undefined) return `${pipeline}: no demo request`
      const res = await fetch(`${url}/${pipeline}`, { ...(await request.init()), signal: AbortSignal.timeout(300_000) })
      const body = await res.text()
      return `${pipeline}: ${res.status} ${String(res.headers.get('x-shoal-model'))} ${String(res.headers.get('x-shoal-requested-model'))}${res.ok ? '' : ` ${body.slice(0, 200)}`}`
    }))
    expect(results.sort()).to.deep.equal([...models].map(([pipeline, modelId]) => `${pipeline}: 200 ${modelId} ${(defaultGatewayHttpOptions.defaultModels as Record<string, string>)[pipeline]}`).sort())
    expect(models.size).to.be.greaterThan(1)
  })

  it("the SDK's upscale model id explicitly; an unknown model gets a 503 naming the pipeline, the model and what is served", async () => {
    const image = await readFile(join(dir, 'demo-input.png'))
    const form = (model: string): FormData => {
      const f = new FormData()
      f.set('prompt', 'x')
      f.set('model_id', model)
      f.set('image', new Blob([image], { type: 'image/png' }), 'a.png')
      return f
    }
    const sdk = await fetch(`${url}/api/generate/upscale`, { method: 'POST', body: form('stabilityai/stable-diffusion-x4-upscaler') })
    expect(sdk.status).to.equal(200)
    expect(sdk.headers.get('x-shoal-model')).to.equal('upscalerjs/esrgan-slim-x2')
    await sdk.arrayBuffer()
    const unknown = await fetch(`${url}/upscale`, { method: 'POST', body: form('acme/unknown') })
    expect(unknown.status).to.equal(503)
    const body = await unknown.json() as { error: { pipeline: string, model: string, served: string[] } }
    expect(body.error).to.deep.include({ pipeline: 'upscale', model: 'acme/unknown', served: ['upscalerjs/esrgan-slim-x2'] })
  })

  it('serves a custom capability by default, listed under /capabilities, and prints a curl that calls it', async () => {
    const { capabilities } = await (await fetch(`${url}/capabilities`)).json() as { capabilities: Array<{ name: string }> }
    expect(capabilities.map(c => c.name)).to.deep.equal(['thumbnail'])
    const curl = await waitFor(async () => out.find(l => l.includes('/capability/thumbnail/thumbnail')), 30_000, 'the curl line')
    expect(curl).to.match(/^ {2}curl -D - -H 'content-type: image\/png' --data-binary @\S+demo-input\.png 'http:\/\/\S+\/capability\/thumbnail\/thumbnail\?width=32' -o thumbnail\.png$/)
    const res = await fetch(`${url}/capability/thumbnail/thumbnail?width=32`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: await readFile(join(dir, 'demo-input.png')) })
    expect(res.status).to.equal(200)
    expect(res.headers.get('content-type')).to.equal('image/png')
    // paid: the orchestrator measured the compute time and charged for it
    expect(Number(res.headers.get('x-shoal-compute-ms'))).to.be.greaterThan(0)
    expect(BigInt(res.headers.get('x-shoal-charged-wei') ?? '0') > 0n).to.equal(true)
    expect((await res.arrayBuffer()).byteLength).to.be.greaterThan(0)
  })

  it('Ctrl-C (SIGINT to the process group) stops the nodes first and the chain last, with a chain log', async () => {
    const kids = children(testnet.pid as number)
    const anvil = kids.find(k => /anvil/.test(k.cmd))
    const nodes = kids.filter(k => k !== anvil)
    expect(anvil, kids.map(k => k.cmd).join('\n')).to.not.equal(undefined)
    expect(nodes.length).to.equal(3) // bootstrap, orchestrator, gateway
    process.kill(-(testnet.pid as number), 'SIGINT')
    // while any node is still up, the chain must be up
    let violation = ''
    while (nodes.some(n => alive(n.pid))) {
      if (!alive(anvil!.pid)) violation = `the chain stopped while ${nodes.filter(n => alive(n.pid)).map(n => n.cmd.split(' ')[2] ?? '').join(', ')} still ran`
      await new Promise(resolve => setTimeout(resolve, 10))
    }
    expect(await exited).to.equal(0)
    expect(violation).to.equal('')
    expect(alive(anvil!.pid)).to.equal(false)
    expect(out.slice(-2)).to.deep.equal(['stopping the mesh (gateway, orchestrators, bootstrap, then the chain)...', 'stopped.'])
    expect(await readFile(join(dir, 'chain.log'), 'utf8')).to.match(/Listening on 127\.0\.0\.1:\d+/)
    // the orchestrator saw no chain errors while it stopped
    expect(await readFile(join(dir, 'orchestrator-0.log'), 'utf8')).to.not.match(/ECONNREFUSED/)
  })
})
