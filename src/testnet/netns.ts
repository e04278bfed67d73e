/**
 * Network namespaces for tests that need real hosts on one machine: a hub namespace
 * holding a bridge (the "switch"), and one namespace per host, joined to the bridge by a
 * veth pair. Every address lives inside the namespaces; nothing is added to the host's
 * own namespace (no address, no route, no bridge), so traffic can only flow between
 * processes started inside them (`ip netns exec`). A host's link can be cut (its port on
 * the switch goes down: packets vanish, nothing is reset) and healed.
 *
 * Names are unique per lab (a random prefix), so parallel runs never collide, and
 * `remove()` deletes every namespace, which destroys the veths and the bridge with them.
 * Needs root and iproute2's `ip`; `netnsSupport()` says whether both are there.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface NetnsHost {
  /** the name given to `addHost` */
  name: string
  /** the namespace's name, for `ip netns exec` */
  namespace: string
  /** its IPv4 address on the lab's subnet */
  address: string
  /** the veth end inside the host's namespace */
  device: string
  /** the veth end plugged into the hub's bridge: what `cut` takes down */
  switchPort: string
  /** `argv` prefixed to run a command inside this namespace */
  exec: (argv: string[]) => string[]
}

export interface NetnsLab {
  /** unique prefix of every namespace and device name of this lab */
  id: string
  /** the subnet, e.g. 10.201.0.0/24 */
  subnet: string
  /** the hub namespace holding the bridge and every host's switch port (for shaping a link from the switch side) */
  hub: string
  hosts: ReadonlyMap<string, NetnsHost>
  /** a new namespace with loopback up and one address on the lab's bridge */
  addHost: (name: string) => Promise<NetnsHost>
  /** takes the host's switch port down: its packets, and packets to it, are dropped */
  cut: (name: string) => Promise<void>
  /** brings the host's switch port back up */
  heal: (name: string) => Promise<void>
  /** whether the host's switch port is up */
  isUp: (name: string) => Promise<boolean>
  /** deletes every namespace of the lab (and with them the bridge and veths); idempotent */
  remove: () => Promise<void>
}

export interface NetnsLabOptions {
  /** the /24 to use, as its first three octets. @default '10.201.0' */
  subnetPrefix?: string
  /** path of the `ip` binary. @default 'ip' */
  ipCommand?: string
}

export type NetnsSupport = { ok: true } | { ok: false, reason: string }

/** Whether this process can create namespaces: root, and an `ip` that knows `netns`. */
export async function netnsSupport (ipCommand = 'ip'): Promise<NetnsSupport> {
  if (process.platform !== 'linux') return { ok: false, reason: `network namespaces need Linux (this is ${process.platform})` }
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { ok: false, reason: 'network namespaces need root' }
  try {
    await run(ipCommand, ['netns', 'list'], { timeout: 5_000 })
  } catch (err) {
    return { ok: false, reason: `\`${ipCommand} netns list\` failed: ${(err as Error).message.split('\n')[0]}` }
  }
  return { ok: true }
}

export class NetnsError extends Error {
  constructor (message: string, readonly command: string[]) {
    super(message)
    this.name = 'NetnsError'
  }
}

/** Creates the hub namespace and its bridge. Call `remove()` in a `finally`. */
export async function createNetnsLab (options: NetnsLabOptions = {}): Promise<NetnsLab> {
  const ipCommand = options.ipCommand ?? 'ip'
  const subnetPrefix = options.subnetPrefix ?? '10.201.0'
  // interface names are at most 15 bytes: prefix (6) + role letter + index (up to 3) fits
  const id = `sh${randomBytes(2).toString('hex')}`
  const hub = `${id}-hub`
  const bridge = `${id}br`
  const hosts = new Map<string, NetnsHost>()
  const namespaces: string[] = []
  const reserved = new Set<string>()
  let lastIndex = 0
  let removed = false

  const ip = async (...args: string[]): Promise<string> => {
    try {
      const { stdout } = await run(ipCommand, args, { timeout: 10_000 })
      return stdout
    } catch (err) {
      throw new NetnsError(`ip ${args.join(' ')}: ${((err as { stderr?: string }).stderr ?? (err as Error).message).trim()}`, [ipCommand, ...args])
    }
  }

  const remove = async (): Promise<void> => {
    if (removed) return
    removed = true
    // hosts first: the veth pairs go with them, then the hub and its bridge
    for (const ns of [...namespaces].reverse()) {
      await run(ipCommand, ['netns', 'del', ns], { timeout: 10_000 }).catch(() => {})
    }
  }

  // the host's device gets a MAC derived from its index, so that every host can be told
  // every other's address and MAC in advance (knowNeighbours)
  const macOf = (index: number): string => `02:53:${id.slice(2, 4)}:${id.slice(4, 6)}:00:${index.toString(16).padStart(2, '0')}`
  const known: Array<{ namespace: string, device: string, address: string, mac: string }> = []

  /**
   * Permanent neighbour (ARP) entries between the new host and every host already there,
   * both ways, in one child process. The kernel's neighbour table is shared by all
   * namespaces and holds at most `gc_thresh3` (1024 here) entries that it may collect: a
   * lab of 50 hosts talking to each other needs about 2,500, and past 1,024 new hosts got
   * EHOSTUNREACH ("neighbor table overflow" in the kernel log). Permanent entries are not
   * counted against it.
   */
  const knowNeighbours = async (host: { namespace: string, device: string, address: string, mac: string }): Promise<void> => {
    const lines = known.flatMap(other => [
      `${ipCommand} -n ${host.namespace} neigh replace ${other.address} lladdr ${other.mac} dev ${host.device} nud permanent`,
      `${ipCommand} -n ${other.namespace} neigh replace ${host.address} lladdr ${host.mac} dev ${other.device} nud permanent`
    ])
    known.push(host)
    if (lines.length === 0) return
    try {
      await run('sh', ['-e', '-c', lines.join('\n')], { timeout: 60_000 })
    } catch (err) {
      throw new NetnsError(`neighbour entries for ${host.address}: ${((err as { stderr?: string }).stderr ?? (err as Error).message).trim()}`, ['sh'])
    }
  }

  const hostOf = (name: string): NetnsHost => {
    const host = hosts.get(name)
    if (host === undefined) throw new NetnsError(`no host "${name}" in lab ${id}`, [])
    return host
  }

  try {
    await ip('netns', 'add', hub)
    namespaces.push(hub)
    await ip('-n', hub, 'link', 'set', 'lo', 'up')
    await ip('-n', hub, 'link', 'add', bridge, 'type', 'bridge')
    await ip('-n', hub, 'link', 'set', bridge, 'up')
  } catch (err) {
    await remove()
    throw err
  }

  return {
    id,
    subnet: `${subnetPrefix}.0/24`,
    hub,
    hosts,
    async addHost (name) {
      if (removed) throw new NetnsError(`lab ${id} was removed`, [])
      if (hosts.has(name) || reserved.has(name)) throw new NetnsError(`host "${name}" exists in lab ${id}`, [])
      // taken before the first await: concurrent addHost calls get distinct indexes
      const index = ++lastIndex
      reserved.add(name)
      if (index > 250) throw new NetnsError('a lab holds at most 250 hosts', [])
      const namespace = `${id}-${index}`
      const device = `${id}n${index}`
      const switchPort = `${id}s${index}`
      const address = `${subnetPrefix}.${index + 1}`
      await ip('netns', 'add', namespace)
      namespaces.push(namespace)
      await ip('-n', namespace, 'link', 'set', 'lo', 'up')
      // both ends are created straight inside their namespaces: none ever exists in the host's
      await ip('-n', hub, 'link', 'add', switchPort, 'type', 'veth', 'peer', 'name', device, 'netns', namespace)
      await ip('-n', hub, 'link', 'set', switchPort, 'master', bridge)
      await ip('-n', hub, 'link', 'set', switchPort, 'up')
      await ip('-n', namespace, 'link', 'set', device, 'address', macOf(index))
      await ip('-n', namespace, 'addr', 'add', `${address}/24`, 'dev', device)
      await ip('-n', namespace, 'link', 'set', device, 'up')
      await knowNeighbours({ namespace, device, address, mac: macOf(index) })
      const host: NetnsHost = {
        name,
        namespace,
        address,
        device,
        switchPort,
        exec: (argv) => [ipCommand, 'netns', 'exec', namespace, ...argv]
      }
      hosts.set(name, host)
      return host
    },
    async cut (name) {
      await ip('-n', hub, 'link', 'set', hostOf(name).switchPort, 'down')
    },
    async heal (name) {
      await ip('-n', hub, 'link', 'set', hostOf(name).switchPort, 'up')
    },
    async isUp (name) {
      const out = await ip('-n', hub, '-o', 'link', 'show', hostOf(name).switchPort)
      return /[<,]UP[,>]/.test(out)
    },
    remove
  }
}

/** Namespaces whose names start with `id` (for checking that a lab left nothing behind). */
export async function listLabNamespaces (id: string, ipCommand = 'ip'): Promise<string[]> {
  const { stdout } = await run(ipCommand, ['netns', 'list'], { timeout: 5_000 })
  return stdout.split('\n').map(line => line.split(' ')[0]).filter(name => name.startsWith(`${id}-`))
}
