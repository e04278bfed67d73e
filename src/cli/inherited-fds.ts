import { closeSync, readdirSync, readlinkSync } from 'node:fs'

/**
 * Closes the descriptors this process inherited from its parent without asking for
 * them (Linux). Node opens its own files close-on-exec, but native libraries may not:
 * LevelDB's files (the orchestrator's datastore LOCK, LOG, MANIFEST, journal) reach a
 * runner child open, and a runner that outlived its orchestrator would keep them.
 *
 * An fd is inherited when the parent has the same number open on the very same object
 * (same path, or the same pipe or socket inode). Anonymous inodes (epoll, eventfd) are
 * left alone: their names carry no identity, and they may be this process's own.
 * Standard streams (0-2) are kept. Returns the closed descriptors' targets.
 */
export function closeInheritedDescriptors (parentPid: number = process.ppid): string[] {
  const closed: string[] = []
  let own: string[]
  try {
    own = readdirSync('/proc/self/fd')
  } catch {
    return closed // not Linux, or no /proc: nothing to compare with
  }
  for (const name of own) {
    const fd = Number(name)
    if (!Number.isInteger(fd) || fd <= 2) continue
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`)
      if (target.startsWith('anon_inode:')) continue
      if (readlinkSync(`/proc/${parentPid}/fd/${fd}`) !== target) continue
      closeSync(fd)
      closed.push(target)
    } catch {
      // closed meanwhile (the listing's own fd), or the parent does not have it
    }
  }
  return closed
}
