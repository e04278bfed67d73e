import type { CommandModule } from 'yargs'
import { resolve } from 'node:path'
import { startProcessMesh, type TestnetModelEntry } from '../../testnet/process-mesh.js'
import { CliError } from '../errors.js'
import { parsePort } from '../options/node.js'

interface TestnetArgs {
  orchestrators: number
  gatewayPort: number
  dataDir: string
  model: string
  capacity: number
  logLevel: string
}

/** What each testnet orchestrator serves: a real ESRGAN upscaler on CPU. */
export function testnetModels (model: string, capacity: number): TestnetModelEntry[] {
  return [{ pipeline: 'upscale', model_id: model, warm: true, capacity, price_per_unit: '1', pixels_per_unit: '1' }]
}

export const testnetCommand: CommandModule<object, TestnetArgs> = {
  command: 'testnet',
  describe: 'start a local mesh (bootstrap, N orchestrators with CPU runners, a gateway), each its own process; Ctrl-C stops it',
  builder: (y) => y
    .option('orchestrators', { type: 'number', default: 2, describe: 'how many orchestrators' })
    .option('gateway-port', { type: 'number', default: 8935, describe: 'the gateway\'s HTTP port (0 picks one)' })
    .option('data-dir', { type: 'string', default: '.shoal/testnet', describe: 'base data directory; each node gets a folder and a log file in it' })
    .option('model', { type: 'string', default: 'upscalerjs/esrgan-slim-x2', describe: 'the upscale model every orchestrator serves' })
    .option('capacity', { type: 'number', default: 1, describe: 'concurrent jobs per orchestrator' })
    .option('log-level', { type: 'string', default: 'info', describe: 'log level of the nodes (their logs go to files in the data directory)' }) as never,
  handler: async (args) => {
    if (!Number.isInteger(args.orchestrators) || args.orchestrators < 1 || args.orchestrators > 50) throw new CliError('CLI_ERROR_CONFIG', '--orchestrators must be an integer in [1, 50]')
    const gatewayPort = parsePort('gateway-port', args.gatewayPort)
    const dataDir = resolve(args.dataDir)
    const controller = new AbortController()
    const say = (line: string): void => { process.stdout.write(`${line}\n`) }
    const onSignal = (): void => { controller.abort() }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    say(`starting a local Shoal mesh in ${dataDir} (logs: ${dataDir}/*.log)`)
    let mesh
    try {
      mesh = await startProcessMesh({
        dataDir,
        orchestrators: args.orchestrators,
        models: () => testnetModels(args.model, args.capacity),
        gatewayPort,
        extraArgs: { gateway: ['--default-model', `upscale=${args.model}`] },
        logLevel: args.logLevel,
        signal: controller.signal,
        onProgress: (message) => { say(`  ${message}`) }
      })
    } catch (err) {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      throw new CliError('CLI_ERROR_RUNTIME', `testnet failed to start: ${(err as Error).message}`)
    }
    say(`ready: gateway ${mesh.gateway.url} lists ${mesh.orchestrators.length} orchestrators`)
    say(`  curl ${mesh.gateway.url}/network/orchestrators`)
    say(`  curl -F prompt=upscale -F image=@photo.png ${mesh.gateway.url}/upscale   # ${args.model}, result as a data URL`)
    say('Ctrl-C stops the mesh.')
    if (!controller.signal.aborted) await new Promise(resolve => controller.signal.addEventListener('abort', resolve, { once: true }))
    say('stopping the mesh...')
    await mesh.stop()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    say('stopped.')
  }
}
