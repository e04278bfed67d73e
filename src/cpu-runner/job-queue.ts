import { RunnerBusyError } from './errors.js'

export interface JobQueue {
  /** Waits for a free slot (FIFO); throws `RunnerBusyError` when `maxQueue` jobs already wait. */
  acquire: (signal: AbortSignal) => Promise<() => void>
  readonly running: number
  readonly waiting: number
}

/** A FIFO limiter: `concurrency` jobs run at once, at most `maxQueue` wait. */
export function createJobQueue (concurrency: number, maxQueue: number): JobQueue {
  let running = 0
  const waiters: Array<{ grant: () => void }> = []

  const release = (): void => {
    const next = waiters.shift()
    if (next !== undefined) next.grant()
    else running--
  }

  return {
    get running () { return running },
    get waiting () { return waiters.length },
    acquire: async (signal) => {
      signal.throwIfAborted()
      if (running < concurrency) {
        running++
        return once(release)
      }
      if (waiters.length >= maxQueue) throw new RunnerBusyError(`the runner is busy: ${running} jobs running and ${waiters.length} waiting`)
      return await new Promise<() => void>((resolve, reject) => {
        const waiter = {
          grant: () => {
            signal.removeEventListener('abort', onAbort)
            resolve(once(release))
          }
        }
        const onAbort = (): void => {
          const index = waiters.indexOf(waiter)
          if (index >= 0) waiters.splice(index, 1)
          reject(signal.reason)
        }
        signal.addEventListener('abort', onAbort, { once: true })
        waiters.push(waiter)
      })
    }
  }
}

function once (fn: () => void): () => void {
  let called = false
  return () => {
    if (called) return
    called = true
    fn()
  }
}
