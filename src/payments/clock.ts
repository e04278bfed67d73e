/** Time source injected into payments (tests pass a manual one). Milliseconds since the epoch. */
export interface Clock {
  now: () => number
}

export const systemClock: Clock = { now: () => Date.now() }

/** A clock tests move by hand. */
export function manualClock (start = 1_700_000_000_000): Clock & { advance: (ms: number) => void, set: (ms: number) => void } {
  let t = start
  return {
    now: () => t,
    advance: (ms) => { t += ms },
    set: (ms) => { t = ms }
  }
}
