/**
 * Processes as Linux lists them in /proc: a process's descendants (runners, their ffmpeg
 * children), and its CPU time and resident memory, for leak checks and benches.
 */
import { readdir, readFile } from 'node:fs/promises'

/** Descendant pids of a process, depth first. */
export async function descendants (pid: number): Promise<number[]> {
  const parents = new Map<number, number[]>()
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)])
    } catch {}
  }
  const out: number[] = []
  const walk = (p: number): void => { for (const c of parents.get(p) ?? []) { out.push(c); walk(c) } }
  walk(pid)
  return out
}

/** A process's command name (`comm`), '' when it is gone. */
export async function processName (pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim()
}

/**
 * CPU seconds a process used (user + system), with `children` those of its children it
 * has waited for (short-lived ffmpeg runs); NaN when it is gone.
 */
export async function cpuSeconds (pid: number, options: { children?: boolean } = {}): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')
  if (stat === '') return NaN
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number)
  // fields from state (3rd of stat): utime 14, stime 15, cutime 16, cstime 17
  const ticks = f[11] + f[12] + (options.children === true ? f[13] + f[14] : 0)
  return ticks / 100
}

/** Resident memory of a process in MiB; NaN when it is gone. */
export async function rssMiB (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
  const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1]
  return kb === undefined ? NaN : Number(kb) / 1024
}
