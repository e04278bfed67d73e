import { peerIdFromString } from '@libp2p/peer-id'
import type { SendJob } from '../gateway/dispatch/index.js'
import type { Logger } from '../observability/logger.js'
import type { ShoalLibp2p } from '../p2p/node.js'
import { createAiClient, type AiClient } from '../protocols/ai/index.js'

/** The gateway's `send`: one job to one orchestrator over a pooled `/shoal/ai` stream. */
export function aiSend (logger: Logger, init: { deadlineMs?: number } = {}) {
  return (node: ShoalLibp2p): SendJob => {
    const client: AiClient = createAiClient({ dialProtocol: node.dialProtocol.bind(node), logger })
    return async (peerId, job, options) => {
      return await client.runJob(peerIdFromString(peerId), job, { signal: options.signal, requestId: options.requestId, deadlineMs: init.deadlineMs })
    }
  }
}
