/**
 * Partitions of an emulated network: a set of hosts cut off from every other host of the
 * lab while they still reach each other (a split in two). Done with iptables DROP rules in
 * each member's namespace, for the addresses of the other side, in both directions:
 * packets vanish, nothing is reset, as in a real split. `healAll` flushes every rule.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { NetnsLab } from '../netns.js'
import { EmulationError } from './errors.js'

const run = promisify(execFile)
const PARTITION_CHAIN = 'SHOAL_PART'

async function iptablesIn (namespace: string, args: string[]): Promise<void> {
  try {
    await run('ip', ['netns', 'exec', namespace, 'iptables', '-w', ...args], { timeout: 20_000 })
  } catch (err) {
    const detail = ((err as { stderr?: string }).stderr ?? (err as Error).message).trim()
    throw new EmulationError('EMULATION_ERROR_COMMAND', `iptables ${args.join(' ')} in ${namespace}: ${detail}`)
  }
}

async function ensureChain (namespace: string): Promise<void> {
  const exists = await run('ip', ['netns', 'exec', namespace, 'iptables', '-w', '-n', '-L', PARTITION_CHAIN], { timeout: 10_000 }).then(() => true, () => false)
  if (exists) return
  await iptablesIn(namespace, ['-N', PARTITION_CHAIN])
  await iptablesIn(namespace, ['-I', 'INPUT', '-j', PARTITION_CHAIN])
  await iptablesIn(namespace, ['-I', 'OUTPUT', '-j', PARTITION_CHAIN])
}

/**
 * Cuts `members` off from every other host of the lab (they keep reaching each other).
 * Adds to any partition already in place.
 */
export async function partition (lab: NetnsLab, members: readonly string[]): Promise<void> {
  const inside = new Set(members)
  for (const name of members) {
    if (!lab.hosts.has(name)) throw new EmulationError('EMULATION_ERROR_UNKNOWN_HOST', `no host "${name}" in lab ${lab.id}`)
  }
  const outside = [...lab.hosts.values()].filter(h => !inside.has(h.name)).map(h => h.address)
  if (outside.length === 0) return
  // iptables takes a comma-separated list and expands it into one rule per address
  const list = outside.join(',')
  await Promise.all(members.map(async (name) => {
    const ns = (lab.hosts.get(name) as { namespace: string }).namespace
    await ensureChain(ns)
    await iptablesIn(ns, ['-A', PARTITION_CHAIN, '-s', list, '-j', 'DROP'])
    await iptablesIn(ns, ['-A', PARTITION_CHAIN, '-d', list, '-j', 'DROP'])
  }))
}

/** Removes every partition rule of the lab. */
export async function healAll (lab: NetnsLab): Promise<void> {
  await Promise.all([...lab.hosts.values()].map(async (host) => {
    await run('ip', ['netns', 'exec', host.namespace, 'iptables', '-w', '-F', PARTITION_CHAIN], { timeout: 20_000 }).catch(() => {})
  }))
}
