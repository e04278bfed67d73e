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

/** Why a node is being started: with the mesh (nothing else to serve yet), or again once it runs (a scenario's restart or price change). */
export type LaunchKind = 'initial' | 'restart'

/**
 * The nice value a node starts at. In the mesh's start-up it is the `startup` one where
 * that is the higher priority: start-up is a few CPU-seconds, and behind dozens of
 * running nodes at the same priority a starting one made no progress; no request is
 * measured then. A node started again while the mesh serves load gets its role's: the
 * CPU it takes comes out of the orchestrators serving requests (nice 0): five restarts
 * at the startup priority (-10, nine times the weight of a nice-0 node) starved them in
 * the 50-host run (attempts past their first-byte deadline, p50 9 s against 0.1-0.4 s
 * before; at the role's 0.6 s). It then takes longer to listen (81-84 s there instead
 * of 26 s) than a host of its own would; the report shows how long.
 */
export function launchNice (roleNice: number | undefined, startupNice: number | undefined, kind: LaunchKind): number | undefined {
  if (roleNice === undefined || kind === 'restart') return roleNice
  return Math.min(roleNice, startupNice ?? roleNice)
}

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
