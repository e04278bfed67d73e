import { expect } from 'chai'
import type { Libp2p } from '@libp2p/interface'
import { createDispatcher } from '../../../src/gateway/dispatch/dispatcher.js'
import { GatewayFailureDispatchError, type AttemptOutcome } from '../../../src/gateway/dispatch/errors.js'
import { createJobPayer } from '../../../src/gateway/payments.js'
import { createAdaptiveStrategy } from '../../../src/gateway/selection/strategy.js'
import type { SelectionOutcome } from '../../../src/gateway/selection/candidate.js'
import type { InferenceJob } from '../../../src/kernel/job.js'
import { silentLogger } from '../../../src/observability/logger.js'
import { encodeQuotePayment } from '../../../src/payments/job-payment.js'
import { createPaymentSender, type Broker } from '../../../src/payments/index.js'
import { createAiClient, createAiProtocol, type AiProtocol } from '../../../src/protocols/ai/index.js'
import { candidate } from '../helpers.js'
import { bodyOf, createNode, readAll } from '../../protocols/ai/helpers.js'

const GATEWAY_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'
const job: InferenceJob = { pipeline: 'text-to-image', modelId: 'm', params: { prompt: 'x', width: 64, height: 64 }, inputs: [] }
const params = {
  recipient: '0x70997970c51812dc3a010c7d01b50e0d17dc79c8',
  faceValue: 10n ** 13n,
  winProb: 2n ** 255n,
  recipientRandHash: `0x${'ab'.repeat(32)}`,
  seed: `0x${'cd'.repeat(32)}`,
  expirationBlock: 1_000n,
  chainId: 31337n,
  broker: '0x5fbdb2315678afecb367f032d93f642f64180aa3'
}

/** A broker whose chain RPC is down: every read fails, as a dead `--rpc-url` does. */
function deadChain (): Broker {
  const down = async (): Promise<never> => { throw new Error('connect ECONNREFUSED 127.0.0.1:8545') }
  return { config: down, blockNumber: down, senderInfo: down, claimableReserve: down, isTicketUsed: down, gasPrice: down, estimateRedeemGas: down, redeemWinningTicket: down } as unknown as Broker
}

/**
 * Issue 11: when the gateway's own chain RPC fails, no orchestrator is to blame. Before,
 * every orchestrator was recorded as failed (and suspended) one after the other.
 */
describe('gateway dispatch: a failure local to the gateway counts against no orchestrator', function () {
  this.timeout(30_000)
  const orchestrators: Array<{ node: Libp2p, ai: AiProtocol, jobs: number }> = []
  let gateway: Libp2p

  before(async () => {
    for (let i = 0; i < 2; i++) {
      const node = await createNode()
      const entry = { node, ai: undefined as unknown as AiProtocol, jobs: 0 }
      entry.ai = createAiProtocol({
        registrar: node,
        quote: () => ({ prices: [{ pipeline: 'text-to-image', modelId: 'm', pricePerUnit: '1', pixelsPerUnit: '1' }], payment: encodeQuotePayment(params) }),
        executor: { execute: async () => { entry.jobs++; return { status: 200, contentType: 'application/json', body: bodyOf('{}') } } }
      })
      await entry.ai.start()
      orchestrators.push(entry)
    }
    gateway = await createNode()
    for (const o of orchestrators) await gateway.dial(o.node.getMultiaddrs()[0])
  })
  after(async () => {
    await gateway.stop()
    for (const o of orchestrators) { await o.ai.stop(); await o.node.stop() }
  })

  it('stops at the first attempt with GATEWAY_FAILURE (503), records nothing against the orchestrator, and serves once the chain is back', async () => {
    const client = createAiClient({ dialProtocol: gateway.dialProtocol.bind(gateway) })
    let broker = deadChain()
    const sender = createPaymentSender({ privateKey: GATEWAY_KEY, broker: new Proxy({} as Broker, { get: (_t, key) => (broker as unknown as Record<string | symbol, unknown>)[key] }) })
    const payer = createJobPayer({ client, sender, identity: { address: sender.address, binding: `0x${'11'.repeat(65)}` }, logger: silentLogger() })
    const byId = new Map(orchestrators.map(o => [o.node.peerId.toString(), o.node.peerId]))
    const recorded: Array<[string, SelectionOutcome['kind']]> = []
    const attempts: Array<[string, AttemptOutcome]> = []
    const strategy = createAdaptiveStrategy()
    const dispatcher = createDispatcher({
      candidates: () => [...byId.keys()].map(id => candidate(id, { pipeline: 'text-to-image', modelId: 'm' })),
      strategy: { ...strategy, record: (peer, model, outcome, now) => { recorded.push([peer, outcome.kind]); strategy.record(peer, model, outcome, now) } },
      send: async (peerId, j, options) => await payer.runJob(byId.get(peerId)!, j, { signal: options.signal, requestId: options.requestId }),
      onAttempt: (peer, _model, outcome) => { attempts.push([peer, outcome]) },
      logger: silentLogger(),
      metrics: null
    })

    const err = await dispatcher.dispatch(job, { signal: new AbortController().signal, requestId: 'chain-down' }).catch(e => e)
    expect(err).to.be.instanceOf(GatewayFailureDispatchError)
    expect(err.attempts).to.have.length(1)
    expect(err.attempts[0]).to.include({ outcome: 'local', errorCode: 'JOB_ERROR_GATEWAY_FAILURE' })
    expect(attempts.map(([, o]) => o)).to.deep.equal(['local'])
    // nothing learned about the orchestrator: no failure, no suspension
    expect(recorded).to.deep.equal([])
    expect(orchestrators.reduce((n, o) => n + o.jobs, 0)).to.equal(0)
    const { toApiError } = await import('../../../src/gateway/http/to-api-error.js')
    expect(toApiError(err, 1024)).to.include({ statusCode: 503, code: 'GATEWAY_ERROR_GATEWAY_FAILURE' })

    // the chain answers again: the same orchestrators serve at once (none was suspended)
    broker = {
      config: async () => ({ chainId: params.chainId, broker: params.broker, unlockPeriod: 100n, redeemWindow: 100n }),
      blockNumber: async () => 10n,
      senderInfo: async () => ({ deposit: 10n ** 18n, reserve: 10n ** 18n, withdrawRound: 0n, unlockBlock: 0n }),
      claimableReserve: async () => 10n ** 18n,
      isTicketUsed: async () => false,
      gasPrice: async () => 1n,
      estimateRedeemGas: async () => 1n
    } as unknown as Broker
    const ok = await dispatcher.dispatch(job, { signal: new AbortController().signal, requestId: 'chain-up' })
    await readAll(ok.response.body)
    expect(ok.attempts.map(a => a.outcome)).to.deep.equal(['success'])
    expect(recorded.map(([, kind]) => kind)).to.deep.equal(['success'])
    await client.stop()
  })
})
