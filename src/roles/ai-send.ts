import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Registry } from 'prom-client'
import type { SendJob } from '../gateway/dispatch/index.js'
import { createJobPayer } from '../gateway/payments.js'
import type { Logger } from '../observability/logger.js'
import type { ShoalLibp2p } from '../p2p/node.js'
import { createAiClient, createAiMetrics, type ModelLoad } from '../protocols/ai/index.js'
import type { GatewayPayments } from './payments.js'
import type { AttestedResponse } from '../gateway/verification/index.js'

/** Orchestrators a gateway talks to; past this the cache starts over. */
const MAX_CACHED_PEER_IDS = 4096

export interface AiSendDeps {
  logger: Logger
  payments: Pick<GatewayPayments, 'sender' | 'identity'> | undefined
  register: Registry | null
  /** a total deadline for attempts whose `SendOptions` give none */
  deadlineMs?: number
  /** live slots an orchestrator reported on its connection (Hello, Quote, Final) */
  onLoad?: (peerId: string, loads: ModelLoad[]) => void
  /** 'require': an answer without a valid signed receipt fails (the default); 'verify': only one present is checked */
  receipts?: 'require' | 'verify'
}

/**
 * The gateway's `send`: one job to one orchestrator over a pooled `/shoal/ai` stream,
 * paid with tickets on the same stream when payments are on. The attempt's deadlines
 * (`SendOptions.deadlineMs`, `firstByteDeadlineMs`) go to the client: a missed one
 * cancels the job on the orchestrator.
 */
export function aiSend (node: ShoalLibp2p, deps: AiSendDeps): SendJob {
  const client = createAiClient({
    dialProtocol: node.dialProtocol.bind(node),
    logger: deps.logger,
    metrics: deps.register === null ? null : createAiMetrics(deps.register),
    receipts: deps.receipts ?? 'require',
    ...(deps.onLoad !== undefined ? { onLoad: deps.onLoad } : {})
  })
  const payer = deps.payments === undefined ? undefined : createJobPayer({ client, sender: deps.payments.sender, identity: deps.payments.identity, logger: deps.logger })
  // parsing a peer id (base58) and printing it again cost ~20 µs a job: keep the objects
  const peers = new Map<string, PeerId>()
  const peerOf = (id: string): PeerId => {
    let peer = peers.get(id)
    if (peer === undefined) {
      if (peers.size >= MAX_CACHED_PEER_IDS) peers.clear()
      peer = peerIdFromString(id)
      peers.set(id, peer)
    }
    return peer
  }
  return async (peerId, job, options) => {
    const deadlineMs = options.deadlineMs ?? deps.deadlineMs
    const runOptions = {
      signal: options.signal,
      requestId: options.requestId,
      ...(deadlineMs === undefined ? {} : { deadlineMs }),
      ...(options.firstByteDeadlineMs === undefined ? {} : { firstByteDeadlineMs: options.firstByteDeadlineMs })
    }
    const peer = peerOf(peerId)
    const result = payer === undefined ? await client.runJob(peer, job, runOptions) : await payer.runJob(peer, job, runOptions)
    // the receipt the client checked, once the body has been read (src/gateway/verification);
    // the Final itself stays reachable too: custom capabilities read their compute time from it
    const attested: AttestedResponse & Pick<typeof result, 'final'> = { status: result.status, contentType: result.contentType, body: result.body, final: result.final, receipt: result.final.then(f => f.signedReceipt, () => undefined) }
    return attested
  }
}
