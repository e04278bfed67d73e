import { multiaddr } from '@multiformats/multiaddr'

/** The transports a Shoal node dials with (see `createShoalNode`). */
export type TransportKind = 'tcp' | 'memory'

/** Where an address leads: its transport and its host (IP, DNS name or memory name). */
export interface AddressTarget {
  transport: TransportKind
  host: string
}

const HOST_PROTOCOLS = new Set(['ip4', 'ip6', 'dns', 'dns4', 'dns6', 'dnsaddr'])
const UNSPECIFIED = new Set(['0.0.0.0', '::'])

/**
 * Parses an announced address into a dial target, or undefined when this address
 * cannot be dialled by any Shoal transport: not a multiaddr, a relay, an unspecified
 * host, port 0, or a transport Shoal does not have. Cheap and never throws: it runs on
 * every announcement, including a flood of made-up ones.
 */
export function addressTarget (address: string): AddressTarget | undefined {
  let components
  try {
    components = multiaddr(address).getComponents()
  } catch {
    return undefined
  }
  const [first, second, ...rest] = components
  if (first === undefined) return undefined
  if (rest.some(c => c.name === 'p2p-circuit')) return undefined
  if (first.name === 'memory') {
    return first.value === undefined || first.value === '' ? undefined : { transport: 'memory', host: `memory/${first.value}` }
  }
  if (!HOST_PROTOCOLS.has(first.name) || first.value === undefined || UNSPECIFIED.has(first.value)) return undefined
  if (second?.name !== 'tcp' || second.value === undefined || Number(second.value) === 0) return undefined
  // anything after /tcp/port other than the peer id (ws, tls, ...) needs a transport Shoal lacks
  if (rest.some(c => c.name !== 'p2p')) return undefined
  return { transport: 'tcp', host: first.value.toLowerCase() }
}

/** The hosts of the addresses `transports` can dial, distinct; empty when none can be dialled. */
export function dialableHosts (addresses: readonly string[], transports: ReadonlySet<TransportKind>): string[] {
  const hosts = new Set<string>()
  for (const address of addresses) {
    const target = addressTarget(address)
    if (target !== undefined && transports.has(target.transport)) hosts.add(target.host)
  }
  return [...hosts]
}
