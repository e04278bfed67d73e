/**
 * Waiting for a condition in tests: poll until it holds, fail naming what was awaited.
 * Timeouts are generous (machines under load); never a fixed sleep for correctness.
 */
export async function waitFor (check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition', intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, intervalMs))
  }
}

/** Polls `probe` until it returns a value (not undefined), and returns it. */
export async function waitForValue<T> (probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, what = 'a value', intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, intervalMs))
  }
}
