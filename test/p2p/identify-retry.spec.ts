import { expect } from 'chai'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createShoalNode, type ShoalLibp2p } from '../../src/p2p/node.js'
import { startIdentifyRetry } from '../../src/p2p/identify-retry.js'
import { silentLogger } from '../../src/observability/logger.js'

const IDENTIFY = '/ipfs/id/1.0.0'
const TOPIC = 'identify-retry-test'

async function waitFor (condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

async function node (): Promise<ShoalLibp2p> {
  const n = await createShoalNode({ role: 'orchestrator', privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  await n.start()
  n.services.pubsub.subscribe(TOPIC)
  return n
}

describe('p2p/identify-retry: a connection identify failed on starts gossiping', function () {
  this.timeout(30_000)
  let local: ShoalLibp2p
  let remote: ShoalLibp2p
  let retry: { stop: () => void } | undefined

  afterEach(async () => {
    retry?.stop()
    await Promise.all([local?.stop(), remote?.stop()])
  })

  it('identifies the connection again and gossipsub learns the peer; without the retry it never does', async () => {
    local = await node()
    remote = await node()
    // neither answers identify when the connection opens (as starved peers would not in time);
    // one side identified is enough for gossip to start from that side
    expect(remote.getProtocols(), 'identify is served by default').to.include(IDENTIFY)
    await Promise.all([remote.unhandle(IDENTIFY), local.unhandle(IDENTIFY)])
    await local.dial(remote.getMultiaddrs()[0])
    // both answer identify again, but nothing runs it a second time
    await new Promise(resolve => setTimeout(resolve, 1_500))
    for (const n of [local, remote]) {
      const identifyService = n.services.identify as unknown as { start: () => Promise<void> | void, stop: () => Promise<void> | void }
      await identifyService.stop()
      await identifyService.start()
    }
    await new Promise(resolve => setTimeout(resolve, 1_000))
    const knows = (): boolean => local.services.pubsub.getPeers().some(p => p.equals(remote.peerId))
    expect(knows(), 'local gossipsub does not know the peer identify failed on').to.equal(false)

    retry = startIdentifyRetry(local, silentLogger(), { intervalMs: 200, graceMs: 0 })
    await waitFor(knows, 10_000, 'gossipsub to learn the peer')
    await waitFor(() => local.services.pubsub.getSubscribers(TOPIC).some(p => p.equals(remote.peerId)), 10_000, 'the remote topic subscription')
  })
})
