import { expect } from 'chai'
import { parseNodeArgs } from '../../src/cli/options/node.js'
import { parseGatewayArgs } from '../../src/cli/options/gateway.js'
import { parsePaymentArgs } from '../../src/cli/options/payments.js'
import { getShoalCli } from '../../src/cli/main.js'
import { gatewayFlags } from '../../src/cli/options/gateway.js'
import { nodeFlags, withConfigFile } from '../../src/cli/options/node.js'
import { paymentFlags } from '../../src/cli/options/payments.js'
import { orchestratorFlags, parseOrchestratorArgs } from '../../src/cli/options/orchestrator.js'
import { DEFAULT_QUOTE_TIMEOUT_MS } from '../../src/protocols/ai/constants.js'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Parses a gateway command line the way `shoal gateway` does, without running it. */
async function gatewayArgs (argv: string[]): Promise<Record<string, unknown>> {
  let parsed: Record<string, unknown> = {}
  await getShoalCli(argv).command({
    command: 'probe-gateway',
    builder: (y) => y.options(withConfigFile({ ...nodeFlags('gateway'), ...gatewayFlags(), ...paymentFlags('gateway') })),
    handler: (args) => { parsed = args as Record<string, unknown> }
  }).parseAsync()
  return parsed
}

/** Parses an orchestrator command line the way `shoal orchestrator` does, without running it. */
async function orchestratorArgs (argv: string[]): Promise<Record<string, unknown>> {
  let parsed: Record<string, unknown> = {}
  await getShoalCli(argv).command({
    command: 'probe-orchestrator',
    builder: (y) => y.options(withConfigFile({ ...nodeFlags('orchestrator'), ...orchestratorFlags(), ...paymentFlags('orchestrator') })),
    handler: (args) => { parsed = args as Record<string, unknown> }
  }).parseAsync()
  return parsed
}

describe('cli/options: flags, SHOAL_* environment and config file map to options', () => {
  // yargs holds on to the process.env object: change its keys, never replace it
  afterEach(() => {
    for (const key of Object.keys(process.env)) if (key.startsWith('SHOAL_')) Reflect.deleteProperty(process.env, key)
  })

  it('pins the node and gateway flag mapping', async () => {
    const args = await gatewayArgs(['probe-gateway', '--data-dir', '/tmp/g', '--listen', '/ip4/127.0.0.1/tcp/5001', '--bootstrap', '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWGn7hRdHEs9choQHyEjBNm6vpXg1XBjwXSj51UVGSuNY1', '--http-port', '9000', '--api-key', 'a,b', '--max-price', '10/1', '--default-model', 'upscale=m', '--payments', 'off'])
    const node = parseNodeArgs('gateway', args)
    expect(node).to.include({ role: 'gateway', dataDir: '/tmp/g', addressScope: 'all', logLevel: 'info' })
    expect(node.listen).to.deep.equal(['/ip4/127.0.0.1/tcp/5001'])
    expect(node.bootstrap).to.have.length(1)
    const gateway = parseGatewayArgs(args)
    expect(gateway.http).to.deep.include({ host: '127.0.0.1', port: 9000, apiKeys: ['a', 'b'], defaultModels: { upscale: 'm' } })
    expect(gateway.dispatch.maxPrice).to.deep.equal({ global: { pricePerUnit: 10n, pixelsPerUnit: 1n } })
    expect(parsePaymentArgs(args).enabled).to.equal(false)
  })

  it('maps the dispatch tuning flags (deadlines, hedging, exploration, queue, price ceiling), leaving unset ones to the defaults', async () => {
    const args = await gatewayArgs(['probe-gateway', '--payments', 'off', '--max-price-multiple', '5', '--hedge', 'llm,upscale', '--exploration-share', '0.05',
      '--busy-queue-length', '10', '--deadline-multiple', '4', '--first-byte-deadline-floor', '1000', '--first-byte-deadline-cap', '60000',
      '--unmeasured-first-byte', 'llm=5000', '--total-deadline-floor', '120000', '--total-deadline-cap', '900000'])
    expect(parseGatewayArgs(args).dispatch).to.deep.include({
      maxPriceMultiple: 5, hedgePipelines: ['llm', 'upscale'], explorationShare: 0.05, busyQueueLength: 10, deadlineMultiple: 4,
      firstByteDeadlineFloorMs: 1000, firstByteDeadlineCapMs: 60_000, unmeasuredFirstByteMs: { llm: 5000 }, totalDeadlineFloorMs: 120_000, totalDeadlineCapMs: 900_000
    })
    process.env.SHOAL_MAX_PRICE_MULTIPLE = '0'
    process.env.SHOAL_HEDGE = 'none'
    const fromEnv = parseGatewayArgs(await gatewayArgs(['probe-gateway', '--payments', 'off'])).dispatch
    expect(fromEnv).to.deep.include({ maxPriceMultiple: 0, hedgePipelines: [] })
    expect(fromEnv).to.not.have.property('explorationShare')
    expect(() => parseGatewayArgs({ bodyLimit: 4096, hedge: ['nope'] })).to.throw(/--hedge/)
    expect(() => parseGatewayArgs({ bodyLimit: 4096, explorationShare: 2 })).to.throw(/--exploration-share/)
  })

  it('--model-alias from the flag, SHOAL_MODEL_ALIAS or the config file; a malformed one is a config error naming the flag', async () => {
    const alias = 'upscale:stabilityai/stable-diffusion-x4-upscaler=upscalerjs/esrgan-slim-x2'
    const expected = { upscale: { 'stabilityai/stable-diffusion-x4-upscaler': 'upscalerjs/esrgan-slim-x2' } }
    expect(parseGatewayArgs(await gatewayArgs(['probe-gateway', '--payments', 'off', '--model-alias', alias])).http.modelAliases).to.deep.equal(expected)
    process.env.SHOAL_MODEL_ALIAS = alias
    expect(parseGatewayArgs(await gatewayArgs(['probe-gateway', '--payments', 'off'])).http.modelAliases).to.deep.equal(expected)
    Reflect.deleteProperty(process.env, 'SHOAL_MODEL_ALIAS')
    const dir = await mkdtemp(join(tmpdir(), 'shoal-alias-'))
    await writeFile(join(dir, 'config.json'), JSON.stringify({ modelAlias: [alias] }))
    expect(parseGatewayArgs(await gatewayArgs(['probe-gateway', '--payments', 'off', '--config', join(dir, 'config.json')])).http.modelAliases).to.deep.equal(expected)
    expect(() => parseGatewayArgs({ bodyLimit: 4096, modelAlias: ['upscale=x'] })).to.throw(/--model-alias: "upscale=x" must be PIPELINE:ALIAS=MODEL_ID/)
  })

  it('--quote-timeout (the AI handler\'s wait for its own quote) from the flag, SHOAL_QUOTE_TIMEOUT or the config file, 2 s by default', async () => {
    const quoteOf = async (argv: string[]): Promise<number | undefined> => {
      const args = await orchestratorArgs(['probe-orchestrator', '--payments', 'off', ...argv])
      return parseOrchestratorArgs(parseNodeArgs('orchestrator', args), args).aiLimits.quoteTimeoutMs
    }
    expect(DEFAULT_QUOTE_TIMEOUT_MS).to.equal(2_000)
    expect(await quoteOf([])).to.equal(DEFAULT_QUOTE_TIMEOUT_MS)
    expect(await quoteOf(['--quote-timeout', '4000'])).to.equal(4_000)
    const dir = await mkdtemp(join(tmpdir(), 'shoal-quote-'))
    await writeFile(join(dir, 'o.json'), JSON.stringify({ quoteTimeout: 3_000 }))
    expect(await quoteOf(['--config', join(dir, 'o.json')])).to.equal(3_000)
    process.env.SHOAL_QUOTE_TIMEOUT = '3500'
    expect(await quoteOf(['--config', join(dir, 'o.json')]), 'env above the file').to.equal(3_500)
    expect(await quoteOf(['--quote-timeout', '2500']), 'the flag above env').to.equal(2_500)
    await quoteOf(['--quote-timeout', '6000']).then(() => { throw new Error('accepted a wait longer than gateways wait') }, (err: Error) => { expect(err.message).to.match(/--quote-timeout: 6000 must be at most 5000/) })
    await quoteOf(['--quote-timeout', '50']).then(() => { throw new Error('accepted 50 ms') }, (err: Error) => { expect(err.message).to.match(/--quote-timeout: 50 must be an integer >= 100/) })
  })

  it('takes SHOAL_* environment variables, and flags win over them', async () => {
    process.env.SHOAL_HTTP_PORT = '9100'
    process.env.SHOAL_LISTEN = '/ip4/127.0.0.1/tcp/6001,/ip4/127.0.0.1/tcp/6002'
    process.env.SHOAL_PAYMENTS = 'off'
    const fromEnv = await gatewayArgs(['probe-gateway'])
    expect(parseGatewayArgs(fromEnv).http.port).to.equal(9100)
    expect(parseNodeArgs('gateway', fromEnv).listen).to.deep.equal(['/ip4/127.0.0.1/tcp/6001', '/ip4/127.0.0.1/tcp/6002'])
    const flagWins = await gatewayArgs(['probe-gateway', '--http-port', '9200'])
    expect(parseGatewayArgs(flagWins).http.port).to.equal(9200)
  })

  it('reads a JSON config file below env and flags', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shoal-cfg-'))
    const file = join(dir, 'gateway.json')
    await writeFile(file, JSON.stringify({ httpPort: 9300, logLevel: 'debug', payments: 'off' }))
    const fromFile = await gatewayArgs(['probe-gateway', '--config', file])
    expect(parseGatewayArgs(fromFile).http.port).to.equal(9300)
    expect(parseNodeArgs('gateway', fromFile).logLevel).to.equal('debug')
    process.env.SHOAL_HTTP_PORT = '9400'
    expect(parseGatewayArgs(await gatewayArgs(['probe-gateway', '--config', file])).http.port).to.equal(9400)
  })

  it('validates the config file against the command\'s flags: unknown keys and wrong types are refused, naming the key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shoal-cfg-'))
    const write = async (name: string, content: string): Promise<string> => { const file = join(dir, name); await writeFile(file, content); return file }
    const typo = await gatewayArgs(['probe-gateway', '--config', await write('typo.json', JSON.stringify({ htpPort: 9300 }))]).catch(e => e)
    expect(typo).to.have.property('name', 'CliError')
    expect(typo.message).to.contain('"htpPort"').and.contain('unknown')
    const mistyped = await gatewayArgs(['probe-gateway', '--config', await write('type.json', JSON.stringify({ httpPort: 'ninety' }))]).catch(e => e)
    expect(mistyped).to.have.property('name', 'CliError')
    expect(mistyped.message).to.contain('"httpPort"')
    const choice = await gatewayArgs(['probe-gateway', '--config', await write('choice.json', JSON.stringify({ logLevel: 'loud' }))]).catch(e => e)
    expect(choice.message).to.contain('"logLevel"').and.contain('debug')
    const notJson = await gatewayArgs(['probe-gateway', '--config', await write('bad.json', '{')]).catch(e => e)
    expect(notJson).to.have.property('name', 'CliError')
    // flag names as on the command line, lists as arrays or comma-separated strings
    const ok = await gatewayArgs(['probe-gateway', '--config', await write('ok.json', JSON.stringify({ 'http-port': 9500, listen: ['/ip4/127.0.0.1/tcp/1'], apiKey: 'a,b', payments: 'off' }))])
    expect(parseGatewayArgs(ok).http).to.deep.include({ port: 9500, apiKeys: ['a', 'b'] })
  })

  it('refuses bad values and unknown flags with a CliError', async () => {
    expect(() => parseNodeArgs('gateway', { listen: ['not-a-multiaddr'] })).to.throw().with.property('name', 'CliError')
    expect(() => parseNodeArgs('gateway', { bootstrap: ['/ip4/1.2.3.4/tcp/1'] })).to.throw(/p2p/)
    expect(() => parseGatewayArgs({ bodyLimit: 10, httpPort: 1 })).to.throw(/body-limit/)
    expect(() => parsePaymentArgs({ payments: 'on' })).to.throw(/--rpc-url/)
    const err = await gatewayArgs(['probe-gateway', '--htp-port', '1']).catch(e => e)
    expect(err).to.have.property('name', 'CliError')
    expect(err.message).to.contain('--htp-port')
  })
})
