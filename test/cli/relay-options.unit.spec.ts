import { expect } from 'chai'
import { getShoalCli } from '../../src/cli/main.js'
import { DEFAULT_LISTEN, nodeFlags, parseNodeArgs, withConfigFile } from '../../src/cli/options/node.js'
import { DEFAULT_RELAY_SERVER } from '../../src/p2p/relay.js'

async function bootstrapArgs (argv: string[]): Promise<Record<string, unknown>> {
  let parsed: Record<string, unknown> = {}
  await getShoalCli(argv).command({
    command: 'probe-bootstrap',
    builder: (y) => y.options(withConfigFile(nodeFlags('bootstrap'))),
    handler: (args) => { parsed = args as Record<string, unknown> }
  }).parseAsync()
  return parsed
}

describe('cli/options: relay and transport flags', () => {
  it('listens on TCP and QUIC by default, dials TCP first, relays nothing', async () => {
    const node = parseNodeArgs('bootstrap', await bootstrapArgs(['probe-bootstrap']))
    expect(node.listen).to.deep.equal(DEFAULT_LISTEN.bootstrap)
    expect(node.listen).to.deep.equal(['/ip4/0.0.0.0/tcp/4001', '/ip4/0.0.0.0/udp/4001/quic-v1'])
    expect(node.preferredTransport).to.equal('tcp')
    expect(node.relayServer).to.equal(false)
  })

  it('--relay-server takes its limits in seconds and MiB; defaults are sized for jobs, not libp2p\'s 2 minutes and 128 KiB', async () => {
    const defaults = parseNodeArgs('bootstrap', await bootstrapArgs(['probe-bootstrap', '--relay-server']))
    expect(defaults.relayServer).to.deep.equal(DEFAULT_RELAY_SERVER)
    expect(DEFAULT_RELAY_SERVER.durationLimitMs).to.be.greaterThan(2 * 60_000)
    expect(DEFAULT_RELAY_SERVER.dataLimitBytes > 128n * 1024n).to.equal(true)
    const set = parseNodeArgs('bootstrap', await bootstrapArgs(['probe-bootstrap', '--relay-server', '--relay-max-reservations', '10', '--relay-duration-limit', '900', '--relay-data-limit', '512', '--prefer-transport', 'quic']))
    expect(set.relayServer).to.deep.include({ maxReservations: 10, durationLimitMs: 900_000, dataLimitBytes: 512n * 1024n * 1024n })
    expect(set.preferredTransport).to.equal('quic')
    expect(() => parseNodeArgs('bootstrap', { relayServer: true, relayDataLimit: 0 })).to.throw(/--relay-data-limit/)
  })

  it('accepts /p2p-circuit listen addresses (a node behind NAT)', async () => {
    const relay = '/ip4/203.0.113.7/tcp/4001/p2p/12D3KooWGn7hRdHEs9choQHyEjBNm6vpXg1XBjwXSj51UVGSuNY1/p2p-circuit'
    const node = parseNodeArgs('orchestrator', await bootstrapArgs(['probe-bootstrap', '--listen', '/ip4/0.0.0.0/tcp/4002', '--listen', relay]))
    expect(node.listen).to.deep.equal(['/ip4/0.0.0.0/tcp/4002', relay])
  })
})
