import { expect } from 'chai'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { defaultRunnerCommand } from '../../src/inference/managers/index.js'

function startRunner (env: Record<string, string>, extra: string[] = []): { child: ChildProcess, events: AsyncIterator<string>, exit: Promise<[number | null, string | null]>, stderr: () => string } {
  const command = defaultRunnerCommand()
  const child = spawn(command.execPath, [...command.args, ...extra], { env: { ...process.env, SHOAL_LOG_LEVEL: 'warn', ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
  const exit = once(child, 'exit') as Promise<[number | null, string | null]>
  return { child, events: createInterface({ input: child.stdout! })[Symbol.asyncIterator](), exit, stderr: () => stderr }
}

describe('cpu-runner: the `shoal runner` command', function () {
  // a runner started through tsx takes tens of seconds on a loaded 2-core machine
  this.timeout(120_000)

  it('refuses a model it cannot run: exit code 1 and a one-line reason', async () => {
    const { exit, stderr } = startRunner({ PIPELINE: 'text-to-image', MODEL_ID: 'stabilityai/sd-turbo', PORT: '0' })
    const [code] = await exit
    expect(code).to.equal(1)
    expect(stderr()).to.match(/^shoal: the CPU runner cannot run model "stabilityai\/sd-turbo"/m)
  })

  it('is safe by default: binds 127.0.0.1 and requires a generated token; --allow-no-token opens it on purpose', async () => {
    const env = { PIPELINE: 'upscale', MODEL_ID: 'shoal/noop', PORT: '0', HOST: '', AUTH_TOKEN: '' }
    const guarded = startRunner(env)
    try {
      const listening = JSON.parse((await guarded.events.next()).value as string)
      expect(listening.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/)
      expect(listening.auth).to.equal(true)
      expect(listening.token).to.be.a('string').with.length.above(20)
      await guarded.events.next() // ready
      expect((await fetch(`${listening.url as string}/hardware/stats`)).status).to.equal(401)
      expect((await fetch(`${listening.url as string}/hardware/stats`, { headers: { authorization: `Bearer ${listening.token as string}` } })).status).to.equal(200)
    } finally {
      guarded.child.kill('SIGKILL')
    }
    const open = startRunner(env, ['--allow-no-token'])
    try {
      const listening = JSON.parse((await open.events.next()).value as string)
      expect(listening).to.include({ auth: false })
      expect(listening).to.not.have.property('token')
      await open.events.next() // ready
      expect((await fetch(`${listening.url as string}/hardware/stats`)).status).to.equal(200)
    } finally {
      open.child.kill('SIGKILL')
    }
  })

  it('reports listening then ready, serves, and exits 0 on SIGTERM even with its stdin held open', async () => {
    const { child, events, exit } = startRunner({ PIPELINE: 'upscale', MODEL_ID: 'shoal/noop', PORT: '0', HOST: '127.0.0.1' }, ['--exit-with-stdin'])
    try {
      const listening = JSON.parse((await events.next()).value as string)
      expect(listening).to.include({ event: 'listening', pipeline: 'upscale', modelId: 'shoal/noop' })
      expect(JSON.parse((await events.next()).value as string)).to.include({ event: 'ready' })
      expect(await (await fetch(`${listening.url as string}/health`)).json()).to.deep.equal({ status: 'OK' })
      child.kill('SIGTERM')
      const [code] = await Promise.race([exit, new Promise<never>((_resolve, reject) => setTimeout(() => { reject(new Error('the runner did not exit after SIGTERM')) }, 5000))])
      expect(code).to.equal(0)
    } finally {
      child.kill('SIGKILL')
    }
  })
})
