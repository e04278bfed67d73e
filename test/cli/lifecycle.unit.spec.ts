import { expect } from 'chai'
import { printListening, runUntilSignal } from '../../src/cli/lifecycle.js'
import { silentLogger } from '../../src/observability/logger.js'

/** What `fn` writes to stdout, kept from the test's own output. */
async function stdoutOf (fn: () => Promise<void>): Promise<string> {
  const write = process.stdout.write.bind(process.stdout)
  let out = ''
  process.stdout.write = ((chunk: string | Uint8Array) => { out += chunk.toString(); return true }) as typeof process.stdout.write
  try {
    await fn()
  } finally {
    process.stdout.write = write
  }
  return out
}

describe('cli/lifecycle: start until a signal, stop once', () => {
  it('a SIGTERM during start-up: no `listening` line, the node started is stopped once', async () => {
    let stops = 0
    const out = await stdoutOf(async () => {
      await runUntilSignal(silentLogger(), async (signal) => {
        // the signal arrives while the node starts (emitted, not sent: the handler runs, nothing is killed)
        process.emit('SIGTERM', 'SIGTERM')
        expect(signal.aborted).to.equal(true)
        printListening(signal, { role: 'bootstrap' })
        return { stop: async () => { stops++ } }
      })
    })
    expect(out).to.equal('')
    expect(stops).to.equal(1)
  })

  it('a node that started prints one `listening` line, and stops once on SIGINT', async () => {
    let stops = 0
    const out = await stdoutOf(async () => {
      await runUntilSignal(silentLogger(), async (signal) => {
        printListening(signal, { role: 'gateway', url: 'http://127.0.0.1:1' })
        setImmediate(() => { process.emit('SIGINT', 'SIGINT') })
        return { stop: async () => { stops++ } }
      })
    })
    expect(out.split('\n').filter(l => l !== '').map(l => JSON.parse(l))).to.deep.equal([{ event: 'listening', role: 'gateway', url: 'http://127.0.0.1:1' }])
    expect(stops).to.equal(1)
  })
})
