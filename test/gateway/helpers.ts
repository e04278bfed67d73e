import type { Candidate } from '../../src/gateway/selection/candidate.js'

/** A small seeded PRNG (mulberry32), so draws are reproducible. */
export function seededRandom (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function candidate (peerId: string, over: Partial<Candidate> = {}): Candidate {
  return {
    peerId,
    pipeline: 'upscale',
    modelId: 'esrgan-slim',
    warm: true,
    capacity: 4,
    inUse: 0,
    pricePerUnit: 1n,
    pixelsPerUnit: 1n,
    ...over
  }
}

/** how often each peer came first over `rounds` orders */
export function firstCounts (order: () => Candidate[], rounds: number): Map<string, number> {
  const counts = new Map<string, number>()
  for (let i = 0; i < rounds; i++) {
    const first = order()[0]?.peerId ?? 'none'
    counts.set(first, (counts.get(first) ?? 0) + 1)
  }
  return counts
}
