/**
 * `AbortSignal.any`, with its sources kept alive for as long as the combined signal is.
 *
 * Node 20 holds the sources of `AbortSignal.any` weakly, and `AbortSignal.timeout`'s timer
 * holds its signal weakly too: a timeout that only the combined signal refers to is
 * collected by the next GC and never fires (nodejs/node#57736; 0 of 1,000 fired here
 * after a `gc()`). Every deadline built as `any([signal, AbortSignal.timeout(ms)])` could
 * be lost that way, and a peer that stops answering would then be waited on forever.
 * Here the combined signal holds its sources (a WeakMap keyed by it), so a timeout lives
 * while someone can still observe it, and is collected with it, timer and all, as before.
 */
const sourcesOf = new WeakMap<AbortSignal, readonly AbortSignal[]>()

export function anySignal (signals: readonly AbortSignal[]): AbortSignal {
  const combined = AbortSignal.any(signals as AbortSignal[])
  if (!combined.aborted) sourcesOf.set(combined, signals)
  return combined
}
