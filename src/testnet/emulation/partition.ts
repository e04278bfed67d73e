/**
 * Partitions of an emulated network: a set of hosts cut off from every other host of the
 * lab while they still reach each other (a split in two). Done with iptables DROP rules in
 * each member's namespace, for the addresses of the other side, in both directions:
 * packets vanish, nothing is reset, as in a real split. `healAll` flushes every rule.
 */
import type { NetnsLab } from '../netns.js'
import { runLabScript, shellCommand } from './batch.js'
import { EmulationError } from './errors.js'

const PARTITION_CHAIN = 'SHOAL_PART'

/**
 * Cuts `members` off from every other host of the lab (they keep reaching each other).
 * Adds to any partition already in place. One child process for all the rules (batch.ts).
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
  await runLabScript(`partition of ${members.join(', ')}`, members.map((name) => {
    const ns = (lab.hosts.get(name) as { namespace: string }).namespace
    const iptables = (...args: string[]): string => shellCommand(['ip', 'netns', 'exec', ns, 'iptables', '-w', ...args])
    return [
      // the chain once per namespace, hooked into INPUT and OUTPUT
      `${iptables('-n', '-L', PARTITION_CHAIN)} >/dev/null 2>&1 || { ${iptables('-N', PARTITION_CHAIN)} && ${iptables('-I', 'INPUT', '-j', PARTITION_CHAIN)} && ${iptables('-I', 'OUTPUT', '-j', PARTITION_CHAIN)}; }`,
      iptables('-A', PARTITION_CHAIN, '-s', list, '-j', 'DROP'),
      iptables('-A', PARTITION_CHAIN, '-d', list, '-j', 'DROP')
    ]
  }))
}

/** Removes every partition rule of the lab (hosts never partitioned have no chain: nothing to do). */
export async function healAll (lab: NetnsLab): Promise<void> {
  await runLabScript('heal', [...lab.hosts.values()].map(host =>
    [`${shellCommand(['ip', 'netns', 'exec', host.namespace, 'iptables', '-w', '-F', PARTITION_CHAIN])} 2>/dev/null || true`]))
}
