/**
 * A token bucket per key (the announcing peer). Bounded: the least recently seen keys
 * are forgotten past `maxKeys`, so a flood of fresh identities cannot grow memory.
 */
export class PerPeerRateLimiter {
  private readonly buckets = new Map<string, { tokens: number, at: number }>()

  constructor (private readonly burst: number, private readonly perSecond: number, private readonly maxKeys = 10_000) {}

  /** Takes one token for `key`; false when the key is over its rate. */
  take (key: string, now: number): boolean {
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now }
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond)
    bucket.at = now
    const allowed = bucket.tokens >= 1
    if (allowed) bucket.tokens -= 1
    this.buckets.delete(key)
    this.buckets.set(key, bucket)
    if (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next().value
      if (oldest !== undefined) this.buckets.delete(oldest)
    }
    return allowed
  }
}
