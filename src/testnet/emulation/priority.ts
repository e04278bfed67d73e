/**
 * CPU priorities of an emulated mesh's processes. Linux with `sched_autogroup_enabled`
 * (the default on desktop and server kernels alike, and here) first shares the CPU
 * between sessions ("autogroups"), equally, and only then between the processes of a
 * session by their nice value. Every node is started detached (a session of its own),
 * so a nice value alone changed nothing: a 50-host run's gateway at nice -15 still got
 * 1/60 of the machine (3 % of a core; its accept queue filled and no request was
 * answered). A session's share is set by writing a nice value to
 * /proc/PID/autogroup; both are set here.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { setPriority } from 'node:os'

/** Sets the nice value of every thread of `pid` and of its session's autogroup (where the kernel has them). */
export async function setProcessPriority (pid: number, nice: number): Promise<void> {
  for (const tid of await readdir(`/proc/${pid}/task`).catch((): string[] => [])) {
    try { setPriority(Number(tid), nice) } catch { /* the thread ended */ }
  }
  await setAutogroupNice(pid, nice)
}

/** The autogroup of `pid`'s session at `nice`; nothing where autogroups are off or absent. */
export async function setAutogroupNice (pid: number | 'self', nice: number): Promise<void> {
  await writeFile(`/proc/${pid}/autogroup`, String(nice)).catch(() => {})
}

/** The nice value of `pid`'s autogroup, or undefined where there is none. */
export async function autogroupNice (pid: number | 'self'): Promise<number | undefined> {
  const text = await readFile(`/proc/${pid}/autogroup`, 'utf8').catch(() => '')
  const m = /nice (-?\d+)/.exec(text)
  return m === null ? undefined : Number(m[1])
}
