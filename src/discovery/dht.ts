import type { AbortOptions, PeerInfo, ContentRouting } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import type { PipelineName } from '../kernel/pipelines.js'
import type { ModelOffer } from './announcement.js'

/**
 * DHT provider keys for capabilities: one per pipeline and one per (pipeline, model).
 * The key text is versioned so a change of scheme never collides with old records.
 */
export function capabilityKey (pipeline: PipelineName, modelId?: string): string {
  return modelId === undefined ? `/shoal/capability/1/${pipeline}` : `/shoal/capability/1/${pipeline}/${modelId}`
}

export async function capabilityCid (pipeline: PipelineName, modelId?: string): Promise<CID> {
  const digest = await sha256.digest(new TextEncoder().encode(capabilityKey(pipeline, modelId)))
  return CID.createV1(raw.code, digest)
}

/** The distinct keys an orchestrator provides for its offers. */
export async function capabilityCids (offers: ModelOffer[]): Promise<CID[]> {
  const keys = new Map<string, Promise<CID>>()
  for (const offer of offers) {
    keys.set(capabilityKey(offer.pipeline), capabilityCid(offer.pipeline))
    keys.set(capabilityKey(offer.pipeline, offer.modelId), capabilityCid(offer.pipeline, offer.modelId))
  }
  return await Promise.all(keys.values())
}

/** Provides every capability key; failures of single keys are returned, not thrown, so one bad key does not stop the rest. */
export async function provideCapabilities (routing: ContentRouting, offers: ModelOffer[], options: AbortOptions): Promise<{ provided: number, failed: number }> {
  const cids = await capabilityCids(offers)
  const results = await Promise.allSettled(cids.map(async cid => { await routing.provide(cid, options) }))
  return { provided: results.filter(r => r.status === 'fulfilled').length, failed: results.filter(r => r.status === 'rejected').length }
}

/** Providers of a capability, up to `limit`, ending when the signal aborts. */
export async function findCapabilityProviders (routing: ContentRouting, pipeline: PipelineName, modelId: string | undefined, options: AbortOptions & { limit?: number }): Promise<PeerInfo[]> {
  const cid = await capabilityCid(pipeline, modelId)
  const limit = options.limit ?? 20
  const found = new Map<string, PeerInfo>()
  try {
    for await (const provider of routing.findProviders(cid, options)) {
      found.set(provider.id.toString(), provider)
      if (found.size >= limit) break
    }
  } catch (err) {
    // an aborted lookup still returns what it found
    if (options.signal?.aborted !== true) throw err
  }
  return [...found.values()]
}
