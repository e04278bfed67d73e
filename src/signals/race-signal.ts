/**
 * Resolves when `promise` does, rejects when `signal` aborts first (with its reason).
 * One promise and one listener per call, removed when the promise settles (it runs for
 * every `/shoal/ai` frame and result chunk, and on long-lived signals must not leave
 * listeners behind).
 */
export async function raceSignal<T> (promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal === undefined) return await promise
  signal.throwIfAborted()
  return await new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then((value) => {
      signal.removeEventListener('abort', onAbort)
      resolve(value)
    }, (err: unknown) => {
      signal.removeEventListener('abort', onAbort)
      reject(err)
    })
  })
}
