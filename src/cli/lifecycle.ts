import type { Logger } from '../observability/logger.js'
import { watchParent, type ParentWatchdog } from './parent-watchdog.js'
import { STOP_ON_STDIN_END } from '../testnet/child.js'

/** After its parent is gone, a node stops gracefully or, past this, exits anyway. */
const PARENT_GONE_EXIT_MS = 15_000

export interface Running {
  stop: () => Promise<void>
}

/**
 * Starts a role and keeps it up until SIGINT or SIGTERM, then stops it once, gracefully.
 * A second signal exits at once. Start-up is aborted if a signal arrives during it.
 */
export async function runUntilSignal (logger: Logger, start: (signal: AbortSignal) => Promise<Running>): Promise<void> {
  const controller = new AbortController()
  let running: Running | undefined
  let stopping = false
  const done = Promise.withResolvers<void>()

  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now')
      process.exit(130)
    }
    stopping = true
    logger.info({ signal }, 'shutting down')
    controller.abort()
    const stop = running?.stop() ?? Promise.resolve()
    stop.then(() => { done.resolve() }, (err) => { logger.error({ err }, 'shutdown failed'); done.resolve() })
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  // a node started by `shoal testnet` stops when its parent goes away, even if the parent was killed
  const onParentGone = (): void => {
    if (stopping) return
    // nobody is left to stop us if the graceful stop hangs: exit anyway after a while
    setTimeout(() => { process.exit(1) }, PARENT_GONE_EXIT_MS).unref()
    onSignal('SIGTERM')
  }
  let watchdog: ParentWatchdog | undefined
  if (process.env[STOP_ON_STDIN_END] === '1') {
    process.stdin.on('end', onParentGone).on('error', onParentGone).resume()
    // and in case the end of stdin is missed or the main thread is stuck: a thread of its
    // own sees the parent die, asks for the graceful stop and kills us after the grace
    watchdog = watchParent({ graceMs: PARENT_GONE_EXIT_MS + 5_000, onGone: onParentGone, onError: (err) => { logger.error({ err }, 'parent watchdog failed') } })
  }
  try {
    running = await start(controller.signal)
    if (stopping) await running.stop()
    else await done.promise
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await watchdog?.stop()
    process.stdin.off('end', onParentGone).off('error', onParentGone)
    if (process.env[STOP_ON_STDIN_END] === '1') process.stdin.pause()
  }
}

/**
 * The `listening` line, unless a signal arrived while the node started: the node is
 * stopping, and a script (or `shoal testnet`) that waits for the line must not take it
 * as up.
 */
export function printListening (signal: AbortSignal, fields: Record<string, unknown>): void {
  if (signal.aborted) return
  printEvent('listening', fields)
}

/** One machine-readable line on stdout, for scripts and `shoal testnet` (logs go to stderr). */
export function printEvent (event: string, fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`)
}
