import { multiaddr, type Component } from '@multiformats/multiaddr'

/** The transports a Shoal node dials with (see `createShoalNode`): relay means through a circuit relay v2. */
export type TransportKind = 'tcp' | 'quic' | 'relay' | 'memory'

/** Where an address leads: its transport and its host (IP, DNS name or memory name; for a relayed address, the relay's host). */
export interface AddressTarget {
  transport: TransportKind
  host: string
}

const HOST_PROTOCOLS = new Set(['ip4', 'ip6', 'dns', 'dns4', 'dns6', 'dnsaddr'])
const UNSPECIFIED = new Set(['0.0.0.0', '::'])

/** A direct (TCP or QUIC) target from components, or undefined. */
function directTarget (components: Component[]): AddressTarget | undefined {
  const [first, second, third, ...rest] = components
  if (first === undefined) return undefined
  if (first.name === 'memory') {
    return first.value === undefined || first.value === '' || [second, third, ...rest].some(c => c !== undefined && c.name !== 'p2p') ? undefined : { transport: 'memory', host: `memory/${first.value}` }
  }
  if (!HOST_PROTOCOLS.has(first.name) || first.value === undefined || UNSPECIFIED.has(first.value)) return undefined
  if (second?.value === undefined || Number(second.value) === 0) return undefined
  let transport: TransportKind
  let tail: Component[]
  if (second.name === 'tcp') {
    transport = 'tcp'
    tail = third === undefined ? rest : [third, ...rest]
  } else if (second.name === 'udp' && third?.name === 'quic-v1') {
    transport = 'quic'
    tail = rest
  } else {
    return undefined
  }
  // anything after the transport other than the peer id (ws, tls, webtransport, ...) needs a transport Shoal lacks
  if (tail.some(c => c.name !== 'p2p')) return undefined
  return { transport, host: first.value.toLowerCase() }
}

/**
 * Parses an announced address into a dial target, or undefined when this address
 * cannot be dialled by any Shoal transport: not a multiaddr, an unspecified host, port 0,
 * a transport Shoal does not have, or a relayed address whose relay part is one of those
 * or that names no relay peer. A relayed address's host is the relay's, prefixed with
 * `relay/`: per-host caps then count the peers behind one relay apart from those at its
 * IP. Cheap and never throws: it runs on every announcement, including a flood of made-up ones.
 */
export function addressTarget (address: string): AddressTarget | undefined {
  let components
  try {
    components = multiaddr(address).getComponents()
  } catch {
    return undefined
  }
  const circuit = components.findIndex(c => c.name === 'p2p-circuit')
  if (circuit === -1) return directTarget(components)
  const relayPart = components.slice(0, circuit)
  const after = components.slice(circuit + 1)
  if (relayPart.at(-1)?.name !== 'p2p' || after.some(c => c.name !== 'p2p') || after.length > 1) return undefined
  const relay = directTarget(relayPart)
  if (relay === undefined || relay.transport === 'memory') return undefined
  return { transport: 'relay', host: `relay/${relay.host}` }
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
