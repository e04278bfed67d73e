import type { DirectoryEntry } from '../../discovery/directory.js'

/** One custom capability as `GET /capabilities` lists it: what the mesh offers under its name. */
export interface CapabilityListing {
  name: string
  /** the operators' words, the first non-empty one seen */
  description: string
  orchestrators: Array<{ peer_id: string, capacity: number, load: string, price_per_second_wei: string, price_per_request_wei: string, runner: string }>
  /** the lowest price per second among them, wei */
  min_price_per_second_wei: string
  capacity: number
}

/** wei per second from a compute-ms price (`pricePerUnit` wei per `pixelsPerUnit` ms), rounded up. */
function perSecond (pricePerUnit: string, pixelsPerUnit: string): bigint {
  const per = BigInt(pixelsPerUnit)
  return (BigInt(pricePerUnit) * 1000n + per - 1n) / per
}

/** The custom capabilities in a directory, by name (pipeline `custom`, the name is the model id). */
export function listCustomCapabilities (entries: Iterable<Pick<DirectoryEntry, 'peerId' | 'announcement' | 'unreachable'>>): CapabilityListing[] {
  const byName = new Map<string, CapabilityListing & { min?: bigint }>()
  for (const entry of entries) {
    if (entry.unreachable) continue
    for (const offer of entry.announcement.models) {
      if (offer.pipeline !== 'custom') continue
      let listing = byName.get(offer.modelId)
      if (listing === undefined) {
        listing = { name: offer.modelId, description: '', orchestrators: [], min_price_per_second_wei: '0', capacity: 0 }
        byName.set(offer.modelId, listing)
      }
      if (listing.description === '' && offer.description !== undefined) listing.description = offer.description
      const price = perSecond(offer.pricePerUnit, offer.pixelsPerUnit)
      listing.orchestrators.push({ peer_id: entry.peerId, capacity: offer.capacity, load: offer.load, price_per_second_wei: price.toString(), price_per_request_wei: offer.pricePerRequest ?? '0', runner: offer.runnerVersion })
      listing.capacity += offer.capacity
      if (listing.min === undefined || price < listing.min) listing.min = price
    }
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name)).map(({ min, ...listing }) => ({ ...listing, min_price_per_second_wei: (min ?? 0n).toString() }))
}
