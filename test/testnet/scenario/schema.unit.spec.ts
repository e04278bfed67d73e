import { readFile } from 'node:fs/promises'
import { expect } from 'chai'
import { checkScenario, parseScenario } from '../../../src/testnet/scenario/schema.js'
import { ScenarioError } from '../../../src/testnet/scenario/errors.js'
import { tuningArgs } from '../../../src/testnet/scenario/run.js'
import { getShoalCli } from '../../../src/cli/main.js'
import { nodeFlags, parseNodeArgs, withConfigFile } from '../../../src/cli/options/node.js'
import { orchestratorFlags, parseOrchestratorArgs } from '../../../src/cli/options/orchestrator.js'

const base = (): Record<string, any> => ({
  name: 'unit',
  nodes: [
    { name: 'boot', role: 'bootstrap' },
    { name: 'gw', role: 'gateway' },
    { name: 'orch', role: 'orchestrator', count: 3, models: [{ pipeline: 'text-to-image', model: 'shoal/noop', price: 5 }] }
  ],
  load: { rate: 4, duration: 20, mix: [{ pipeline: 'text-to-image' }] },
  events: [
    { at: 10, action: 'kill', node: 'orch-2' },
    { at: 5, action: 'partition', nodes: ['orch-1'] },
    { at: 8, action: 'heal' }
  ]
})

function errorOf (doc: unknown): ScenarioError {
  try {
    checkScenario(doc, 'f.yaml')
  } catch (err) {
    expect(err).to.be.instanceOf(ScenarioError)
    return err as ScenarioError
  }
  throw new Error('the scenario was accepted')
}

describe('testnet/scenario/schema', () => {
  it('expands node groups, fills defaults and sorts events by time', () => {
    const s = checkScenario(base())
    expect(s.nodes.map(n => n.name)).to.deep.equal(['boot', 'gw', 'orch-1', 'orch-2', 'orch-3'])
    expect(s.nodes[2].models).to.deep.equal([{ pipeline: 'text-to-image', model: 'shoal/noop', price: '5', capacity: 4, warm: true }])
    expect(s.load).to.deep.include({ rate: 4, durationS: 20, timeoutMs: 30_000, maxInFlight: 512 })
    expect(s.load.mix).to.deep.equal([{ pipeline: 'text-to-image', model: 'shoal/noop', weight: 1 }])
    expect(s.events.map(e => e.action)).to.deep.equal(['partition', 'heal', 'kill'])
    expect(s).to.deep.include({ payments: false, runners: 'shared', subnet: '10.240.0', drainS: 5 })
  })

  it('lets an event name a whole group', () => {
    const doc = base()
    doc.events = [{ at: 1, action: 'partition', nodes: ['orch'] }, { at: 2, action: 'slow-link', node: 'orch-3', delayMs: 40, lossPercent: 1 }]
    const s = checkScenario(doc)
    expect(s.events[0]).to.deep.equal({ at: 1, action: 'partition', nodes: ['orch-1', 'orch-2', 'orch-3'] })
    expect(s.events[1]).to.deep.equal({ at: 2, action: 'slow-link', nodes: ['orch-3'], link: { delayMs: 40, lossPercent: 1 } })
  })

  it('names the field of a shape error, with the value given', () => {
    const doc = base()
    doc.load.rate = -1
    const err = errorOf(doc)
    expect(err.code).to.equal('SCENARIO_ERROR_SCHEMA')
    expect(err.message).to.match(/^f\.yaml: load\.rate: must be > 0 \(got -1\)$/)
    const doc2 = base()
    doc2.nodes[2].models[0].colour = 'red'
    expect(errorOf(doc2).message).to.equal('f.yaml: nodes[2].models[0].colour: is an unknown field')
    const doc3 = base()
    doc3.events[0].action = 'explode'
    expect(errorOf(doc3).message).to.match(/^f\.yaml: events\[0\]\.action: /)
  })

  it('refuses references a schema cannot check, naming the field', () => {
    const cases: Array<[(d: Record<string, any>) => void, RegExp]> = [
      [d => { d.events[0].node = 'orch-9' }, /events\[0\]\.node: no node or group named "orch-9"/],
      [d => { d.events[0].node = 'gw' }, /events\[0\]\.node: kill takes orchestrators \("gw" is the gateway\)/],
      [d => { d.events[0].at = 21 }, /events\[0\]\.at: is after the load ends/],
      [d => { d.events[2].delayMs = 5 }, /events\[2\]\.delayMs: is not a field of heal/],
      [d => { d.nodes[2].models[0].pipeline = 'text-to-pizza' }, /nodes\[2\]\.models\[0\]\.pipeline: unknown pipeline "text-to-pizza"/],
      [d => { d.load.mix[0].pipeline = 'llm' }, /load\.mix\[0\]\.pipeline: no orchestrator serves llm/],
      [d => { d.load.mix[0].pipeline = 'audio-to-text' }, /load\.mix\[0\]\.pipeline: the load generator sends/],
      [d => { d.nodes.splice(1, 1) }, /nodes: needs exactly one gateway \(has 0\)/],
      [d => { d.nodes[1].count = 2 }, /nodes\[1\]\.count: there is one gateway/],
      [d => { d.nodes[2].models = undefined }, /nodes\[2\]\.models: an orchestrator needs at least one model/],
      [d => { d.events.push({ at: 3, action: 'slow-link', node: 'orch-1' }) }, /events\[3\]: slow-link needs delayMs, rateKbit or lossPercent/],
      [d => { d.events.push({ at: 3, action: 'price', node: 'orch-1' }) }, /events\[3\]\.price: is required for price/]
    ]
    for (const [change, expected] of cases) {
      const doc = base()
      change(doc)
      expect(errorOf(doc).message, String(expected)).to.match(expected)
    }
  })

  it('reads YAML and JSON, and says when the text is neither', () => {
    const yaml = 'name: y\nnodes:\n  - {name: b, role: bootstrap}\n  - {name: g, role: gateway}\n  - {name: o, role: orchestrator, models: [{pipeline: llm, model: shoal/noop}]}\nload: {rate: 1, duration: 2, mix: [{pipeline: llm}]}\n'
    expect(parseScenario(yaml).nodes).to.have.length(3)
    expect(parseScenario(JSON.stringify(base())).nodes).to.have.length(5)
    expect(() => parseScenario('name: [unclosed', 'bad.yaml')).to.throw(ScenarioError, /^bad\.yaml: not valid YAML or JSON/)
  })

  it('reads the tuning of a large mesh, with defaults for what it leaves out', () => {
    expect(checkScenario(base()).tuning).to.deep.equal({
      announcementTtlMs: undefined,
      monitorIntervalMs: undefined,
      gossipHeartbeatMs: undefined,
      quoteTimeoutMs: undefined,
      chainTimeoutMs: 180_000,
      startConcurrency: 4,
      readyTimeoutS: 180,
      nice: { gateway: 0, orchestrator: 0, bootstrap: 0, infrastructure: 0, client: 0, startup: 0 }
    })
    const doc = base()
    doc.tuning = { announcementTtl: 120_000, monitorInterval: 15_000, nice: { gateway: -5, client: -5 } }
    expect(checkScenario(doc).tuning).to.deep.include({ announcementTtlMs: 120_000, monitorIntervalMs: 15_000, nice: { gateway: -5, orchestrator: 0, bootstrap: 0, infrastructure: 0, client: -5, startup: 0 } })
    doc.tuning = { nice: { gateway: -30 } }
    expect(errorOf(doc).message).to.match(/^f\.yaml: tuning\.nice\.gateway: must be >= -20/)
    doc.tuning = { announcementTtl: 3_600_000 }
    expect(errorOf(doc).message).to.match(/^f\.yaml: tuning\.announcementTtl: must be <= 600000/)
    doc.tuning = { quoteTimeout: 9_000 }
    expect(errorOf(doc).message).to.match(/^f\.yaml: tuning\.quoteTimeout: must be <= 5000/)
  })

  it('tuning.quoteTimeout reaches the orchestrators as --quote-timeout, which their CLI maps to the AI handler\'s quote wait', async () => {
    const doc = base()
    doc.tuning = { quoteTimeout: 4_000 }
    const args = tuningArgs(checkScenario(doc).tuning)
    expect(args.orchestrator).to.deep.equal(['--quote-timeout', '4000'])
    expect(args.bootstrap).to.deep.equal([])
    let parsed: Record<string, unknown> = {}
    await getShoalCli(['probe-orchestrator', ...args.orchestrator]).command({
      command: 'probe-orchestrator',
      builder: (y) => y.options(withConfigFile({ ...nodeFlags('orchestrator'), ...orchestratorFlags() })),
      handler: (a) => { parsed = a as Record<string, unknown> }
    }).parseAsync()
    expect(parseOrchestratorArgs(parseNodeArgs('orchestrator', parsed), parsed).aiLimits.quoteTimeoutMs).to.equal(4_000)
    expect(tuningArgs(checkScenario(base()).tuning).orchestrator, 'left out: the node\'s default').to.deep.equal([])
  })

  it('accepts the example scenarios shipped in scenarios/', async () => {
    for (const file of ['scenarios/small-partition-kill.yaml', 'scenarios/fifty-hosts.yaml']) {
      const s = parseScenario(await readFile(file, 'utf8'), file)
      expect(s.events.length, file).to.be.greaterThan(0)
    }
  })
})
