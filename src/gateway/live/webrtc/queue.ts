/**
 * A bounded queue of segments between a producer that must not wait (ffmpeg's output, a
 * session's output) and one consumer: past `limit` the oldest segment is dropped (each
 * segment decodes on its own, so dropping whole ones keeps the rest playable).
 */
export class SegmentQueue implements AsyncIterable<Uint8Array> {
  private readonly items: Uint8Array[] = []
  private waiter: (() => void) | undefined
  private ended = false
  constructor (private readonly limit: number, private readonly onDrop: () => void) {}

  push (segment: Uint8Array): void {
    if (this.ended) return
    if (this.items.length >= this.limit) { this.items.shift(); this.onDrop() }
    this.items.push(segment)
    this.wake()
  }

  end (): void { this.ended = true; this.items.length = 0; this.wake() }

  private wake (): void { const w = this.waiter; this.waiter = undefined; w?.() }

  async * [Symbol.asyncIterator] (): AsyncIterator<Uint8Array> {
    while (true) {
      const next = this.items.shift()
      if (next !== undefined) { yield next; continue }
      if (this.ended) return
      await new Promise<void>(resolve => { this.waiter = resolve })
    }
  }
}
