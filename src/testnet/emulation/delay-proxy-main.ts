/**
 * The delay proxy as a process, started inside a namespace (`ip netns exec NS node
 * delay-proxy-main.js '<options JSON>'`). Prints `{"event":"listening","port":N}` once it
 * listens; each stdin line `{"delayMs":N}` changes the delay; stdin's end stops it (so it
 * never outlives the testnet that started it).
 */
import { createInterface } from 'node:readline'
import { startDelayProxy, type DelayProxyOptions } from './delay-proxy.js'

const options = JSON.parse(process.argv[2] ?? '{}') as DelayProxyOptions
const proxy = await startDelayProxy(options)
process.stdout.write(`${JSON.stringify({ event: 'listening', port: proxy.port })}\n`)
const lines = createInterface({ input: process.stdin })
lines.on('line', (line) => {
  try {
    const message = JSON.parse(line) as { delayMs?: unknown }
    if (typeof message.delayMs === 'number') {
      proxy.setDelay(message.delayMs)
      process.stdout.write(`${JSON.stringify({ event: 'delay', delayMs: proxy.delayMs() })}\n`)
    }
  } catch { /* not a command */ }
})
lines.on('close', () => { void proxy.close().finally(() => process.exit(0)) })
