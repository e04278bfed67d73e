import { Worker } from 'node:worker_threads'

/**
 * The watchdog runs in its own thread, so it fires even when the main thread is
 * blocked (a model busy on it, a synchronous loop): every `intervalMs` it compares
 * the parent pid with the one it started with; once the parent is gone (we were
 * reparented to init or a subreaper) it tells the main thread (`onGone`, a graceful
 * stop if the main thread can still run), and sends this process SIGKILL `graceMs`
 * later if it is still there. Plain CommonJS source: it runs the same from `src/` (tsx)
 * and `dist/`.
 */
const WATCHDOG_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads')
const { parent, graceMs, intervalMs } = workerData
const timer = setInterval(() => {
  if (process.ppid === parent) return
  clearInterval(timer)
  parentPort.postMessage('parent-gone')
  setTimeout(() => { process.kill(process.pid, 'SIGKILL') }, graceMs)
}, intervalMs)
`

export interface ParentWatchdogOptions {
  /** after the parent is gone: time for a graceful stop before SIGKILL */
  graceMs: number
  /** @default 250 */
  intervalMs?: number
  /** runs on the main thread once the parent is gone (if the main thread still runs) */
  onGone: () => void
  /** the watchdog thread failed (it then watches no more) */
  onError?: (err: Error) => void
}

export interface ParentWatchdog {
  /** ends the watchdog thread (a graceful stop that finished needs it no more) */
  stop: () => Promise<void>
}

/** Ties this process's life to its parent's, independently of the main thread. */
export function watchParent (options: ParentWatchdogOptions): ParentWatchdog {
  const worker = new Worker(WATCHDOG_SOURCE, {
    eval: true,
    workerData: { parent: process.ppid, graceMs: options.graceMs, intervalMs: options.intervalMs ?? 250 },
    stdout: false,
    stderr: false
  })
  worker.on('message', () => { options.onGone() })
  // a watchdog that could not start must not take the process down with it
  worker.on('error', (err) => { options.onError?.(err) })
  // it never keeps the process alive by itself
  worker.unref()
  return {
    stop: async () => { await worker.terminate() }
  }
}
