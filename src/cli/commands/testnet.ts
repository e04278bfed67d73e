import type { CommandModule } from 'yargs'
import { resolve } from 'node:path'
import { formatEther, parseEther } from 'ethers'
import { runUpscaleDemo } from '../../testnet/demo.js'
import { startTestnetChain, type TestnetChain } from '../../testnet/local-chain.js'
import { startProcessMesh, type ProcessMesh, type TestnetModelEntry } from '../../testnet/process-mesh.js'
import { createChainOperations } from '../../payments/chain/index.js'
import { loadNodeKeys } from '../../p2p/keys.js'
import { CliError } from '../errors.js'
import { parsePort } from '../options/node.js'
import { availableCpuModels } from '../../cpu-runner/index.js'
import { pipelineDefinition, type PipelineName } from '../../kernel/pipelines.js'

interface TestnetArgs {
  orchestrators: number
  gatewayPort: number
  dataDir: string
  model: string
  capacity: number
  payments: 'on' | 'off'
  demo: boolean
  exitAfterDemo: boolean
  logLevel: string
}

/** Testnet prices (upscale's `testnetPrice`): 1 gwei per pixel; a 128x96 upscale costs about 12,000 gwei, paid in tickets of 10,000 gwei EV. */
export const TESTNET_PRICE_WEI_PER_PIXEL = pipelineDefinition('upscale').testnetPrice as string
export const TESTNET_TICKET_EV_WEI = '10000000000000'
/** A fixed gas price for face values: the local chain's base fee falls towards zero between blocks. */
export const TESTNET_GAS_PRICE_WEI = '1000000000'

/**
 * What each testnet orchestrator serves: the chosen ESRGAN upscaler, warm, plus one model
 * of every other CPU pipeline whose packages and binaries are installed here (see
 * `npm run install:extras`), started on first use.
 */
export function testnetModels (model: string, capacity: number): TestnetModelEntry[] {
  const entries: TestnetModelEntry[] = [{ pipeline: 'upscale', model_id: model, warm: true, capacity, price_per_unit: TESTNET_PRICE_WEI_PER_PIXEL, pixels_per_unit: '1' }]
  for (const m of availableCpuModels()) {
    if (m.pipeline === 'upscale' || m.pipeline === '*') continue
    // per unit of the pipeline, chosen in its definition so a typical job costs about one ticket
    const price = pipelineDefinition(m.pipeline).testnetPrice
    if (price === undefined) continue
    entries.push({ pipeline: m.pipeline, model_id: m.modelId, warm: false, capacity, price_per_unit: price, pixels_per_unit: '1' })
  }
  return entries
}

export const testnetCommand: CommandModule<object, TestnetArgs> = {
  command: 'testnet',
  describe: 'start a local mesh with real inference and real payments: a local chain, a bootstrap, N orchestrators with CPU runners and a gateway, each its own process; Ctrl-C stops it',
  builder: (y) => y
    .option('orchestrators', { type: 'number', default: 2, describe: 'how many orchestrators' })
    .option('gateway-port', { type: 'number', default: 8935, describe: 'the gateway\'s HTTP port (0 picks one)' })
    .option('data-dir', { type: 'string', default: '.shoal/testnet', describe: 'base data directory; each node gets a folder and a log file in it' })
    .option('model', { type: 'string', default: 'upscalerjs/esrgan-slim-x2', describe: 'the upscale model every orchestrator serves' })
    .option('capacity', { type: 'number', default: 1, describe: 'concurrent jobs per orchestrator' })
    .option('payments', { choices: ['on', 'off'] as const, default: 'on' as const, describe: 'run a local chain (anvil) with the TicketBroker and pay for every job' })
    .option('demo', { type: 'boolean', default: true, describe: 'once ready, send a real upscale through the gateway and write the result to a file' })
    .option('exit-after-demo', { type: 'boolean', default: false, describe: 'stop the mesh after the demo (for scripts and CI)' })
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
    let chain: TestnetChain | undefined
    let mesh: ProcessMesh | undefined
    const stopAll = async (): Promise<void> => {
      await mesh?.stop()
      await chain?.stop()
    }
    try {
      if (args.payments === 'on') {
        chain = await startTestnetChain({ signal: controller.signal })
        say(`  local chain ${chain.rpcUrl} (anvil, chain id ${chain.chain.chainId.toString()}), TicketBroker at ${chain.brokerAddress}`)
      }
      const models = testnetModels(args.model, args.capacity)
      mesh = await startProcessMesh({
        dataDir,
        orchestrators: args.orchestrators,
        models: () => models,
        gatewayPort,
        logLevel: args.logLevel,
        signal: controller.signal,
        ...(chain === undefined ? {} : { payments: { chain, depositWei: parseEther('10'), reserveWei: parseEther('10') } }),
        extraArgs: {
          gateway: models.flatMap(m => ['--default-model', `${m.pipeline}=${m.model_id}`]),
          orchestrator: () => chain === undefined ? [] : ['--ticket-ev', TESTNET_TICKET_EV_WEI, '--gas-price', TESTNET_GAS_PRICE_WEI]
        },
        onProgress: (message) => { say(`  ${message}`) }
      })
      say(`  serving ${models.map(m => `${m.pipeline} (${m.model_id})`).join(', ')}`)
      say(`ready: gateway ${mesh.gateway.url} lists ${mesh.orchestrators.length} orchestrators${chain === undefined ? ' (payments off)' : ', payments on'}`)
      if (args.demo) {
        const demo = await runUpscaleDemo(mesh.gateway.url, dataDir, { signal: controller.signal })
        say(`demo: upscaled ${demo.input.width}x${demo.input.height} -> ${demo.output.width}x${demo.output.height} in ${demo.ms.toFixed(0)} ms on ${demo.orchestrator}`)
        say(`  input:  ${demo.inputPath}`)
        say(`  result: ${demo.outputPath}`)
        if (chain !== undefined) {
          const gatewayKeys = await loadNodeKeys(`${dataDir}/gateway`)
          const status = await createChainOperations({ provider: chain.provider, broker: chain.brokerAddress, privateKey: gatewayKeys.ethereum.privateKey }).status()
          say(`  gateway on-chain: deposit ${formatEther(status.deposit)} ETH, reserve ${formatEther(status.reserve.funds)} ETH (tickets are redeemed by orchestrators when they win)`)
        }
      }
      say('try it:')
      say(`  curl ${mesh.gateway.url}/network/orchestrators`)
      say(`  curl -F prompt=upscale -F image=@${dataDir}/demo-input.png ${mesh.gateway.url}/upscale -o result.json`)
      say(`  curl ${mesh.gateway.url}/metrics`)
      if (args.exitAfterDemo) controller.abort()
      else say('Ctrl-C stops the mesh.')
      if (!controller.signal.aborted) await new Promise(resolve => controller.signal.addEventListener('abort', resolve, { once: true }))
      say('stopping the mesh...')
      await stopAll()
      say('stopped.')
    } catch (err) {
      await stopAll()
      throw new CliError('CLI_ERROR_RUNTIME', `testnet failed: ${(err as Error).message}`)
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
}
