import type { Candidate } from '../../src/gateway/selection/candidate.js'

export { seededRandom } from '../../src/cpu-runner/models/seeded-random.js'

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
