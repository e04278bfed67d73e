import { expect } from 'chai'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RoleStartError } from '../../../src/roles/errors.js'
import { checkGatewayExposure, isLoopbackHost, startGateway } from '../../../src/roles/gateway.js'
import { silentLogger } from '../../../src/observability/logger.js'

const paying = { enabled: true, rpcUrl: 'http://127.0.0.1:1', brokerAddress: '0x0000000000000000000000000000000000000000' }
const free = { ...paying, enabled: false }

describe('gateway: a paying gateway is not left open by accident', () => {
  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.8.9.10', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).to.equal(true)
    for (const h of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'example.com', '::ffff:10.0.0.1']) expect(isLoopbackHost(h), h).to.equal(false)
  })

  it('refuses payments on, beyond loopback, without API keys, unless --allow-open-gateway', () => {
    expect(() => { checkGatewayExposure({ http: { host: '0.0.0.0' }, payments: paying }) }).to.throw(RoleStartError, /--allow-open-gateway/)
    expect(() => { checkGatewayExposure({ http: { host: '10.1.2.3', apiKeys: [] }, payments: paying }) }).to.throw(RoleStartError, /without API keys/)
    // each of these is fine
    checkGatewayExposure({ http: { host: '0.0.0.0' }, payments: paying, allowOpenGateway: true })
    checkGatewayExposure({ http: { host: '0.0.0.0', apiKeys: ['k'] }, payments: paying })
    checkGatewayExposure({ http: { host: '127.0.0.1' }, payments: paying })
    checkGatewayExposure({ http: {}, payments: paying })
    checkGatewayExposure({ http: { host: '0.0.0.0' }, payments: free })
  })

  it('startGateway fails with the clear error before opening anything', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'shoal-open-gw-'))
    try {
      let error: unknown
      try {
        await startGateway({
          node: { role: 'gateway', dataDir: join(dataDir, 'gw'), listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], bootstrap: [], addressScope: 'all', logLevel: 'silent' } as never,
          http: { host: '0.0.0.0', port: 0 },
          dispatch: {},
          dhtLookupTimeoutMs: 100,
          payments: paying
        }, silentLogger())
      } catch (err) { error = err }
      expect(error).to.be.instanceOf(RoleStartError)
      expect((error as RoleStartError).code).to.equal('ROLE_ERROR_CONFIG')
      expect((error as Error).message).to.match(/refusing to start: a gateway with payments on would listen on 0\.0\.0\.0 without API keys/)
      // nothing was created: not even the data directory
      expect(await readdir(dataDir)).to.deep.equal([])
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})
