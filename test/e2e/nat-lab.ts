/**
 * A home network behind NAT, added to a namespace lab (src/testnet/netns.ts): a router
 * host on the lab's bridge with a second, private link to one more namespace (the
 * "home"), which routes through it. The router masquerades the home's connections
 * (iptables MASQUERADE on its public link) and drops every connection that starts from
 * the public side, as a home router does: the home can dial out, nobody can dial in.
 * Every address and rule lives inside namespaces this creates.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { NetnsHost, NetnsLab } from '../../src/testnet/netns.js'

const run = promisify(execFile)

export interface NatHome {
  router: NetnsHost
  /** the home namespace, for `ip netns exec` */
  namespace: string
  /** the home's private address (no public host has a route to it) */
  address: string
  exec: (argv: string[]) => string[]
  /** packets the router masqueraded so far */
  masqueraded: () => Promise<number>
  remove: () => Promise<void>
}

async function sh (argv: string[]): Promise<string> {
  try {
    const { stdout } = await run(argv[0], argv.slice(1), { timeout: 10_000 })
    return stdout
  } catch (err) {
    throw new Error(`${argv.join(' ')}: ${((err as { stderr?: string }).stderr ?? (err as Error).message).trim()}`)
  }
}

export async function addNatHome (lab: NetnsLab, name: string, privatePrefix = '10.234.0'): Promise<NatHome> {
  const router = await lab.addHost(`${name}-router`)
  const namespace = `${lab.id}-${name}`
  const inside = `${lab.id}h${name.slice(0, 3)}`
  const outside = `${lab.id}r${name.slice(0, 3)}`
  const address = `${privatePrefix}.2`
  const inRouter = (argv: string[]): string[] => ['ip', 'netns', 'exec', router.namespace, ...argv]
  const remove = async (): Promise<void> => { await run('ip', ['netns', 'del', namespace], { timeout: 10_000 }).catch(() => {}) }
  try {
    await sh(['ip', 'netns', 'add', namespace])
    await sh(['ip', '-n', namespace, 'link', 'set', 'lo', 'up'])
    await sh(['ip', '-n', router.namespace, 'link', 'add', outside, 'type', 'veth', 'peer', 'name', inside, 'netns', namespace])
    await sh(['ip', '-n', router.namespace, 'addr', 'add', `${privatePrefix}.1/24`, 'dev', outside])
    await sh(['ip', '-n', router.namespace, 'link', 'set', outside, 'up'])
    await sh(['ip', '-n', namespace, 'addr', 'add', `${address}/24`, 'dev', inside])
    await sh(['ip', '-n', namespace, 'link', 'set', inside, 'up'])
    await sh(['ip', '-n', namespace, 'route', 'add', 'default', 'via', `${privatePrefix}.1`])
    await sh(inRouter(['sysctl', '-qw', 'net.ipv4.ip_forward=1']))
    await sh(inRouter(['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-s', `${privatePrefix}.0/24`, '-o', router.device, '-j', 'MASQUERADE']))
    await sh(inRouter(['iptables', '-A', 'FORWARD', '-i', router.device, '-o', outside, '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT']))
    await sh(inRouter(['iptables', '-A', 'FORWARD', '-i', router.device, '-o', outside, '-j', 'DROP']))
  } catch (err) {
    await remove()
    throw err
  }
  return {
    router,
    namespace,
    address,
    exec: (argv) => ['ip', 'netns', 'exec', namespace, ...argv],
    async masqueraded () {
      const out = await sh(inRouter(['iptables', '-t', 'nat', '-L', 'POSTROUTING', '-n', '-v', '-x']))
      const line = out.split('\n').find(l => l.includes('MASQUERADE'))
      return Number(line?.trim().split(/\s+/)[0] ?? 0)
    },
    remove
  }
}
