import type { CommandModule } from 'yargs'
import { createServer } from 'node:net'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { formatEther, parseEther } from 'ethers'
import { pipelineRequests, runPipelineDemos, runUpscaleDemo, writeDemoInputs } from '../../testnet/demo.js'
import { liveTryCommands } from '../../testnet/live-demo.js'
import { startTestnetChain, type TestnetChain } from '../../testnet/local-chain.js'
import { startProcessMesh, type TestnetModelEntry } from '../../testnet/process-mesh.js'
import { planTestnetPipelines, type ServedPipeline } from '../../testnet/pipelines.js'
import { createChainOperations } from '../../payments/chain/index.js'
import { loadNodeKeys } from '../../p2p/keys.js'
import { extraPackageDir } from '../../cpu-runner/models/extras.js'
import { runCapabilityDemo, testnetCapabilityCurl, TESTNET_CAPABILITY, writeTestnetCapabilities } from '../../testnet/custom.js'
import { CliError } from '../errors.js'
import { parsePort } from '../options/node.js'
import { commandSummary } from './index.js'
import { pipelineDefinition } from '../../kernel/pipelines.js'
import { loadScenario } from '../../testnet/scenario/schema.js'
import { runScenario, scenarioSupport } from '../../testnet/scenario/run.js'
import { startEmulatedMesh } from '../../testnet/emulation/mesh.js'
import { labPayments } from '../../testnet/emulation/lab-chain.js'
import { ScenarioError } from '../../testnet/scenario/errors.js'

interface TestnetArgs {
  orchestrators: number
  gatewayPort: number
  dataDir: string
  model: string
  llmModel?: string
  capacity: number
  payments: 'on' | 'off'
  demo: boolean
  exitAfterDemo: boolean
  logLevel: string
  scenario?: string
  reportDir?: string
  hosts: 'loopback' | 'netns'
}

/** What the command uses of a running mesh, on loopback or on emulated hosts. */
interface RunningMesh { gateway: { url: string }, orchestrators: readonly unknown[], stop: () => Promise<void> }

/** Testnet prices (upscale's `testnetPrice`): 1 gwei per pixel; a 128x96 upscale costs about 12,000 gwei, paid in tickets of 10,000 gwei EV. */
export const TESTNET_PRICE_WEI_PER_PIXEL = pipelineDefinition('upscale').testnetPrice as string
export const TESTNET_TICKET_EV_WEI = '10000000000000'
/** A fixed gas price for face values: the local chain's base fee falls towards zero between blocks. */
export const TESTNET_GAS_PRICE_WEI = '1000000000'

/**
 * What each testnet orchestrator serves: the chosen ESRGAN upscaler, warm, plus the CPU
 * model of every other pipeline that runs here, started on first use.
 */
export function testnetModels (served: ServedPipeline[], capacity: number): TestnetModelEntry[] {
  return served.map(s => ({
    pipeline: s.pipeline,
    model_id: s.modelId,
    warm: s.pipeline === 'upscale',
    capacity,
    // per unit of the pipeline, chosen in its definition so a typical job costs about one ticket
    price_per_unit: pipelineDefinition(s.pipeline).testnetPrice ?? TESTNET_PRICE_WEI_PER_PIXEL,
    pixels_per_unit: '1'
  }))
}

/** The gateway's aliases: the model id a Livepeer client sends by default, served by the testnet's model. */
export function testnetAliases (served: ServedPipeline[]): string[] {
  return served.filter(s => s.clientDefault !== '' && s.clientDefault !== s.modelId).map(s => `${s.pipeline}:${s.clientDefault}=${s.modelId}`)
}

/** Refuses a taken gateway port now, before anything starts (the gateway would fail last). */
async function checkPortFree (port: number): Promise<void> {
  if (port === 0) return
  await new Promise<void>((resolve, reject) => {
    const server = createServer()
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE'
        ? new CliError('CLI_ERROR_CONFIG', `port ${port} is already in use (another gateway or testnet?): stop it or choose another with --gateway-port`)
        : err)
    })
    server.listen(port, '127.0.0.1', () => { server.close(() => { resolve() }) })
  })
}

/**
 * One testnet per data directory: a second one would share its keys, chain files and
 * logs. The lock holds the running testnet's pid; a stale one (its process gone) is taken over.
 */
async function lockDataDir (dataDir: string): Promise<() => Promise<void>> {
  const lock = join(dataDir, 'testnet.pid')
  const held = Number((await readFile(lock, 'utf8').catch(() => '')).trim())
  if (Number.isInteger(held) && held > 0 && held !== process.pid) {
    let alive = true
    try { process.kill(held, 0) } catch (err) { alive = (err as NodeJS.ErrnoException).code === 'EPERM' }
    if (alive) throw new CliError('CLI_ERROR_CONFIG', `a testnet is already running in ${dataDir} (pid ${held}): stop it with Ctrl-C, or give another --data-dir`)
  }
  await writeFile(lock, `${process.pid}\n`, { mode: 0o600 })
  return async () => { await rm(lock, { force: true }) }
}

export const testnetCommand: CommandModule<object, TestnetArgs> = {
  ...commandSummary('testnet'),
  builder: (y) => y
    .option('orchestrators', { type: 'number', default: 2, describe: 'how many orchestrators' })
    .option('gateway-port', { type: 'number', default: 8935, describe: 'the gateway\'s HTTP port (0 picks one)' })
    .option('data-dir', { type: 'string', default: '.shoal/testnet', describe: 'base data directory; each node gets a folder and a log file in it, the chain chain.log' })
    .option('model', { type: 'string', default: 'upscalerjs/esrgan-slim-x2', describe: 'the upscale model every orchestrator serves' })
    .option('llm-model', { type: 'string', describe: 'a GGUF file for the llm pipeline (default: a tiny llama with random weights, written to the data directory)' })
    .option('capacity', { type: 'number', default: 1, describe: 'concurrent jobs per orchestrator and model' })
    .option('payments', { choices: ['on', 'off'] as const, default: 'on' as const, describe: 'run a local chain (anvil) with the TicketBroker and pay for every job' })
    .option('demo', { type: 'boolean', default: true, describe: 'once ready, send a real request to every pipeline served (writing the upscaled image to a file)' })
    .option('exit-after-demo', { type: 'boolean', default: false, describe: 'stop the mesh after the demo (for scripts and CI)' })
    .option('log-level', { type: 'string', default: 'info', describe: 'log level of the nodes (their logs go to files in the data directory)' })
    .option('hosts', { choices: ['loopback', 'netns'] as const, default: 'loopback' as const, describe: 'where the nodes run: all on 127.0.0.1, or each in its own network namespace with its own address (root; the gateway\'s API is still on the host\'s 127.0.0.1)' })
    .option('scenario', { type: 'string', describe: 'run a scenario file (YAML or JSON: nodes, load, timed events) on emulated hosts, one network namespace per node (root), write its report and exit; see scenarios/' })
    .option('report-dir', { type: 'string', describe: 'where a scenario writes report.json and report.html [default: <data-dir>/report]' }) as never,
  handler: async (args) => {
    if (args.scenario !== undefined) {
      await runScenarioCommand(args)
      return
    }
    if (!Number.isInteger(args.orchestrators) || args.orchestrators < 1 || args.orchestrators > 50) throw new CliError('CLI_ERROR_CONFIG', '--orchestrators must be an integer in [1, 50]')
    if (!Number.isInteger(args.capacity) || args.capacity < 1) throw new CliError('CLI_ERROR_CONFIG', '--capacity must be a positive integer')
    const gatewayPort = parsePort('gateway-port', args.gatewayPort)
    const dataDir = resolve(args.dataDir)
    const say = (line: string): void => { process.stdout.write(`${line}\n`) }
    await mkdir(dataDir, { recursive: true, mode: 0o700 })
    await checkPortFree(gatewayPort)
    const unlock = await lockDataDir(dataDir)

    const controller = new AbortController()
    let signals = 0
    const onSignal = (): void => {
      // the nodes and the chain run in process groups of their own: the terminal's Ctrl-C
      // reaches only this process, which stops them in order; a second one exits now
      if (++signals > 1) {
        say('stopping now (the nodes stop by themselves when this process is gone)')
        process.exit(130)
      }
      controller.abort()
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    say(`starting a local Shoal mesh in ${dataDir} (logs: ${dataDir}/*.log)`)
    // the chain the mesh pays on; on loopback this command's own (`hostChain`), on
    // emulated hosts the mesh's, which it runs in the lab and stops
    let chain: TestnetChain | undefined
    let hostChain: TestnetChain | undefined
    let mesh: RunningMesh | undefined
    // the gateway first, then the orchestrators and the bootstrap, the chain last: nobody
    // loses what it depends on while it is still stopping
    const stopAll = async (): Promise<void> => {
      await mesh?.stop()
      await hostChain?.stop()
    }
    const sayChain = (c: TestnetChain, where: string): void => { say(`  local chain ${where} (anvil, chain id ${c.chain.chainId.toString()}, log chain.log), TicketBroker at ${c.brokerAddress}`) }
    try {
      const plan = await planTestnetPipelines({ dataDir, upscaleModel: args.model, ...(args.llmModel !== undefined ? { llmModelPath: args.llmModel } : {}) })
      if (args.payments === 'on' && args.hosts === 'loopback') {
        chain = hostChain = await startTestnetChain({ logFile: join(dataDir, 'chain.log'), detached: true })
        sayChain(chain, chain.rpcUrl)
      }
      controller.signal.throwIfAborted()
      const models = testnetModels(plan.served, args.capacity)
      const capabilities = await writeTestnetCapabilities(dataDir)
      if (args.hosts === 'netns') {
        const support = await scenarioSupport()
        if (!support.ok) throw new CliError('CLI_ERROR_CONFIG', `--hosts netns: ${support.reason}`)
        const emulated = await startEmulatedMesh({
          dataDir,
          nodes: [
            { name: 'bootstrap', role: 'bootstrap' },
            { name: 'gateway', role: 'gateway' },
            ...Array.from({ length: args.orchestrators }, (_, i) => ({ name: `orchestrator-${i}`, role: 'orchestrator' as const, models }))
          ],
          // each orchestrator runs its own CPU runners, as on loopback
          runners: 'per-node',
          gatewayPort,
          logLevel: args.logLevel,
          signal: controller.signal,
          env: plan.env,
          // the chain in the lab, on a host of its own, as in scenarios (the mesh stops it)
          ...(args.payments === 'off'
            ? {}
            : {
                payments: labPayments({
                  logFile: join(dataDir, 'chain.log'),
                  signal: controller.signal,
                  onStarted: (started) => { sayChain(started, `in the lab, reached from here at ${started.rpcUrl}`) },
                  depositWei: parseEther('10'),
                  reserveWei: parseEther('10'),
                  ticketEvWei: TESTNET_TICKET_EV_WEI,
                  gasPriceWei: TESTNET_GAS_PRICE_WEI
                })
              }),
          extraArgs: { gateway: testnetAliases(plan.served).flatMap(a => ['--model-alias', a]), orchestrator: ['--custom-capabilities', capabilities] },
          onProgress: (message) => { say(`  ${message}`) }
        })
        chain = emulated.chain
        mesh = { gateway: { url: emulated.gatewayUrl }, orchestrators: [...emulated.nodes.values()].filter(n => n.spec.role === 'orchestrator'), stop: emulated.stop }
      } else {
        mesh = await startProcessMesh({
          dataDir,
          orchestrators: args.orchestrators,
          models: () => models,
          gatewayPort,
          logLevel: args.logLevel,
          signal: controller.signal,
          env: plan.env,
          ...(chain === undefined ? {} : { payments: { chain, depositWei: parseEther('10'), reserveWei: parseEther('10') } }),
          extraArgs: {
            gateway: testnetAliases(plan.served).flatMap(a => ['--model-alias', a]),
            orchestrator: () => ['--custom-capabilities', capabilities, ...(chain === undefined ? [] : ['--ticket-ev', TESTNET_TICKET_EV_WEI, '--gas-price', TESTNET_GAS_PRICE_WEI])]
          },
          onProgress: (message) => { say(`  ${message}`) }
        })
      }
      say('pipelines on CPU (what a request with no model_id, or with the Livepeer default, runs):')
      for (const s of plan.served) say(`  ${s.pipeline.padEnd(19)} ${s.modelId.padEnd(37)} ${s.clientDefault === '' ? 'on /live/video-to-video/{stream}/...' : `for ${s.clientDefault}`}`)
      const llm = plan.served.find(s => s.pipeline === 'llm')
      if (llm !== undefined) say(`  (llm: ${llm.description})`)
      say(`custom capability: ${TESTNET_CAPABILITY} (docker/custom-example as a process, billed per ms of compute; GET /capabilities)`)
      if (plan.notServed.length > 0) {
        say('not served here:')
        for (const n of plan.notServed) say(`  ${n.pipeline.padEnd(19)} ${n.reason}`)
      }
      // the demo inputs (and the curl examples' files) exist before `ready:`: a script may use them at once
      const portrait = extraPackageDir('@vladmandic/human')
      const inputs = await writeDemoInputs(dataDir, portrait === null ? null : join(portrait, 'assets', 'screenshot-facedetect.jpg'))
      say(`ready: gateway ${mesh.gateway.url} lists ${mesh.orchestrators.length} orchestrators${chain === undefined ? ' (payments off)' : ', payments on'}`)

      const requests = pipelineRequests(mesh.gateway.url, inputs)
      if (args.demo) {
        const demo = await runUpscaleDemo(mesh.gateway.url, dataDir, { signal: controller.signal })
        say(`demo: upscaled ${demo.input.width}x${demo.input.height} -> ${demo.output.width}x${demo.output.height} in ${demo.ms.toFixed(0)} ms on ${demo.orchestrator}`)
        say(`  input:  ${demo.inputPath}`)
        say(`  result: ${demo.outputPath}`)
        const others = plan.served.filter(s => s.pipeline !== 'upscale').flatMap(s => requests[s.pipeline] ?? [])
        if (others.length > 0) {
          say('demo: one request to each other pipeline (the first starts its runner)...')
          for (const r of await runPipelineDemos(mesh.gateway.url, others, { signal: controller.signal })) {
            say(`  ${r.pipeline.padEnd(19)} ${r.status === 0 ? 'failed' : String(r.status)} in ${r.ms.toFixed(0)} ms${r.model === null ? '' : ` on ${r.model}`}: ${r.summary}`)
          }
        }
        say(`  custom/${TESTNET_CAPABILITY} ${await runCapabilityDemo(mesh.gateway.url, join(dataDir, 'demo-input.png'), { signal: controller.signal })}`)
        if (chain !== undefined) {
          const gatewayKeys = await loadNodeKeys(`${dataDir}/gateway`)
          const status = await createChainOperations({ provider: chain.provider, broker: chain.brokerAddress, privateKey: gatewayKeys.ethereum.privateKey }).status()
          say(`  gateway on-chain: deposit ${formatEther(status.deposit)} ETH, reserve ${formatEther(status.reserve.funds)} ETH (tickets are redeemed by orchestrators when they win)`)
        }
      }
      say('try it:')
      say(`  curl ${mesh.gateway.url}/network/orchestrators`)
      for (const s of plan.served) {
        const request = requests[s.pipeline]
        if (request !== undefined) say(`  ${request.curl}`)
      }
      say(`  curl ${mesh.gateway.url}/capabilities`)
      say(`  ${testnetCapabilityCurl(mesh.gateway.url, join(dataDir, 'demo-input.png'))}`)
      if (plan.served.some(s => s.pipeline === 'live-video-to-video')) {
        const live = liveTryCommands(mesh.gateway.url, 'demo')
        say('  live video (person segmentation with a virtual background on every frame):')
        say(`  ${live.start}`)
        say(`  ${live.subscribe} &`)
        say(`  ${live.publish}`)
        say(`  ${live.status}; ${live.stop}`)
        say(`  or in a browser (camera over WebRTC): start the stream, then open ${live.page}`)
      }
      say(`  curl ${mesh.gateway.url}/metrics`)
      if (args.exitAfterDemo) controller.abort()
      else say('Ctrl-C stops the mesh.')
      if (!controller.signal.aborted) await new Promise(resolve => controller.signal.addEventListener('abort', resolve, { once: true }))
      say('stopping the mesh (gateway, orchestrators, bootstrap, then the chain)...')
      await stopAll()
      say('stopped.')
    } catch (err) {
      const interrupted = controller.signal.aborted
      if (interrupted) say('stopping the mesh...')
      await stopAll()
      if (interrupted) { say('stopped.'); return }
      if (err instanceof CliError) throw err
      throw new CliError('CLI_ERROR_RUNTIME', `testnet failed: ${(err as Error).message}`)
    } finally {
      await unlock()
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
}

/** `shoal testnet --scenario FILE`: the scenario's own mesh on emulated hosts, its report, then exit. */
async function runScenarioCommand (args: TestnetArgs): Promise<void> {
  const say = (line: string): void => { process.stdout.write(`${line}\n`) }
  let scenario
  try {
    scenario = await loadScenario(args.scenario as string)
  } catch (err) {
    if (err instanceof ScenarioError) throw new CliError('CLI_ERROR_CONFIG', err.message)
    throw err
  }
  const dataDir = resolve(args.dataDir)
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const unlock = await lockDataDir(dataDir)
  const controller = new AbortController()
  const onSignal = (): void => { controller.abort() }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    say(`scenario ${scenario.name}: ${scenario.nodes.length} nodes, ${scenario.load.rate} requests/s for ${scenario.load.durationS} s, ${scenario.events.length} events (logs: ${dataDir}/scenario/*.log)`)
    const result = await runScenario({
      scenario,
      dataDir: join(dataDir, 'scenario'),
      reportDir: resolve(args.reportDir ?? join(dataDir, 'report')),
      logLevel: args.logLevel,
      signal: controller.signal,
      onProgress: (line) => { say(`  ${line}`) }
    })
    const r = result.report
    say(`done in ${r.timing.totalS.toFixed(0)} s (set-up ${r.timing.setupS.toFixed(0)} s, load ${r.timing.loadS.toFixed(0)} s): ${r.totals.ok}/${r.totals.requests} ok, latency p50 ${String(r.latencyMs.p50)} ms p99 ${String(r.latencyMs.p99)} ms, ${r.orchestrators.filter(o => o.served > 0).length} orchestrators served` +
      (r.settlement === null ? '' : `, ${r.payments?.ticketsSent ?? 0} tickets sent, ${r.settlement.redemptions} redeemed on chain`))
    say(`report: ${result.htmlPath}`)
    say(`        ${result.jsonPath}`)
  } catch (err) {
    if (err instanceof CliError) throw err
    throw new CliError('CLI_ERROR_RUNTIME', `scenario failed: ${(err as Error).message}`)
  } finally {
    await unlock()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
