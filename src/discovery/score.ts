import { createTopicScoreParams, type PeerScoreParams } from '@libp2p/gossipsub/score'
import { ANNOUNCEMENT_TOPIC } from './constants.js'

/**
 * Gossipsub scoring for the announcement topic: each rejected message costs its sender
 * heavily, so a peer sending forged, replayed or flooding announcements is quickly
 * graylisted. IP colocation is not penalised because test meshes and many operators
 * run several nodes behind one address.
 */
export function announcementScoreParams (): Partial<PeerScoreParams> {
  return {
    IPColocationFactorWeight: 0,
    topics: {
      [ANNOUNCEMENT_TOPIC]: createTopicScoreParams({
        topicWeight: 1,
        timeInMeshWeight: 0.01,
        timeInMeshQuantum: 1000,
        timeInMeshCap: 100,
        firstMessageDeliveriesWeight: 0,
        meshMessageDeliveriesWeight: 0,
        meshFailurePenaltyWeight: 0,
        invalidMessageDeliveriesWeight: -100,
        invalidMessageDeliveriesDecay: 0.9
      })
    }
  }
}
